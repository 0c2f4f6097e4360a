/**
 * Shared fast-check generators of the parsed facts transfer planning reads
 * (protocol/merge/transfer-plan.ts): two sides drawing from one pool of certificates, so
 * selections and receivers overlap as real stores do.
 */

import fc from 'fast-check';
import { recordKey } from '../merge/entry.ts';
import type { EntryFacts, ReceiverView } from '../merge/transfer-plan.ts';
import type { OverflowPolicy } from '../merge/store.ts';
import { originOf, universeFingerprint, universeKind } from './store-arbitraries.ts';

/** The time planning tests call "now", ms since 1970. */
export const PLAN_NOW = 1_800_000_000_000;

const SUBJECTS = ['CN=Alice', 'CN=Bob', 'CN=Carol', 'CN=Dave'];
const MAILS = ['alice@example.org', 'Bob@example.org', 'carol@example.net', 'dave@example.com'];

/** Facts of pool entry `i` with the varying parts drawn. */
const factsOf = (i: number): fc.Arbitrary<EntryFacts> =>
  fc
    .record({
      subject: fc.constantFrom(...SUBJECTS),
      emails: fc.subarray(MAILS, { maxLength: 2 }),
      expired: fc.boolean(),
      useCount: fc.nat(20),
      lastUsedAt: fc.nat(1_000),
      pinned: fc.boolean(),
    })
    .map((f) => ({
      head: {
        kind: universeKind(i),
        fingerprint: universeFingerprint(i),
        deleted: false,
        clock: 1,
        origin: originOf(i % 3),
      },
      subject: f.subject,
      emails: f.emails,
      notAfter: f.expired ? PLAN_NOW - 1 : PLAN_NOW + 86_400_000,
      useCount: f.useCount,
      lastUsedAt: f.lastUsedAt,
      pinned: f.pinned,
    }));

/** Distinct pool entries, as facts. */
const factsList = (max: number): fc.Arbitrary<EntryFacts[]> =>
  fc
    .uniqueArray(fc.nat(23), { maxLength: max })
    .chain((ids) => fc.tuple(...ids.map(factsOf)).map((xs) => [...xs]));

/** A planning case: a selection on the sender, the sender's live set, and a receiver. */
export interface PlanCase {
  readonly selection: readonly EntryFacts[];
  readonly senderHolds: ReadonlySet<string>;
  readonly receiver: ReceiverView;
}

/** Planning cases with small capacities and any policy. */
export const planCase: fc.Arbitrary<PlanCase> = fc
  .record({
    sender: factsList(10),
    picks: fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
    receiver: factsList(10),
    extraRoom: fc.option(fc.nat(4), { nil: null }),
    policy: fc.constantFrom<OverflowPolicy>('lru', 'alert', 'refuse'),
  })
  .map((c) => ({
    selection: c.sender.filter((_, i) => c.picks[i] === true),
    senderHolds: new Set(c.sender.map((e) => recordKey(e.head))),
    receiver: {
      entries: c.receiver,
      capacity: c.extraRoom === null ? null : c.receiver.length + c.extraRoom,
      policy: c.policy,
    },
  }));
