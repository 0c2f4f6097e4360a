/**
 * Planning of the three transfer modes (spec/reconcile.md, "Transfer modes"), as pure
 * functions from what the user selected on one side and what the other side holds to the
 * list of changes the receiver makes. The same functions serve either direction: the
 * sender is whichever side holds the selection.
 *
 * - add: store each selected entry the receiver does not hold.
 * - update: each selected entry replaces, on the receiver, a certificate for the same
 *   subject or a shared e-mail address: an expired one first, else the least used one;
 *   with no such certificate it is added.
 * - replace-all: the receiver is emptied, then stores the selection.
 *
 * Rules every plan keeps: the receiver never holds more live entries than its capacity
 * (removals come before stores); when full, its policy decides (lru evicts the least
 * recently used unpinned entry that is not part of the selection; alert and refuse leave
 * the entry out, with the code the session reports); and no entry that only the receiver
 * holds is removed without first being offered to the sender (`offerFirst`).
 */

import { recordKey, type EntryHead } from './entry.ts';
import type { OverflowPolicy } from './store.ts';

/** The three modes (MISSION: add, update, replace all). */
export type TransferMode = 'add' | 'update' | 'replace-all';

/** What planning needs to know of a live entry, from the fields the store parsed. */
export interface EntryFacts {
  readonly head: EntryHead;
  /** Subject DN (a CRL: its issuer). */
  readonly subject: string;
  readonly emails: readonly string[];
  /** End of validity, ms since 1970 (a CRL: nextUpdate). */
  readonly notAfter: number;
  readonly useCount: number;
  readonly lastUsedAt: number;
  readonly pinned: boolean;
}

/** The receiver as planning sees it. */
export interface ReceiverView {
  readonly entries: readonly EntryFacts[];
  readonly capacity: number | null;
  readonly policy: OverflowPolicy;
}

/** Why a selected entry is left out. */
export type RefusalCode = 'store-full' | 'overflow-alert' | 'unchanged';

/** The receiver's changes, to run in this order: offer, purge, replace, evict, store. */
export interface TransferPlan {
  readonly mode: TransferMode;
  /** Receiver entries the sender lacks that the plan removes: send them to the sender first. */
  readonly offerFirst: readonly EntryHead[];
  /** Receiver entries removed without a tombstone (replace-all empties the store). */
  readonly purge: readonly EntryHead[];
  /** Update mode: `victim` is deleted (a tombstone) and `incoming` stored in its place. */
  readonly replace: readonly { readonly incoming: EntryHead; readonly victim: EntryHead }[];
  /** Entries the lru policy evicts (removed without a tombstone) to make room. */
  readonly evict: readonly EntryHead[];
  /** Selected entries stored as new live entries. */
  readonly store: readonly EntryHead[];
  /** Selected entries left out, and why. */
  readonly refused: readonly { readonly head: EntryHead; readonly code: RefusalCode }[];
}

/**
 * Plans a transfer of `selection` to `receiver`. `senderHolds` are the record keys
 * (protocol/merge/entry.ts, recordKey) of the live entries the sender holds; `now` is the
 * time that decides what is expired, in ms since 1970.
 *
 * @throws RangeError when the receiver already holds more than its capacity
 */
export function planTransfer(
  mode: TransferMode,
  selection: readonly EntryFacts[],
  receiver: ReceiverView,
  senderHolds: ReadonlySet<string>,
  now: number,
): TransferPlan {
  const live = receiver.entries.length;
  if (receiver.capacity !== null && live > receiver.capacity) {
    throw new RangeError(`expected at most ${receiver.capacity} live entries, got ${live}`);
  }
  const held = new Map(receiver.entries.map((e) => [recordKey(e.head), e]));
  const chosen = new Set(selection.map((s) => recordKey(s.head)));
  const offerFirst: EntryHead[] = [];
  const purge: EntryHead[] = [];
  const replace: { incoming: EntryHead; victim: EntryHead }[] = [];
  const evict: EntryHead[] = [];
  const store: EntryHead[] = [];
  const refused: { head: EntryHead; code: RefusalCode }[] = [];
  const gone = new Set<string>();
  const remove = (e: EntryFacts, list: EntryHead[]): void => {
    const k = recordKey(e.head);
    gone.add(k);
    list.push(e.head);
    if (!senderHolds.has(k)) offerFirst.push(e.head);
  };

  if (mode === 'replace-all') {
    for (const e of receiver.entries) if (!chosen.has(recordKey(e.head))) remove(e, purge);
  }
  let count = live - purge.length;
  const lruOrder = [...receiver.entries]
    .filter((e) => !e.pinned && !chosen.has(recordKey(e.head)))
    .sort((x, y) => x.lastUsedAt - y.lastUsedAt || x.useCount - y.useCount);

  for (const s of selection) {
    const k = recordKey(s.head);
    if (held.has(k) && !gone.has(k)) {
      refused.push({ head: s.head, code: 'unchanged' });
      continue;
    }
    if (mode === 'update') {
      const victim = pickUpdateVictim(s, receiver.entries, gone, chosen, now);
      if (victim !== null) {
        const k2 = recordKey(victim.head);
        gone.add(k2);
        replace.push({ incoming: s.head, victim: victim.head });
        if (!senderHolds.has(k2)) offerFirst.push(victim.head);
        continue;
      }
    }
    if (receiver.capacity === null || count < receiver.capacity) {
      store.push(s.head);
      count += 1;
      continue;
    }
    if (receiver.policy !== 'lru' || mode === 'replace-all') {
      const code = receiver.policy === 'alert' ? 'overflow-alert' : 'store-full';
      refused.push({ head: s.head, code });
      continue;
    }
    const victim = lruOrder.find((e) => !gone.has(recordKey(e.head)));
    if (victim === undefined) {
      refused.push({ head: s.head, code: 'store-full' });
      continue;
    }
    remove(victim, evict);
    store.push(s.head);
  }
  return { mode, offerFirst, purge, replace, evict, store, refused };
}

/** Normalised e-mail address: addresses compare without case. */
function mailKey(address: string): string {
  return address.trim().toLowerCase();
}

/**
 * The certificate an update replaces: same kind, not pinned, not removed or selected
 * already, with the same subject or a shared e-mail address; an expired one first (the
 * earliest end of validity), else the least used (fewest uses, then least recently used).
 */
function pickUpdateVictim(
  s: EntryFacts,
  entries: readonly EntryFacts[],
  gone: ReadonlySet<string>,
  chosen: ReadonlySet<string>,
  now: number,
): EntryFacts | null {
  const mails = new Set(s.emails.map(mailKey));
  const matches = entries.filter((e) => {
    const k = recordKey(e.head);
    if (e.head.kind !== s.head.kind || e.pinned || gone.has(k) || chosen.has(k)) return false;
    return e.subject === s.subject || e.emails.some((m) => mails.has(mailKey(m)));
  });
  if (matches.length === 0) return null;
  const expired = matches.filter((e) => e.notAfter < now);
  if (expired.length > 0) return expired.sort((x, y) => x.notAfter - y.notAfter)[0] ?? null;
  return matches.sort((x, y) => x.useCount - y.useCount || x.lastUsedAt - y.lastUsedAt)[0] ?? null;
}
