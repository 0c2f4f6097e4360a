/**
 * Deliberately broken variants of certsync's conformance adapter, each breaking one rule of
 * the spec. `certsync-adapter.ts --mutant NAME` runs one; the conformance suite must fail
 * against every one of them (conformance/conformance.test.ts checks that it does).
 *
 * Each mutant works through the adapter's hook points (session-driver.ts): the bytes of its
 * own hello, the prologue, the plaintext frames either way, the store, the reconciler (its
 * runs, changed by run-mutations.ts). Frame rewrites decode and re-encode the CBOR item
 * deterministically, so a rewritten frame is still well formed.
 */
import type { ItemResult, Tombstone, Item } from '../protocol/messages/records.ts';
import type { Entry } from '../protocol/merge/entry.ts';
import type { ApplyContext, ApplyOutcome } from '../protocol/merge/store.ts';
import type { ReceiveOutcome, StoreView } from '../protocol/session/store-view.ts';
import type { SyncStore } from '../protocol/merge/store.ts';
import type { TransferMode } from '../protocol/messages/catalog.ts';
import { decodeCbor, encodeCbor, type CborKey, type CborValue } from '../protocol/wire/cbor.ts';
import { DEFAULT_LIMITS } from '../protocol/wire/limits.ts';
import type { PeerBook } from '../node/keys/peer-book.ts';
import type { DriverHooks } from './adapter/session-driver.ts';
import { cellsInOldBatches, decodesWithoutCheck, withoutLookahead } from './run-mutations.ts';

/** One broken variant: what it breaks and how. */
export interface Mutant {
  readonly name: string;
  /** The rule it breaks, in the spec's words, with the section. */
  readonly breaks: string;
  readonly hooks: DriverHooks;
  /** The store takes no capacity, while the adapter still reports the one it was given. */
  readonly ignoresCapacity?: boolean;
  /** Turns the user's answer to a pairing code into the one the client acts on. */
  readonly confirms?: (userSaid: boolean) => boolean;
  /**
   * Names (or name prefixes) of the cases expected to catch it. The mutant run tries them
   * first, then every other case: a hint for speed, never a way to skip a case.
   */
  readonly caughtBy?: readonly string[];
}

type Envelope = [number, number, Map<CborKey, CborValue>];

/** The frame as an envelope, or null when it is not one (left to the engine to reject). */
function envelopeOf(frame: Uint8Array): Envelope | null {
  try {
    const v = decodeCbor(frame, DEFAULT_LIMITS);
    if (!Array.isArray(v) || v.length !== 3) return null;
    const [version, type, payload] = v;
    if (typeof version !== 'number' || typeof type !== 'number') return null;
    if (!(payload instanceof Map)) return null;
    return [version, type, new Map(payload)];
  } catch {
    return null;
  }
}

/** Applies `edit` to the frame's envelope; frames that are not envelopes pass unchanged. */
function rewrite(frame: Uint8Array, edit: (e: Envelope) => void): Uint8Array {
  const e = envelopeOf(frame);
  if (!e) return frame;
  edit(e);
  return encodeCbor(e);
}

/** Wraps a store so that received tombstones change nothing yet are reported as applied. */
function ignoreTombstones(s: StoreView & SyncStore): StoreView & SyncStore {
  const receive = (entry: Item | Tombstone, mode: TransferMode, victim?: string) => {
    if ('deletedAt' in entry) {
      const result: ItemResult = { id: entry.id, outcome: 'deleted' };
      return { kind: 'done', result } satisfies ReceiveOutcome;
    }
    return s.receive(entry, mode, victim);
  };
  const apply = (entry: Entry, ctx: ApplyContext): ApplyOutcome =>
    entry.deleted ? { kind: 'unchanged' } : s.apply(entry, ctx);
  return new Proxy(s, {
    get(target, key, receiver) {
      if (key === 'receive') return receive;
      if (key === 'apply') return apply;
      const v: unknown = Reflect.get(target, key, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** A peer book that takes every key for a paired peer's. */
function everyonePaired(book: PeerBook): PeerBook {
  return {
    ...book,
    findByKey: (key) => book.findByKey(key) ?? { name: 'stranger', publicKey: key, pairedAt: 0 },
  };
}

/**
 * An outgoing-frame filter that holds reconciliation entries (type 18) until `done` (20)
 * and then sends the live ones before the deletions. Its state lives for the adapter's
 * run, as a mutant's hooks do; a session cut before `done` leaves entries held.
 */
function deletionsLast(): (frame: Uint8Array) => Uint8Array[] {
  const held: { frame: Uint8Array; deleted: boolean }[] = [];
  return (frame) => {
    const e = envelopeOf(frame);
    if (e?.[1] === 18) {
      held.push({ frame, deleted: e[2].get(2) === true });
      return [];
    }
    if (e?.[1] !== 20 || held.length === 0) return [frame];
    const out = [...held.filter((h) => !h.deleted), ...held.filter((h) => h.deleted)];
    held.length = 0;
    return [...out.map((h) => h.frame), frame];
  };
}

/** Rewrites the 63 digest bytes of this side's hello summary with `edit`. */
function editDigest(frame: Uint8Array, edit: (digest: Uint8Array) => void): Uint8Array {
  return rewrite(frame, (e) => {
    const summary = e[2].get(2);
    const digest = summary instanceof Map ? summary.get(4) : undefined;
    if (!(summary instanceof Map) || !(digest instanceof Uint8Array) || digest.length < 63) return;
    const changed = digest.slice();
    edit(changed);
    e[2].set(2, new Map(summary).set(4, changed));
  });
}

/** Every mutant, by name. */
export const MUTANTS: readonly Mutant[] = [
  {
    name: 'ignores-tombstones',
    breaks: 'reconcile.md 10 / protocol.md 8.5: tombstones are applied by the merge rule',
    hooks: { store: ignoreTombstones },
    caughtBy: ['transfer/tombstone-applied'],
  },
  {
    name: 'exceeds-capacity',
    breaks: 'protocol.md 8.5: capacity is never exceeded',
    hooks: {},
    ignoresCapacity: true,
    caughtBy: ['overflow/lru-evicts-unpinned'],
  },
  {
    name: 'accepts-unknown-version',
    breaks: 'protocol.md 5: no common version is no-common-version; other envelope versions fail',
    hooks: {
      incoming: (f) =>
        rewrite(f, (e) => {
          e[0] = 1;
          if (e[1] === 1) e[2].set(0, [1, 1]);
        }),
    },
    caughtBy: ['versions/no-overlap'],
  },
  {
    name: 'skips-transcript-binding',
    breaks: 'session.md 4: the two hello frames are the handshake prologue',
    hooks: { bindHellos: false },
    caughtBy: ['handshake/altered-hello-detected'],
  },
  {
    name: 'miscounts-digest',
    breaks: 'reconcile.md 7: the digest counts every record, live and tombstones',
    hooks: {
      ownHello: (f) =>
        editDigest(f, (d) => {
          const view = new DataView(d.buffer);
          view.setUint32(17, view.getUint32(17) + 1);
        }),
    },
    caughtBy: ['reconcile/digest-'],
  },
  {
    name: 'miscomputes-estimator',
    breaks: 'reconcile.md 6: the estimator flips one bit per record, chosen by its item hash',
    hooks: { ownHello: (f) => editDigest(f, (d) => void (d[21] = (d[21] as number) ^ 0x80)) },
    caughtBy: ['reconcile/digest-bytes'],
  },
  {
    name: 'truncates-frame',
    breaks: 'protocol.md 2: every frame is exactly one whole CBOR item',
    hooks: { outgoing: (f) => [f.length > 160 ? f.subarray(0, f.length - 1) : f] },
    caughtBy: ['cbor/deterministic-output'],
  },
  {
    name: 'rejects-extension-types',
    breaks: 'protocol.md 6: types 128..65535 are skipped silently',
    hooks: { incoming: (f) => rewrite(f, (e) => void (e[1] >= 128 && (e[1] = 4))) },
    caughtBy: ['unknown/extension-type-skipped'],
  },
  {
    name: 'accepts-critical-fields',
    breaks: 'protocol.md 6: a negative payload key the receiver does not know is rejected',
    hooks: {
      incoming: (f) =>
        rewrite(f, (e) => {
          for (const k of [...e[2].keys()]) if (typeof k === 'number' && k < 0) e[2].delete(k);
        }),
    },
    caughtBy: ['unknown/negative-field-rejected'],
  },
  {
    name: 'no-goodbye-answer',
    breaks: 'protocol.md 8.8: a side that receives goodbye answers goodbye',
    hooks: { outgoing: (f) => (envelopeOf(f)?.[1] === 2 ? [] : [f]) },
    caughtBy: ['session/goodbye-answered'],
  },
  {
    name: 'wrong-ack-seq',
    breaks: 'protocol.md 8.5: items-ack names the batch it acknowledges',
    hooks: {
      outgoing: (f) => [
        rewrite(f, (e) => {
          const seq = e[2].get(1);
          if (e[1] === 43 && typeof seq === 'number') e[2].set(1, seq + 1);
        }),
      ],
    },
    caughtBy: ['transfer/push-add'],
  },
  {
    name: 'accepts-unpaired-peer',
    breaks: 'session.md 6.2 / 10: a peer whose key is not paired gets no session',
    hooks: { peers: everyonePaired },
    caughtBy: ['handshake/unpaired-peer-refused'],
  },
  {
    name: 'confirms-for-the-user',
    breaks: "session.md 7.1: a client never confirms a pairing code on its user's behalf",
    hooks: {},
    confirms: () => true,
    caughtBy: ['pairing/code-rejected-by-user'],
  },
  {
    name: 'rekeys-late',
    breaks: 'session.md 9: the key rotates with the record that reaches the bound',
    hooks: { rekey: (b) => ({ records: b.records + 1, bytes: b.bytes + 1 }) },
    caughtBy: ['rekey/'],
  },
  {
    name: 'sends-deletions-last',
    breaks: 'reconcile.md 9.3: deletions are streamed before every live entry',
    hooks: { outgoing: deletionsLast() },
    caughtBy: ['reconcile/entries-in-order'],
  },
  {
    name: 'lists-out-of-order',
    breaks: 'protocol.md 7.3: a list-page holds its entries in the order asked',
    hooks: {
      outgoing: (f) => [
        rewrite(f, (e) => {
          const entries = e[2].get(1);
          if (e[1] === 33 && Array.isArray(entries)) e[2].set(1, [...entries].reverse());
        }),
      ],
    },
    caughtBy: ['list/orders'],
  },
  {
    name: 'repeats-a-listed-key',
    breaks: 'reconcile.md 9.4: a key list holds each record of the sender once',
    hooks: {
      outgoing: (f) => [
        rewrite(f, (e) => {
          const keys = e[2].get(0);
          if (e[1] !== 17 || e[2].get(1) !== false || !(keys instanceof Uint8Array)) return;
          if (keys.length < 6) return;
          e[2].set(0, Uint8Array.from([...keys, ...keys.subarray(0, 6)]));
        }),
      ],
    },
    caughtBy: ['reconcile/key-lists-when'],
  },
  {
    name: 'syndromes-little-endian',
    breaks: 'reconcile.md 8.1: on the wire a syndrome is 6 bytes, big-endian',
    hooks: {
      outgoing: (f) => [
        rewrite(f, (e) => {
          const units = e[2].get(1);
          if (e[1] !== 21 || !(units instanceof Uint8Array)) return;
          const out = new Uint8Array(units.length);
          for (let i = 0; i < units.length; i++) {
            out[i] = units[i - (i % 6) + 5 - (i % 6)] as number;
          }
          e[2].set(1, out);
        }),
      ],
    },
    caughtBy: ['reconcile/syndromes-for-one'],
  },
  {
    name: 'decodes-without-a-check-syndrome',
    breaks: 'reconcile.md 8.1: a reconcile decodes t syndromes with m = t - 1',
    hooks: { reconciler: decodesWithoutCheck },
    caughtBy: ['reconcile/syndromes-decode-with-one-check'],
  },
  {
    name: 'skips-the-lookahead',
    breaks: 'reconcile.md 9.2: a side sends its own units up to c + lookahead · chunk',
    hooks: { reconciler: withoutLookahead },
    caughtBy: ['reconcile/syndromes-for-one'],
  },
  {
    name: 'cells-in-old-batches',
    breaks: 'reconcile.md 9.2: a cell run begins with [0, first + 2 chunk), first = ceil(6e/5) + 2',
    hooks: { reconciler: cellsInOldBatches },
    caughtBy: ['reconcile/cells-for-a-larger'],
  },
];

const CORRECT: Mutant = { name: 'none', breaks: 'nothing', hooks: {} };

/**
 * The mutant called `name`, or the correct adapter when `name` is absent.
 *
 * @throws RangeError for an unknown name
 */
export function mutantNamed(name: string | undefined): Mutant {
  if (name === undefined || name === 'none') return CORRECT;
  const m = MUTANTS.find((x) => x.name === name);
  if (!m) {
    throw new RangeError(
      `expected a mutant (${MUTANTS.map((x) => x.name).join(', ')}), got ${name}`,
    );
  }
  return m;
}
