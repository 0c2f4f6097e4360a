/**
 * A small in-memory {@link StoreView} for tests, recorded session vectors and benchmarks of
 * the session engine. It keeps items and tombstones in maps, orders listings by store order
 * or use, and applies the transfer modes and overflow policies as the SQLite store does:
 * an `update` replaces with a tombstone, a replace-all and an eviction purge (no tombstone),
 * a replace-all makes its room from what it replaces, and a victim the peer may lack is
 * offered first. It does not parse X.509: a listed item's subject is its label, `update`
 * replaces only an item with the same label, and "least recently used" is "fewest uses".
 * The node layer's SQLite store is the real implementation.
 */

import { sha256 } from '@noble/hashes/sha2.js';

import type { TransferMode } from '../messages/catalog.ts';
import type { Item, ItemResult, ListEntry, StoreSummary, Tombstone } from '../messages/records.ts';
import type {
  ListQuery,
  ListResult,
  ReceiveContext,
  ReceiveOutcome,
  StoreView,
} from './store-view.ts';
import { bytesOf, hexOf } from '../wire/hex.ts';

/** What a memory store does when it is full. */
export type OverflowPolicy = 'lru' | 'alert' | 'refuse';

/** A store of items in insertion order, with a capacity and an overflow policy. */
export class MemoryStore implements StoreView {
  readonly live = new Map<string, Item>();
  readonly tombstones = new Map<string, Tombstone>();
  /** The store's clock: above every version it wrote or took. */
  private clock = 0;

  constructor(
    readonly capacity: number | null = null,
    readonly policy: OverflowPolicy = 'refuse',
    readonly digest: Uint8Array = new Uint8Array(0),
  ) {}

  /** Adds an item directly (as an import would) and returns its hex id. */
  put(item: Item): string {
    const id = hexOf(sha256(item.der as Uint8Array));
    this.live.set(id, item);
    this.tombstones.delete(id);
    this.clock = Math.max(this.clock, item.clock);
    return id;
  }

  summary(): StoreSummary {
    const items = [...this.live.values()];
    const crls = items.filter((i) => i.kind === 'crl').length;
    return {
      certificates: items.length - crls,
      crls,
      digest: this.digest,
      ...(this.capacity === null
        ? {}
        : { capacity: this.capacity, free: Math.max(0, this.capacity - items.length) }),
    };
  }

  list(q: ListQuery): ListResult {
    let ids = [...this.live.keys()];
    if (q.only) ids = ids.filter((id) => q.only?.has(id));
    if (q.order === 'use') {
      ids.sort((a, b) => (this.live.get(b)?.useCount ?? 0) - (this.live.get(a)?.useCount ?? 0));
    } else if (q.order === 'subject' || q.order === 'contact') {
      ids.sort((a, b) =>
        (this.live.get(a)?.label ?? '').localeCompare(this.live.get(b)?.label ?? ''),
      );
    }
    const from = q.cursor ? (q.cursor[0] as number) * 256 + (q.cursor[1] as number) : 0;
    const page = ids.slice(from, from + q.limit);
    const end = from + page.length;
    return {
      entries: page.map((id) => this.entry(id)),
      total: ids.length,
      ...(end < ids.length ? { next: Uint8Array.of(end >> 8, end & 0xff) } : {}),
    };
  }

  /** The listing line of one live item. */
  entry(id: string): ListEntry {
    const it = this.live.get(id) as Item;
    return {
      id: bytesOf(id),
      kind: it.kind,
      subject: it.label ?? '',
      issuer: '',
      emails: [],
      notBefore: 0,
      notAfter: 0,
      pinned: it.pinned,
      useCount: it.useCount ?? 0,
      addedAt: it.addedAt ?? 0,
      size: it.der?.length ?? 0,
    };
  }

  selectAll(): readonly string[] {
    return [...this.live.keys()];
  }

  read(ids: readonly string[]): readonly (Item | Tombstone)[] {
    const out: (Item | Tombstone)[] = [];
    for (const id of ids) {
      const e = this.live.get(id) ?? this.tombstones.get(id);
      if (e) out.push(e);
    }
    return out;
  }

  receive(
    entry: Item | Tombstone,
    mode: TransferMode,
    victim?: string,
    context: ReceiveContext = NOTHING_KNOWN,
  ): ReceiveOutcome {
    if ('deletedAt' in entry) {
      const id = hexOf(entry.id);
      const had = this.live.delete(id);
      this.tombstones.set(id, entry);
      this.clock = Math.max(this.clock, entry.clock);
      return done({ id: entry.id, outcome: had ? 'deleted' : 'unchanged' });
    }
    if (entry.der === undefined) {
      const id = hexOf(entry.id as Uint8Array);
      const old = this.live.get(id);
      if (!old) return done({ id: bytesOf(id), outcome: 'refused', code: 'not-found' });
      this.live.set(id, { ...old, pinned: entry.pinned, clock: entry.clock, origin: entry.origin });
      return done({ id: bytesOf(id), outcome: 'updated' });
    }
    const id = hexOf(sha256(entry.der));
    if (this.live.has(id)) return done({ id: bytesOf(id), outcome: 'unchanged' });
    const { peerHolds, carried } = context;
    const target = mode === 'update' ? this.updateTarget(entry, carried) : undefined;
    if (victim !== undefined) {
      if (victim === target) this.delete(victim);
      else this.live.delete(victim);
      return this.store(id, entry, victim);
    }
    if (target !== undefined) {
      this.delete(target);
      return this.store(id, entry, target);
    }
    if (this.capacity === null || this.live.size < this.capacity) return this.store(id, entry);
    const room = this.roomVictim(mode, carried, peerHolds);
    if (room === 'alert') {
      const unpinned = [...this.live].filter(([, v]) => !v.pinned);
      return { kind: 'overflow', candidates: unpinned.slice(0, 16).map(([k]) => this.entry(k)) };
    }
    if (room === null) return done({ id: bytesOf(id), outcome: 'refused', code: 'store-full' });
    if (!peerHolds.has(room)) return { kind: 'offer-first', victim: room };
    this.live.delete(room);
    return this.store(id, entry, room);
  }

  /** The item an update replaces: the first with the same label, not pinned, not carried. */
  private updateTarget(entry: Item, carried: ReadonlySet<string>): string | undefined {
    if (entry.label === undefined) return undefined;
    return [...this.live].find(
      ([k, v]) => v.label === entry.label && !v.pinned && !carried.has(k),
    )?.[0];
  }

  /**
   * What makes room in a full store: under replace-all, whatever the policy, an item the
   * transfer has not carried (one the peer holds first, then unpinned, then pinned; fewest
   * uses first); else `lru` evicts the least used unpinned item not carried, `alert` asks
   * and `refuse` refuses (null).
   */
  private roomVictim(
    mode: TransferMode,
    carried: ReadonlySet<string>,
    peerHolds: ReadonlySet<string>,
  ): string | 'alert' | null {
    const uses = (k: string) => this.live.get(k)?.useCount ?? 0;
    const others = [...this.live.keys()].filter((k) => !carried.has(k));
    others.sort((a, b) => uses(a) - uses(b));
    if (mode === 'replace-all') {
      const pinned = (k: string) => this.live.get(k)?.pinned === true;
      const rank = (k: string) => (peerHolds.has(k) ? 0 : pinned(k) ? 2 : 1);
      return others.sort((a, b) => rank(a) - rank(b))[0] ?? null;
    }
    if (this.policy === 'alert' && [...this.live.values()].some((v) => !v.pinned)) return 'alert';
    if (this.policy !== 'lru') return null;
    return others.find((k) => this.live.get(k)?.pinned === false) ?? null;
  }

  private store(id: string, entry: Item, replaced?: string): ReceiveOutcome {
    this.clock = Math.max(this.clock, entry.clock);
    this.live.set(id, entry);
    this.tombstones.delete(id);
    return done({
      id: bytesOf(id),
      outcome: replaced !== undefined ? 'updated' : 'stored',
      ...(replaced !== undefined ? { replaced: bytesOf(replaced) } : {}),
    });
  }

  removeAllExcept(keep: ReadonlySet<string>): number {
    let removed = 0;
    for (const id of [...this.live.keys()]) {
      if (keep.has(id)) continue;
      this.live.delete(id);
      removed++;
    }
    return removed;
  }

  delete(id: string): ItemResult {
    const it = this.live.get(id);
    if (!it) return { id: bytesOf(id), outcome: 'not-found' };
    this.live.delete(id);
    this.clock += 1;
    this.tombstones.set(id, {
      kind: it.kind,
      id: bytesOf(id),
      clock: this.clock,
      origin: it.origin,
      deletedAt: 0,
    });
    return { id: bytesOf(id), outcome: 'deleted' };
  }
}

const NOTHING_KNOWN: ReceiveContext = { peerHolds: new Set(), carried: new Set() };

function done(result: ItemResult): ReceiveOutcome {
  return { kind: 'done', result };
}
