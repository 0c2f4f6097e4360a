/**
 * Transfers in both directions (spec/protocol.md, "Transfers"): the sender streams items
 * batches with at most {@link WINDOW} unacknowledged, the receiver applies each batch to its
 * store and acknowledges it, and an item that does not fit pauses the transfer on an
 * overflow alert until the sender's user picks a victim or aborts.
 */

import { sha256 } from '@noble/hashes/sha2.js';

import { CertsyncError, isCertsyncError } from '../errors.ts';
import { MAX_PAGE_ENTRIES, type MessageOf, type TransferMode } from '../messages/catalog.ts';
import {
  item as itemSchema,
  tombstone as tombstoneSchema,
  type Item,
  type ItemResult,
  type Tombstone,
} from '../messages/records.ts';
import { checkPrivateKeyAcceptance, checkPrivateKeyRelease } from '../secure/policy.ts';
import { encodeCbor } from '../wire/cbor.ts';
import { bytesOf, hexOf } from '../wire/hex.ts';
import { Turn, WINDOW } from './turn.ts';
import type { Inbound, InboundWait, Outbound } from './types.ts';

/** Bytes an items batch adds around its entries: envelope, keys, array heads. */
const BATCH_OVERHEAD = 64;

function isItem(e: Item | Tombstone): e is Item {
  return !('deletedAt' in e);
}

/** The hex id of an item or tombstone: SHA-256 of the DER, or the id it names. */
export function entryId(e: Item | Tombstone): string {
  if (isItem(e)) return hexOf(e.der !== undefined ? sha256(e.der) : (e.id as Uint8Array));
  return hexOf(e.id);
}

/** Starts sending `ids` under `mode`; the caller checked that no transfer is outbound. */
export function beginOutbound(
  t: Turn,
  id: number,
  mode: TransferMode,
  ids: readonly string[],
  requested?: readonly string[],
  offerFor?: number,
): void {
  // Once the peer holds what this side sends, the peer may count on this side to keep it:
  // this side no longer counts on the peer (spec/protocol.md, "Last copies").
  const holds = new Set(t.s.peerHolds);
  for (const x of ids) holds.delete(x);
  t.s.peerHolds = holds;
  t.s.outbound = {
    id,
    mode,
    queue: ids,
    next: 0,
    nextSeq: 0,
    unacked: [],
    ended: false,
    alert: null,
    deadline: t.now + t.s.config.timeouts.answer,
    ...(requested ? { requested } : {}),
    held: [],
    ...(offerFor !== undefined ? { offerFor } : {}),
  };
  t.send({ type: 'transfer-begin', id, mode, items: ids.length });
  pump(t);
}

/** Sends batches while the window allows, then transfer-end once the queue is empty. */
export function pump(t: Turn): void {
  let out = t.s.outbound;
  while (out && !out.ended && out.alert === null && out.unacked.length < WINDOW) {
    if (out.next >= out.queue.length) {
      t.send({ type: 'transfer-end', id: out.id, batches: out.nextSeq });
      out = { ...out, ended: true, deadline: t.now + t.s.config.timeouts.answer };
      break;
    }
    out = sendBatch(t, out);
  }
  t.s.outbound = out;
}

function sendBatch(t: Turn, out: Outbound): Outbound {
  const budget = t.s.sendLimits.maxFrameBytes - BATCH_OVERHEAD;
  const items: Item[] = [];
  const tombstones: Tombstone[] = [];
  const skipped: ItemResult[] = [];
  let used = 0;
  let next = out.next;
  while (next < out.queue.length && items.length + tombstones.length < MAX_PAGE_ENTRIES) {
    const id = out.queue[next] as string;
    const [entry] = t.env.store.read([id]);
    if (entry === undefined) {
      next++;
      continue;
    }
    const size = encodeCbor(
      isItem(entry) ? itemSchema.encode(entry) : tombstoneSchema.encode(entry),
    ).length;
    if (size > budget) {
      skipped.push({ id: bytesOf(id), outcome: 'refused', code: 'frame-too-large' });
      next++;
      continue;
    }
    if (used + size > budget) break;
    if (isItem(entry) && entry.kind === 'key' && !mayRelease(t, out, id, skipped)) {
      next++;
      continue;
    }
    used += size;
    if (isItem(entry)) items.push(entry);
    else tombstones.push(entry);
    next++;
  }
  if (skipped.length > 0) t.effect({ kind: 'items-acked', transfer: out.id, results: skipped });
  if (items.length === 0 && tombstones.length === 0) return { ...out, next };
  t.send({ type: 'items', id: out.id, seq: out.nextSeq, items, tombstones });
  return {
    ...out,
    next,
    nextSeq: out.nextSeq + 1,
    unacked: [...out.unacked, out.nextSeq],
    deadline: t.now + t.s.config.timeouts.answer,
  };
}

function mayRelease(t: Turn, out: Outbound, id: string, skipped: ItemResult[]): boolean {
  const { config } = t.s;
  try {
    checkPrivateKeyRelease(
      { encrypted: true, standing: config.standing, exportAllowed: config.exportPrivateKeys },
      out.requested,
      id,
    );
    return true;
  } catch (err) {
    if (!isCertsyncError(err)) throw err;
    skipped.push({ id: bytesOf(id), outcome: 'refused', code: err.code });
    return false;
  }
}

/** The peer acknowledged the oldest batch. */
export function onItemsAck(t: Turn, m: MessageOf<'items-ack'>): void {
  const out = t.s.outbound;
  if (!out || out.id !== m.id || out.unacked[0] !== m.seq) {
    t.unexpected(`items-ack for transfer ${m.id} batch ${m.seq} was not awaited`);
  }
  const held = m.results.filter((r) => HELD.has(r.outcome)).map((r) => hexOf(r.id));
  t.s.outbound = {
    ...out,
    unacked: out.unacked.slice(1),
    deadline: t.now + t.s.config.timeouts.answer,
    held: [...out.held, ...held],
  };
  t.effect({ kind: 'items-acked', transfer: m.id, results: m.results });
  pump(t);
}

/** The peer's store is full: ask this side's user. */
export function onOverflowAlert(t: Turn, m: MessageOf<'overflow-alert'>): void {
  const out = t.s.outbound;
  if (!out || out.id !== m.id || out.alert !== null || m.candidates.length === 0) {
    t.unexpected(`overflow-alert for transfer ${m.id} was not expected`);
  }
  const candidates = m.candidates.map((c) => hexOf(c.id));
  t.s.outbound = { ...out, alert: { incoming: m.incoming, candidates } };
  t.effect({ kind: 'overflow-alert', alert: m });
}

/**
 * This side's user answered an overflow alert.
 *
 * @throws RangeError when no alert is pending or the victim was not offered
 */
export function answerOverflow(t: Turn, victim: Uint8Array | null): void {
  const out = t.s.outbound;
  if (!out || out.alert === null) {
    throw new RangeError('expected a pending overflow alert, got none');
  }
  if (victim !== null && !out.alert.candidates.includes(hexOf(victim))) {
    throw new RangeError(`expected one of the offered victims, got ${hexOf(victim)}`);
  }
  t.send({ type: 'overflow-answer', id: out.id, ...(victim ? { victim } : {}) });
  // An abort stops the queue; the receiver answers with transfer-done (aborted).
  const next = victim === null ? out.queue.length : out.next;
  t.s.outbound = {
    ...out,
    alert: null,
    next,
    ended: out.ended || victim === null,
    deadline: t.now + t.s.config.timeouts.answer,
  };
  if (victim !== null) pump(t);
}

/** The receiver finished (or aborted) the transfer this side sent. */
export function onTransferDone(t: Turn, m: MessageOf<'transfer-done'>): void {
  const out = t.s.outbound;
  const complete = out !== null && out.ended && (m.aborted || out.unacked.length === 0);
  if (!out || out.id !== m.id || !complete) {
    t.unexpected(`transfer-done for transfer ${m.id} came before its end`);
  }
  t.s.outbound = null;
  t.effect({ kind: 'transfer-done', direction: 'sent', done: m });
  // The receiving direction waited for this one: to offer a last copy, or before ending a
  // replace-all. Go on now.
  const inb = t.s.inbound;
  if (!inb || out.offerFor !== inb.id) return;
  if (inb.waiting?.offering !== undefined) afterOffer(t, inb, inb.waiting, new Set(out.held));
  else if (inb.ending) finishReplaceAll(t, inb, new Set(out.held));
}

/** Outcomes after which the peer holds the item: it is no longer a last copy here. */
const HELD: ReadonlySet<string> = new Set(['stored', 'updated', 'unchanged']);

/** The peer starts sending; `askedFor` is the one key a pull of ours named, if any. */
export function onTransferBegin(t: Turn, m: MessageOf<'transfer-begin'>): void {
  if (t.s.inbound) t.unexpected(`transfer ${m.id} began while transfer ${t.s.inbound.id} runs`);
  const pull = t.s.requests.find((r) => r.kind === 'pull' && r.id === m.id);
  if (pull) t.s.requests = t.s.requests.filter((r) => r !== pull);
  t.s.inbound = {
    id: m.id,
    mode: m.mode,
    expectedSeq: 0,
    received: [],
    waiting: null,
    held: [],
    // The peer offers a last copy only while it receives a transfer from this side, so a
    // transfer that begins while this side sends nothing is no offer.
    learns: t.s.outbound === null,
    removed: 0,
    refusedForRoom: false,
    ...(pull?.askedFor ? { askedFor: pull.askedFor } : {}),
    deadline: t.now + t.s.config.timeouts.answer,
  };
}

/** A batch arrived: apply it, or hold it while an overflow answer is awaited. */
export function onItems(t: Turn, m: MessageOf<'items'>): void {
  const inb = checkInbound(t, m.id, 'items');
  if (inb.ending) t.unexpected(`items after the end of transfer ${m.id}`);
  if (inb.waiting) return hold(t, inb, m);
  if (m.seq !== inb.expectedSeq) t.unexpected(`items batch ${m.seq}, expected ${inb.expectedSeq}`);
  t.s.inbound = { ...inb, expectedSeq: m.seq + 1, deadline: t.now + t.s.config.timeouts.answer };
  applyBatch(t, m, 0, [], undefined);
}

/** The sender has sent everything. */
export function onTransferEnd(t: Turn, m: MessageOf<'transfer-end'>): void {
  const inb = checkInbound(t, m.id, 'transfer-end');
  if (inb.ending) t.unexpected(`a second end of transfer ${m.id}`);
  if (inb.waiting) return hold(t, inb, m);
  if (m.batches !== inb.expectedSeq) {
    throw new CertsyncError(
      'malformed-message',
      `transfer ${m.id} ended after ${m.batches} batches, ${inb.expectedSeq} arrived`,
    );
  }
  if (inb.mode === 'replace-all') return endReplaceAll(t, { ...inb, ending: m });
  finishInbound(t, inb, 0);
}

/**
 * Ends a replace-all without destroying a last copy (spec/protocol.md, "Transfers"): what
 * the store holds beyond the selection is removed once the peer holds it. Items this side
 * knows the peer holds are removed at once; the others are first offered back to the sender
 * in a transfer of mode add, and only those the sender then holds are removed. When this
 * side is already sending, it does not wait (two crossing replace-alls would deadlock): it
 * removes only what it knows the peer holds. After an item of the selection was refused for
 * want of room, nothing more is removed ("Room in a replace-all").
 */
function endReplaceAll(t: Turn, inb: Inbound): void {
  t.s.inbound = inb;
  if (inb.refusedForRoom) return finishInbound(t, inb, inb.removed);
  const keep = new Set(inb.received);
  const beyond = t.env.store.selectAll().filter((id) => !keep.has(id));
  const unknown = beyond.filter((id) => !t.s.peerHolds.has(id));
  if (unknown.length === 0 || t.s.outbound !== null) return finishReplaceAll(t, inb, new Set());
  beginOutbound(t, t.nextId(), 'add', unknown, undefined, inb.id);
}

/** Removes what the replace-all did not carry and the peer holds: `taken`, or known. */
function finishReplaceAll(t: Turn, inb: Inbound, taken: ReadonlySet<string>): void {
  const received = new Set(inb.received);
  const holds = t.s.peerHolds;
  const keep = t.env.store
    .selectAll()
    .filter((id) => received.has(id) || !(taken.has(id) || holds.has(id)));
  finishInbound(t, inb, inb.removed + t.env.store.removeAllExcept(new Set(keep)));
}

function finishInbound(t: Turn, inb: Inbound, removed: number): void {
  const done: MessageOf<'transfer-done'> = {
    type: 'transfer-done',
    id: inb.id,
    aborted: false,
    removed,
  };
  t.send(done);
  t.s.inbound = null;
  t.effect({ kind: 'transfer-done', direction: 'received', done });
}

/** The sender's user chose a victim, or aborted. */
export function onOverflowAnswer(t: Turn, m: MessageOf<'overflow-answer'>): void {
  const inb = checkInbound(t, m.id, 'overflow-answer');
  const wait = inb.waiting;
  if (!wait || wait.offering !== undefined) {
    t.unexpected(`overflow-answer for transfer ${m.id} without an alert`);
  }
  if (m.victim !== undefined && !wait.candidates.includes(hexOf(m.victim))) {
    t.unexpected('overflow-answer names a victim that was not offered');
  }
  if (m.victim === undefined) {
    t.send({ type: 'items-ack', id: m.id, seq: wait.batch.seq, results: [...wait.results] });
    const done: MessageOf<'transfer-done'> = {
      type: 'transfer-done',
      id: m.id,
      aborted: true,
      removed: 0,
    };
    t.send(done);
    t.s.inbound = null;
    t.effect({ kind: 'transfer-done', direction: 'received', done });
    return;
  }
  resume(t, inb, wait.index, wait.results, hexOf(m.victim));
}

/** The offer of a last copy ended: evict it if the peer now holds it, else refuse. */
function afterOffer(t: Turn, inb: Inbound, wait: InboundWait, safe: ReadonlySet<string>): void {
  const victim = wait.offering as string;
  if (safe.has(victim)) return resume(t, inb, wait.index, wait.results, victim);
  const entries = [...wait.batch.items, ...wait.batch.tombstones];
  const id = bytesOf(entryId(entries[wait.index] as Item | Tombstone));
  const refused: ItemResult = { id, outcome: 'refused', code: 'store-full' };
  resume(t, inb, wait.index + 1, [...wait.results, refused], undefined);
}

/** Goes on with a stopped batch, then with the frames held meanwhile. */
function resume(
  t: Turn,
  inb: Inbound,
  index: number,
  results: readonly ItemResult[],
  victim: string | undefined,
): void {
  const wait = inb.waiting as InboundWait;
  t.s.inbound = { ...inb, waiting: null, held: [], deadline: t.now + t.s.config.timeouts.answer };
  applyBatch(t, wait.batch, index, results, victim);
  for (const held of inb.held) {
    const current: Inbound | null = t.s.inbound;
    if (current === null) break;
    if (current.waiting) {
      // A second alert: hold the rest again, in order.
      t.s.inbound = { ...current, held: [...current.held, held] };
      continue;
    }
    if (held.type === 'items') onItems(t, held);
    else onTransferEnd(t, held);
  }
}

function checkInbound(t: Turn, id: number, what: string): Inbound {
  const inb = t.s.inbound;
  if (!inb || inb.id !== id) t.unexpected(`${what} for transfer ${id}, which is not running`);
  return inb;
}

function hold(t: Turn, inb: Inbound, m: MessageOf<'items'> | MessageOf<'transfer-end'>): void {
  // The sender stops at the alert, so only frames already in flight can arrive: at most
  // WINDOW batches and the end.
  if (inb.held.length >= WINDOW + 1) {
    throw new CertsyncError('limit-exceeded', `more than ${WINDOW} batches sent past an alert`);
  }
  t.s.inbound = { ...inb, held: [...inb.held, m] };
}

function applyBatch(
  t: Turn,
  batch: MessageOf<'items'>,
  start: number,
  resultsSoFar: readonly ItemResult[],
  victim: string | undefined,
): void {
  const inb = t.s.inbound as Inbound;
  const entries: (Item | Tombstone)[] = [...batch.items, ...batch.tombstones];
  const results = [...resultsSoFar];
  const received = [...inb.received];
  const carried = new Set(received);
  const holds = new Set(t.s.peerHolds);
  const context = { peerHolds: holds, carried };
  for (let i = start; i < entries.length; i++) {
    const entry = entries[i] as Item | Tombstone;
    const id = entryId(entry);
    const refused = refuseKey(t, inb, entry, id);
    if (refused) {
      results.push(refused);
      continue;
    }
    const given = i === start ? victim : undefined;
    const outcome = t.env.store.receive(entry, inb.mode, given, context);
    if (outcome.kind === 'offer-first') {
      if (outcome.victim === given) {
        throw new CertsyncError('internal', 'the store asked again to offer the victim it got');
      }
      // Offer only on an idle sending direction: waiting for it could deadlock two sides
      // that both offer (spec/protocol.md, "Last copies").
      if (t.s.outbound !== null) {
        results.push({ id: bytesOf(id), outcome: 'refused', code: 'store-full' });
        continue;
      }
      t.s.peerHolds = holds;
      t.s.inbound = {
        ...inb,
        received,
        waiting: { batch, index: i, results, candidates: [], offering: outcome.victim },
        deadline: t.now + t.s.config.timeouts.overflowAnswer,
      };
      return beginOutbound(t, t.nextId(), 'add', [outcome.victim], undefined, inb.id);
    }
    if (outcome.kind === 'overflow') {
      const candidates = outcome.candidates.slice(0, 16);
      t.send({ type: 'overflow-alert', id: batch.id, incoming: bytesOf(id), candidates });
      t.s.peerHolds = holds;
      t.s.inbound = {
        ...inb,
        received,
        waiting: { batch, index: i, results, candidates: candidates.map((c) => hexOf(c.id)) },
        deadline: t.now + t.s.config.timeouts.overflowAnswer,
      };
      return;
    }
    received.push(id);
    carried.add(id);
    results.push(outcome.result);
    if (isItem(entry)) learn(holds, inb, id, outcome.result);
  }
  t.s.peerHolds = holds;
  t.s.inbound = { ...inb, received, ...roomOf(inb, results) };
  t.send({ type: 'items-ack', id: batch.id, seq: batch.seq, results });
  t.effect({ kind: 'items-received', transfer: batch.id, results });
}

/**
 * What one received item teaches about the peer's store: an item the peer sent in a
 * transfer that is no offer is held by the peer, which offers it back before it removes it,
 * until this side sends it again (spec/protocol.md, "Last copies"). An item in a transfer
 * that may be an offer is one the peer may be about to remove.
 */
function learn(holds: Set<string>, inb: Inbound, id: string, result: ItemResult): void {
  if (!HELD.has(result.outcome)) return;
  if (inb.learns) holds.add(id);
  else holds.delete(id);
}

/** A replace-all counts the items it removed to make room, and any item refused for room. */
function roomOf(inb: Inbound, results: readonly ItemResult[]) {
  if (inb.mode !== 'replace-all') return {};
  return {
    removed: inb.removed + results.filter((r) => r.replaced !== undefined).length,
    refusedForRoom:
      inb.refusedForRoom || results.some((r) => r.outcome === 'refused' && r.code === 'store-full'),
  };
}

function refuseKey(t: Turn, inb: Inbound, entry: Item | Tombstone, id: string): ItemResult | null {
  if (!isItem(entry) || entry.kind !== 'key') return null;
  try {
    checkPrivateKeyAcceptance(
      { encrypted: true, standing: t.s.config.standing },
      inb.askedFor ?? null,
      id,
    );
    return null;
  } catch (err) {
    if (!isCertsyncError(err)) throw err;
    return { id: bytesOf(id), outcome: 'refused', code: err.code };
  }
}
