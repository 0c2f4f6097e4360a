/**
 * The SQLite store as one session sees it. {@link SessionStore} implements both contracts of
 * the protocol layer on one open {@link Store}: the session engine's `StoreView` (listings,
 * transfers under a mode, deletes on the peer's request) and reconciliation's `SyncStore`
 * (digest, item hashes, sketch keys, the merge rule under capacity).
 *
 * Private keys never enter the digest, a reconcile or a pull by filter: only the keys the
 * session's {@link SessionKeys} offers are listed and read, and a received key goes to it.
 *
 * The digest tree and sketch keys are kept in memory for the session: built from the file
 * when the session opens and updated after every write made through this object. Writes by
 * another process during the session are not seen until the next session; the digest sent
 * in hello is then stale and the reconcile simply finds a larger difference.
 */
import { CertsyncError, isCertsyncError } from '../../protocol/errors.ts';
import type { TransferMode } from '../../protocol/messages/catalog.ts';
import type {
  Item,
  ItemResult,
  ListEntry,
  StoreSummary,
  Tombstone,
} from '../../protocol/messages/records.ts';
import { checkEntry, EMPTY_META, type Entry, type EntryKind } from '../../protocol/merge/entry.ts';
import { EVICT_ANY, MemoryStore } from '../../protocol/merge/memory-store.ts';
import { decideMerge } from '../../protocol/merge/merge-rule.ts';
import type {
  ApplyContext,
  ApplyOutcome,
  CapacityInfo,
  RoomCheck,
  StoredItem,
  SyncStore,
} from '../../protocol/merge/store.ts';
import { itemHash, keyNumber, sketchKey } from '../../protocol/reconcile/item-hash.ts';
import { encodeStoreDigest, type StoreDigest } from '../../protocol/reconcile/messages.ts';
import type { Cells } from '../../protocol/reconcile/riblt.ts';
import type {
  ListQuery,
  ListResult,
  ReceiveContext,
  ReceiveOutcome,
  StoreView,
} from '../../protocol/session/store-view.ts';
import { bytesOf, hexOf } from '../../protocol/wire/hex.ts';
import { parseCertificate, parseCrl, sha256, type ParsedCertificate } from '../pki/index.ts';
import type { CertificateRecord, CrlRecord, Store } from '../store/index.ts';
import { listEntryOf, crlEntryOf } from './list-entry.ts';
import type { SessionKeys } from './session-keys.ts';

/** Most overflow candidates an alert names (spec/protocol.md, "overflow-alert"). */
const ALERT_CANDIDATES = 16;

/** A session that knows nothing of the peer's store and carries nothing. */
const NOTHING_KNOWN: ReceiveContext = { peerHolds: new Set(), carried: new Set() };

/** What a session records about the items it received, for progress and the summary. */
export interface ReceiveListener {
  (result: ItemResult, size: number): void;
}

/** A store opened for one session; see the module comment. */
export class SessionStore implements StoreView, SyncStore {
  readonly origin: Uint8Array;
  readonly store: Store;
  /** Where received items are recorded as coming from, e.g. `peer:phone`. */
  readonly source: string;
  private readonly index: MemoryStore;
  /** While set, received certificates are collected here (by hex id) and not stored. */
  private capture: Map<string, Uint8Array> | null = null;

  /** Hex ids left out of the reconcile: certificates this side found invalid. */
  private readonly withheld: ReadonlySet<string>;
  /** The private keys this session may list, send and take; none when absent. */
  private readonly keys: SessionKeys | undefined;

  /**
   * @param source recorded as each received item's source
   * @param withheld hex ids of live certificates not to offer in a reconcile (invalid ones:
   *   spec/reconcile.md sees a store without them, so the peer is not sent them)
   * @param keys the session's private keys (node/client/session-keys.ts); none when absent
   * @throws CertsyncError when the store cannot be read
   */
  constructor(
    store: Store,
    source: string,
    withheld: ReadonlySet<string> = new Set(),
    keys?: SessionKeys,
  ) {
    this.store = store;
    this.source = source;
    this.withheld = withheld;
    this.keys = keys;
    this.origin = store.id;
    this.index = new MemoryStore({ origin: store.id, capacity: null });
    for (const e of store.sync.entries()) this.refresh(e.kind, e.fingerprint);
  }

  // ---- SyncStore (spec/reconcile.md, "Store contract") ----

  digest(): StoreDigest {
    return this.index.digest();
  }

  sketchCells(from: number, to: number): Cells | null {
    return this.index.sketchCells(from, to);
  }

  sketchSyndromes(t: number): Float64Array | null {
    return this.index.sketchSyndromes(t);
  }

  items(): Iterable<StoredItem> {
    return this.index.items();
  }

  findByKey(key: number): readonly StoredItem[] {
    return this.index.findByKey(key);
  }

  get(kind: EntryKind, fingerprint: Uint8Array): Entry | null {
    return this.index.get(kind, fingerprint);
  }

  capacityInfo(): CapacityInfo {
    const s = this.store.capacity.state();
    return { capacity: s.capacity, policy: s.policy, live: s.count };
  }

  checkRoom(ctx: ApplyContext): RoomCheck {
    const s = this.store.capacity.state();
    if (s.capacity === null || s.count < s.capacity) return { kind: 'fits' };
    if (s.policy === 'refuse') return { kind: 'refused', code: 'store-full' };
    if (s.policy === 'alert') return { kind: 'refused', code: 'overflow-alert' };
    // Least recently used first; only what the reconcile allows (it splits the victims).
    for (const rec of this.store.capacity.victims(s.count)) {
      const entry = this.index.get('cert', rec.fingerprint);
      if (entry === null) continue;
      const item = storedItemOf(entry);
      if (ctx.mayEvict(item)) return { kind: 'evict', victim: item };
    }
    return { kind: 'refused', code: 'store-full' };
  }

  apply(entry: Entry, ctx: ApplyContext): ApplyOutcome {
    checkEntry(entry);
    const decision = decideMerge(this.index.get(entry.kind, entry.fingerprint), entry);
    if (decision.kind === 'keep') return { kind: 'unchanged' };
    if (decision.kind === 'needs-der') return { kind: 'needs-der' };
    let victim: StoredItem | null = null;
    if (decision.needsRoom && entry.kind === 'cert') {
      const room = this.checkRoom(ctx);
      if (room.kind === 'refused') return room;
      if (room.kind === 'evict') victim = room.victim;
    }
    const taken = decision.entry;
    const victims = victim ? [victim.head.fingerprint] : [];
    try {
      this.store.sync.applyRemote(
        {
          kind: taken.kind,
          fingerprint: taken.fingerprint,
          deleted: taken.deleted,
          clock: taken.clock,
          origin: taken.origin,
        },
        taken.deleted
          ? {}
          : {
              ...(taken.der ? { der: taken.der } : {}),
              label: taken.meta.label,
              pinned: taken.meta.pinned,
              source: this.source,
              victims,
            },
      );
    } catch (error) {
      if (isCertsyncError(error) && error.code === 'store-full') {
        return { kind: 'refused', code: 'store-full' };
      }
      if (isCertsyncError(error) && error.code === 'overflow-alert') {
        return { kind: 'refused', code: 'overflow-alert' };
      }
      throw error;
    }
    this.refresh(entry.kind, entry.fingerprint);
    if (victim) this.refresh(victim.head.kind, victim.head.fingerprint);
    return { kind: 'stored', evicted: victim ? victim.head : null };
  }

  // ---- StoreView (spec/protocol.md, "Transfers") ----

  summary(): StoreSummary {
    const cap = this.store.capacity.state();
    return {
      certificates: cap.count,
      crls: this.store.crls.list().length,
      ...(cap.capacity === null ? {} : { capacity: cap.capacity, free: cap.free ?? 0 }),
      digest: encodeStoreDigest(this.index.digest()),
    };
  }

  list(q: ListQuery): ListResult {
    let entries: ListEntry[] = this.store.certificates
      .list(q.order)
      .map((r) => listEntryOf(r, this.certDer(r.fingerprint).length));
    if (q.order === 'store') {
      entries = entries.concat(
        this.store.crls.list().map((c) => crlEntryOf(c, this.crlDer(c.fingerprint).length)),
      );
    }
    if (this.keys?.offering) {
      // Offered keys lead, each certificate of one right behind, so that a peer sees them in
      // a first short page (session-keys.ts).
      const lead = this.keys.certificates();
      const first = lead.flatMap((hex) => entries.filter((e) => hexOf(e.id) === hex));
      const rest = entries.filter((e) => !lead.includes(hexOf(e.id)));
      entries = [...this.keys.entries(), ...first, ...rest];
    }
    if (q.only) {
      const only = q.only;
      entries = entries.filter((e) => only.has(hexOf(e.id)));
    }
    const from = q.cursor ? cursorOffset(q.cursor) : 0;
    const page = entries.slice(from, from + q.limit);
    const end = from + page.length;
    return {
      entries: page,
      total: entries.length,
      ...(end < entries.length ? { next: offsetCursor(end) } : {}),
    };
  }

  selectAll(): readonly string[] {
    return [
      ...this.store.certificates.list('store').map((r) => r.fingerprintHex),
      ...this.store.crls.list().map((c) => c.fingerprintHex),
    ];
  }

  read(ids: readonly string[]): readonly (Item | Tombstone)[] {
    const out: (Item | Tombstone)[] = [];
    for (const id of ids) {
      const key = this.keys?.item(id);
      if (key) {
        out.push(key);
        continue;
      }
      const fp = bytesOf(id);
      const cert = this.store.certificates.get(fp);
      if (cert) {
        out.push(certItem(cert, this.certDer(fp)));
        continue;
      }
      const crl = this.store.crls.get(fp);
      if (crl) {
        out.push(crlItem(crl, this.crlDer(fp)));
        continue;
      }
      const gone = this.store.sync.entry('cert', fp) ?? this.store.sync.entry('crl', fp);
      if (gone?.deleted) {
        out.push({
          kind: gone.kind,
          id: fp,
          clock: gone.clock,
          origin: gone.origin,
          deletedAt: 0,
        });
      }
    }
    return out;
  }

  receive(
    entry: Item | Tombstone,
    mode: TransferMode,
    victim?: string,
    context: ReceiveContext = NOTHING_KNOWN,
  ): ReceiveOutcome {
    if ('deletedAt' in entry) return done(this.receiveTombstone(entry));
    if (entry.kind === 'key') {
      if (this.keys && entry.der) return done(this.keys.receive(entry.der));
      const id = entry.der ? sha256(entry.der) : (entry.id as Uint8Array);
      return done({ id, outcome: 'refused', code: 'private-key-refused' });
    }
    if (entry.der === undefined) return done(this.receiveMeta(entry));
    const der = entry.der;
    const fp = sha256(der);
    if (this.capture) {
      this.capture.set(hexOf(fp), der);
      return done({ id: fp, outcome: 'unchanged' });
    }
    try {
      return this.receiveAdded(entry.kind, der, fp, mode, victim, context);
    } catch (error) {
      if (!isCertsyncError(error)) throw error;
      if (error.code === 'bad-certificate' || error.code === 'bad-crl') {
        return done({ id: fp, outcome: 'invalid', code: error.code });
      }
      if (error.code === 'store-full')
        return done({ id: fp, outcome: 'refused', code: 'store-full' });
      throw error;
    }
  }

  removeAllExcept(keep: ReadonlySet<string>): number {
    // A purge, not a deletion: no tombstone, so a later reconcile leaves the sender's copies
    // alone (spec/reconcile.md, "Transfer modes"). All of it, or nothing.
    const certs = this.store.certificates.list('store').filter((r) => !keep.has(r.fingerprintHex));
    const crls = this.store.crls.list().filter((c) => !keep.has(c.fingerprintHex));
    this.store.transaction(() => {
      for (const r of certs) this.store.certificates.removeRow(r.fingerprint);
      for (const c of crls) this.store.crls.removeRow(c.fingerprint);
    });
    for (const r of certs) this.refresh('cert', r.fingerprint);
    for (const c of crls) this.refresh('crl', c.fingerprint);
    return certs.length + crls.length;
  }

  delete(id: string): ItemResult {
    const fp = bytesOf(id);
    if (this.store.certificates.has(fp)) {
      this.store.certificates.delete([fp]);
      this.refresh('cert', fp);
      return { id: fp, outcome: 'deleted' };
    }
    if (this.store.crls.get(fp)) {
      this.store.crls.delete([fp]);
      this.refresh('crl', fp);
      return { id: fp, outcome: 'deleted' };
    }
    return { id: fp, outcome: 'not-found' };
  }

  /**
   * Runs `fn` (which pulls from the peer) with received items collected instead of stored,
   * and returns them by hex id: how a check of the peer's store reads its certificates.
   */
  async collecting(fn: () => Promise<unknown>): Promise<Map<string, Uint8Array>> {
    const got = new Map<string, Uint8Array>();
    this.capture = got;
    try {
      await fn();
    } finally {
      this.capture = null;
    }
    return got;
  }

  // ---- internals ----

  /** Brings the in-memory digest in line with the file for one record. */
  private refresh(kind: EntryKind, fingerprint: Uint8Array): void {
    this.index.purge(kind, fingerprint);
    const head = this.store.sync.entry(kind, fingerprint);
    if (!head || (!head.deleted && this.withheld.has(hexOf(fingerprint)))) return;
    if (head.deleted) {
      this.index.apply({ ...head, der: null, meta: EMPTY_META }, EVICT_ANY);
      return;
    }
    const rec = this.store.sync.record(kind, fingerprint);
    if (!rec) return;
    this.index.apply(
      { ...head, der: rec.der, meta: { label: rec.label, pinned: rec.pinned } },
      EVICT_ANY,
    );
  }

  private certDer(fp: Uint8Array): Uint8Array {
    return this.store.certificates.der(fp) ?? new Uint8Array(0);
  }

  private crlDer(fp: Uint8Array): Uint8Array {
    return this.store.crls.der(fp) ?? new Uint8Array(0);
  }

  private receiveTombstone(t: Tombstone): ItemResult {
    if (t.kind === 'key') return { id: t.id, outcome: 'refused', code: 'private-key-refused' };
    const held = this.index.get(t.kind, t.id);
    const outcome = this.apply(
      {
        kind: t.kind,
        fingerprint: t.id,
        deleted: true,
        clock: t.clock,
        origin: t.origin,
        der: null,
        meta: EMPTY_META,
      },
      EVICT_ANY,
    );
    const deleted = outcome.kind === 'stored' && held !== null && !held.deleted;
    return { id: t.id, outcome: deleted ? 'deleted' : 'unchanged' };
  }

  private receiveMeta(item: Item): ItemResult {
    const id = item.id as Uint8Array;
    const kind = item.kind as EntryKind;
    const local = this.index.get(kind, id);
    if (local === null || local.deleted) return { id, outcome: 'refused', code: 'not-found' };
    const out = this.apply(
      {
        kind,
        fingerprint: id,
        deleted: false,
        clock: item.clock,
        origin: item.origin,
        der: null,
        meta: { label: item.label ?? null, pinned: item.pinned },
      },
      EVICT_ANY,
    );
    return { id, outcome: out.kind === 'stored' ? 'updated' : 'unchanged' };
  }

  /**
   * add, update and replace-all (spec/reconcile.md, "Transfer modes"): the item becomes a
   * local write of this store. The record an update replaces is deleted with a tombstone,
   * as the user asked. What the store would remove to fit (an `lru` victim, the room a
   * replace-all makes) is first offered to the peer unless `context.peerHolds` names it;
   * `victim` is one the peer now holds, or chose after an alert.
   */
  private receiveAdded(
    kind: EntryKind,
    der: Uint8Array,
    fp: Uint8Array,
    mode: TransferMode,
    victim: string | undefined,
    context: ReceiveContext,
  ): ReceiveOutcome {
    if (kind === 'crl') {
      const { added } = this.store.crls.add([parseCrl(der, 'received CRL')], this.source);
      this.refresh('crl', fp);
      return done({ id: fp, outcome: added.length ? 'stored' : 'unchanged' });
    }
    if (this.store.certificates.has(fp)) return done({ id: fp, outcome: 'unchanged' });
    const cert = parseCertificate(der, 'received certificate');
    const { peerHolds, carried } = context;
    const target = mode === 'update' ? this.updateTarget(cert.subject, cert.emails, carried) : null;
    if (victim !== undefined) {
      if (target?.fingerprintHex === victim) return done(this.replace(cert, target));
      return done(this.storeEvicting(cert, bytesOf(victim)));
    }
    // The record an update replaces is deleted, as the user asked: it is not offered first.
    if (target) return done(this.replace(cert, target));
    const cap = this.store.capacity.state();
    if (cap.capacity === null || cap.count < cap.capacity) {
      return done(this.storeEvicting(cert, null));
    }
    let room: CertificateRecord | null;
    if (mode === 'replace-all') room = this.replaceAllRoom(carried, peerHolds);
    else if (cap.policy === 'alert') {
      // End-entity certificates first: a CA certificate is an anchor or an intermediate
      // that the store's other certificates need.
      const victims = this.store.capacity.victims(cap.count);
      const candidates = [...victims.filter((r) => !r.isCA), ...victims.filter((r) => r.isCA)]
        .slice(0, ALERT_CANDIDATES)
        .map((r) => listEntryOf(r, this.certDer(r.fingerprint).length));
      if (candidates.length > 0) return { kind: 'overflow', candidates };
      room = null;
    } else if (cap.policy === 'lru') {
      // The least recently used unpinned certificate that is not part of the selection.
      const lru = this.store.capacity.victims(carried.size + 1);
      room = lru.find((r) => !carried.has(r.fingerprintHex)) ?? null;
    } else room = null;
    if (room === null) return done({ id: fp, outcome: 'refused', code: 'store-full' });
    if (!peerHolds.has(room.fingerprintHex)) {
      return { kind: 'offer-first', victim: room.fingerprintHex };
    }
    return done(this.storeEvicting(cert, room.fingerprint));
  }

  /**
   * The certificate a full store removes to make room for a replace-all, whatever its
   * policy ("Room in a replace-all", spec/protocol.md): one the transfer has not carried,
   * one the peer holds when there is one, else unpinned (least recently used first) before
   * pinned. Null when every certificate held was carried.
   */
  private replaceAllRoom(
    carried: ReadonlySet<string>,
    peerHolds: ReadonlySet<string>,
  ): CertificateRecord | null {
    const all = this.store.capacity.state().count;
    const unpinned = this.store.capacity.victims(all);
    const pinned = this.store.certificates.list('store').filter((r) => r.pinned);
    const others = [...unpinned, ...pinned].filter((r) => !carried.has(r.fingerprintHex));
    return others.find((r) => peerHolds.has(r.fingerprintHex)) ?? others[0] ?? null;
  }

  /**
   * Stores `cert`, first removing `victim` without a tombstone (an eviction, or a purge that
   * may take a pinned one for a replace-all), in one transaction.
   */
  private storeEvicting(cert: ParsedCertificate, victim: Uint8Array | null): ItemResult {
    const evicted = this.store.transaction(() => {
      const gone = victim ? this.store.certificates.get(victim) : undefined;
      if (victim && !gone) {
        throw new CertsyncError('not-found', `victim ${hexOf(victim)}: no such certificate`);
      }
      if (victim) this.store.certificates.removeRow(victim);
      const added = this.store.certificates.add([cert], { source: this.source });
      return [...(gone ? [gone] : []), ...added.evicted];
    });
    this.refresh('cert', cert.fingerprint);
    for (const r of evicted) this.refresh('cert', r.fingerprint);
    const replaced = evicted[0];
    return {
      id: cert.fingerprint,
      outcome: replaced ? 'updated' : 'stored',
      ...(replaced ? { replaced: replaced.fingerprint } : {}),
    };
  }

  /**
   * An update: deletes `old` (a tombstone stamped with this store's clock, so that a later
   * reconcile does not bring it back, and deletes the older copies other stores hold) and
   * stores `cert`, in one transaction.
   */
  private replace(cert: ParsedCertificate, old: CertificateRecord): ItemResult {
    this.store.transaction(() => {
      this.store.certificates.delete([old.fingerprint]);
      this.store.certificates.add([cert], { source: this.source });
    });
    this.refresh('cert', old.fingerprint);
    this.refresh('cert', cert.fingerprint);
    return { id: cert.fingerprint, outcome: 'updated', replaced: old.fingerprint };
  }

  /**
   * The certificate an `update` replaces: one for the same subject or an e-mail address in
   * common, not pinned and not carried by the transfer, expired ones first, then the least
   * used (spec/reconcile.md, "Transfer modes").
   */
  private updateTarget(
    subject: string,
    emails: readonly string[],
    carried: ReadonlySet<string>,
  ): CertificateRecord | null {
    const now = Date.now();
    const same = this.store.certificates
      .list('store')
      .filter(
        (r) =>
          !r.pinned &&
          !carried.has(r.fingerprintHex) &&
          (r.subject === subject || r.emails.some((e) => emails.includes(e))),
      );
    same.sort(
      (a, b) =>
        Number(b.notAfter.getTime() < now) - Number(a.notAfter.getTime() < now) ||
        a.useCount - b.useCount,
    );
    return same[0] ?? null;
  }
}

/** The sketch key and hash of an entry, as the reconciler indexes it. */
function storedItemOf(entry: Entry): StoredItem {
  const hash = itemHash(entry);
  const { hi, lo } = sketchKey(entry, hash);
  return { head: entry, hash, key: keyNumber(hi, lo) };
}

function certItem(r: CertificateRecord, der: Uint8Array): Item {
  return {
    kind: 'cert',
    der,
    ...(r.label !== undefined ? { label: r.label } : {}),
    pinned: r.pinned,
    clock: r.clock,
    origin: r.origin,
    addedAt: r.addedAt.getTime(),
    useCount: r.useCount,
    ...(r.lastUsedAt ? { lastUsedAt: r.lastUsedAt.getTime() } : {}),
  };
}

function crlItem(c: CrlRecord, der: Uint8Array): Item {
  return {
    kind: 'crl',
    der,
    pinned: false,
    clock: c.clock,
    origin: c.origin,
    addedAt: c.addedAt.getTime(),
  };
}

function done(result: ItemResult): ReceiveOutcome {
  return { kind: 'done', result };
}

/** A listing cursor: the offset of the next entry, four bytes big-endian. */
function offsetCursor(offset: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, offset);
  return out;
}

function cursorOffset(cursor: Uint8Array): number {
  if (cursor.length !== 4) {
    throw new CertsyncError(
      'malformed-message',
      `a listing cursor is 4 bytes, got ${cursor.length}`,
    );
  }
  return new DataView(cursor.buffer, cursor.byteOffset, 4).getUint32(0);
}
