/**
 * The runner's half of transfers (spec/protocol.md 8.5), written from the spec: sending a
 * push with the window of 4 batches, answering overflow alerts, and receiving a transfer
 * (acknowledging each batch, then `transfer-done`). Offers the implementation makes in
 * the middle (a replace-all or a last copy sent back first) are received on the way.
 */
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import type { Message, MessageOf, TransferMode } from '../../protocol/messages/catalog.ts';
import type { Item, ItemOutcome, ItemResult, Tombstone } from '../../protocol/messages/records.ts';
import type { WirePeer } from './wire-peer.ts';

/** The window: batches a sender may have unacknowledged (spec/protocol.md 8.5). */
export const WINDOW = 4;
/** The runner's store id, as the origin of the versions it sends. */
export const RUNNER_ORIGIN = new Uint8Array(16).fill(0x5a);

/** A certificate as the runner sends it, version (clock, RUNNER_ORIGIN). */
export function certItem(der: Uint8Array, clock: number, pinned = false): Item {
  return { kind: 'cert', der, pinned, clock, origin: RUNNER_ORIGIN };
}

/** A deletion as the runner sends it. */
export function tombstoneOf(id: Uint8Array, clock: number): Tombstone {
  return { kind: 'cert', id, clock, origin: RUNNER_ORIGIN, deletedAt: 1_764_800_000_000 };
}

/** What the runner answers about items the implementation sends it. */
export type OfferAnswer = (der: Uint8Array) => { outcome: ItemOutcome; code?: 'store-full' };

/** What happened to items the implementation sent the runner while a push ran. */
export interface ReceivedTransfer {
  readonly id: number;
  readonly mode: TransferMode;
  readonly items: Item[];
  readonly tombstones: Tombstone[];
  readonly batches: number;
}

/** The outcome of a push the runner made. */
export interface PushOutcome {
  readonly results: ItemResult[];
  readonly acks: MessageOf<'items-ack'>[];
  readonly done: MessageOf<'transfer-done'>;
  readonly alerts: MessageOf<'overflow-alert'>[];
  readonly offers: ReceivedTransfer[];
}

/** Options of {@link push}. */
export interface PushOptions {
  readonly id: number;
  readonly mode: TransferMode;
  readonly batches: readonly (readonly (Item | Tombstone)[])[];
  /** The victim to name for an alert, or null to abort (default: abort). */
  readonly onAlert?: (a: MessageOf<'overflow-alert'>) => Promise<Uint8Array | null>;
  /** How the runner answers items offered to it (default: stored). */
  readonly answerOffer?: OfferAnswer;
  /** `batches` in transfer-end, when a case lies about it. */
  readonly claimBatches?: number;
}

function batchOf(id: number, seq: number, entries: readonly (Item | Tombstone)[]): Message {
  return {
    type: 'items',
    id,
    seq,
    items: entries.filter((e): e is Item => !('deletedAt' in e)),
    tombstones: entries.filter((e): e is Tombstone => 'deletedAt' in e),
  };
}

/** Tracks one inbound transfer from the implementation and answers it as a receiver. */
class Receiver {
  readonly open = new Map<number, ReceivedTransfer>();
  readonly finished: ReceivedTransfer[] = [];
  constructor(private readonly answer: OfferAnswer) {}

  /** Handles a transfer frame; false when `m` is not one. */
  async handle(peer: WirePeer, m: Message): Promise<boolean> {
    if (m.type === 'transfer-begin') {
      assert.ok(!this.open.has(m.id), `transfer-begin ${m.id} while it runs`);
      this.open.set(m.id, { id: m.id, mode: m.mode, items: [], tombstones: [], batches: 0 });
      return true;
    }
    if (m.type === 'items') {
      const t = this.open.get(m.id);
      assert.ok(t, `items for transfer ${m.id}, which did not begin`);
      assert.equal(m.seq, t.batches, 'items batches come in sequence from 0');
      assert.ok(m.items.length + m.tombstones.length >= 1, 'a batch holds 1..512 entries');
      t.items.push(...m.items);
      t.tombstones.push(...m.tombstones);
      this.open.set(m.id, { ...t, batches: t.batches + 1 });
      const results: ItemResult[] = [
        ...m.items.map((i) => ({
          id: sha256(i.der ?? new Uint8Array(0)),
          ...this.answer(i.der ?? new Uint8Array(0)),
        })),
        ...m.tombstones.map((x) => ({ id: x.id, outcome: 'deleted' as const })),
      ];
      await peer.say({ type: 'items-ack', id: m.id, seq: m.seq, results });
      return true;
    }
    if (m.type === 'transfer-end') {
      const t = this.open.get(m.id);
      assert.ok(t, `transfer-end for transfer ${m.id}, which did not begin`);
      assert.equal(m.batches, t.batches, 'transfer-end counts the batches sent');
      this.open.delete(m.id);
      this.finished.push(t);
      await peer.say({ type: 'transfer-done', id: m.id, aborted: false, removed: 0 });
      return true;
    }
    return false;
  }
}

/** The next message from the implementation; fails on anything but a message frame. */
async function nextMessage(peer: WirePeer, ms: number): Promise<Message> {
  const m = await peer.message(ms);
  assert.ok(m.kind === 'message', `expected a message, got a ${m.kind} frame`);
  return m.message;
}

/**
 * Pushes `batches` to the implementation and runs the transfer to its `transfer-done`.
 *
 * @throws AssertionError when the implementation breaks a rule of 8.5 on the way
 */
export async function push(peer: WirePeer, o: PushOptions): Promise<PushOutcome> {
  const receiver = new Receiver(o.answerOffer ?? (() => ({ outcome: 'stored' })));
  const total = o.batches.reduce((n, b) => n + b.length, 0);
  await peer.say({ type: 'transfer-begin', id: o.id, mode: o.mode, items: total });
  let sent = 0;
  const unacked: number[] = [];
  let aborted = false;
  const sendMore = async (): Promise<void> => {
    while (!aborted && sent < o.batches.length && unacked.length < WINDOW) {
      await peer.say(batchOf(o.id, sent, o.batches[sent] ?? []));
      unacked.push(sent);
      sent += 1;
      if (sent === o.batches.length) {
        await peer.say({ type: 'transfer-end', id: o.id, batches: o.claimBatches ?? sent });
      }
    }
  };
  if (o.batches.length === 0) await peer.say({ type: 'transfer-end', id: o.id, batches: 0 });
  await sendMore();
  const out = { results: [] as ItemResult[], acks: [] as MessageOf<'items-ack'>[] };
  const alerts: MessageOf<'overflow-alert'>[] = [];
  for (;;) {
    const m = await nextMessage(peer, 10_000);
    if (await receiver.handle(peer, m)) continue;
    if (m.type === 'items-ack' && m.id === o.id) {
      assert.equal(m.seq, unacked[0], 'items-ack acknowledges the oldest unacknowledged batch');
      unacked.shift();
      out.acks.push(m);
      out.results.push(...m.results);
      await sendMore();
    } else if (m.type === 'overflow-alert' && m.id === o.id) {
      alerts.push(m);
      const victim = o.onAlert ? await o.onAlert(m) : null;
      if (victim === null) aborted = true;
      await peer.say({ type: 'overflow-answer', id: o.id, ...(victim ? { victim } : {}) });
    } else if (m.type === 'transfer-done' && m.id === o.id) {
      return { ...out, done: m, alerts, offers: receiver.finished };
    } else if (m.type === 'error') {
      assert.fail(`the implementation sent error ${m.code} (${m.message}) during the push`);
    } else {
      assert.fail(`unexpected ${m.type} during a push`);
    }
  }
}

/** Options of {@link receiveTransfer}. */
export interface ReceiveOptions {
  readonly answer?: OfferAnswer;
  /** Check that no more than the window of batches arrives before the first ack. */
  readonly checkWindow?: boolean;
  /** The transfer-begin, when the case already read it. */
  readonly begun?: MessageOf<'transfer-begin'>;
}

/**
 * Receives one transfer from the implementation (a pull's answer, or its push), acknowledging
 * every batch, and returns it once `transfer-done` was sent.
 */
export async function receiveTransfer(
  peer: WirePeer,
  o: ReceiveOptions = {},
): Promise<ReceivedTransfer> {
  const receiver = new Receiver(o.answer ?? (() => ({ outcome: 'stored' })));
  if (o.begun) await receiver.handle(peer, o.begun);
  if (o.checkWindow) {
    // Read without acknowledging until the sender stops: at most WINDOW batches may come.
    const held: Message[] = [];
    let batches = 0;
    for (;;) {
      const f = await peer.message(batches >= WINDOW ? 700 : 10_000).catch(() => null);
      if (f === null) break;
      assert.ok(f.kind === 'message');
      held.push(f.message);
      if (f.message.type === 'items') batches += 1;
      if (f.message.type === 'transfer-end') break;
      assert.ok(batches <= WINDOW, `a sender sent ${batches} batches before any ack`);
    }
    for (const m of held) await receiver.handle(peer, m);
    if (receiver.finished[0]) return receiver.finished[0];
  }
  for (;;) {
    const m = await nextMessage(peer, 10_000);
    assert.ok(await receiver.handle(peer, m), `expected a transfer frame, got ${m.type}`);
    if (receiver.finished[0]) return receiver.finished[0];
  }
}
