/**
 * A small in-memory {@link StoreView} for tests, recorded session vectors and benchmarks of
 * the session engine. It keeps items and tombstones in a map, orders listings by store
 * order or use, and applies the overflow policies. It does not parse X.509: a listed
 * item's subject is its label, and `update` replaces only an item with the same label.
 * The node layer's SQLite store is the real implementation.
 */

import { sha256 } from '@noble/hashes/sha2.js';

import type { TransferMode } from '../messages/catalog.ts';
import type { Item, ItemResult, ListEntry, StoreSummary, Tombstone } from '../messages/records.ts';
import type { ListQuery, ListResult, ReceiveOutcome, StoreView } from './store-view.ts';
import { bytesOf, hexOf } from '../wire/hex.ts';

/** What a memory store does when it is full. */
export type OverflowPolicy = 'lru' | 'alert' | 'refuse';

/** A store of items in insertion order, with a capacity and an overflow policy. */
export class MemoryStore implements StoreView {
  readonly live = new Map<string, Item>();
  readonly tombstones = new Map<string, Tombstone>();

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

  receive(entry: Item | Tombstone, mode: TransferMode, victim?: string): ReceiveOutcome {
    if ('deletedAt' in entry) {
      const id = hexOf(entry.id);
      const had = this.live.delete(id);
      this.tombstones.set(id, entry);
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
    let replaced: string | undefined;
    if (mode === 'update' && entry.label !== undefined) {
      replaced = [...this.live].find(([, v]) => v.label === entry.label)?.[0];
      if (replaced !== undefined) this.live.delete(replaced);
    }
    if (victim !== undefined) this.live.delete(victim);
    if (this.capacity !== null && this.live.size >= this.capacity) {
      const unpinned = [...this.live].filter(([, v]) => !v.pinned);
      if (this.policy === 'alert' && unpinned.length > 0) {
        return { kind: 'overflow', candidates: unpinned.slice(0, 16).map(([k]) => this.entry(k)) };
      }
      if (this.policy === 'lru' && unpinned.length > 0) {
        // Offer the least used item before evicting it: it may be the last copy.
        unpinned.sort(([, a], [, b]) => (a.useCount ?? 0) - (b.useCount ?? 0));
        return { kind: 'offer-first', victim: (unpinned[0] as [string, Item])[0] };
      } else {
        return done({ id: bytesOf(id), outcome: 'refused', code: 'store-full' });
      }
    }
    this.live.set(id, entry);
    return done({
      id: bytesOf(id),
      outcome: replaced !== undefined || victim !== undefined ? 'updated' : 'stored',
      ...((replaced ?? victim) ? { replaced: bytesOf((replaced ?? victim) as string) } : {}),
    });
  }

  removeAllExcept(keep: ReadonlySet<string>): number {
    let removed = 0;
    for (const id of [...this.live.keys()]) {
      if (keep.has(id)) continue;
      this.delete(id);
      removed++;
    }
    return removed;
  }

  delete(id: string): ItemResult {
    const it = this.live.get(id);
    if (!it) return { id: bytesOf(id), outcome: 'not-found' };
    this.live.delete(id);
    this.tombstones.set(id, {
      kind: it.kind,
      id: bytesOf(id),
      clock: it.clock + 1,
      origin: it.origin,
      deletedAt: 0,
    });
    return { id: bytesOf(id), outcome: 'deleted' };
  }
}

function done(result: ItemResult): ReceiveOutcome {
  return { kind: 'done', result };
}
