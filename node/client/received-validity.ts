/**
 * What a peer's check found about this store (spec/protocol.md, "validity-report"): a
 * better-connected peer that ran `certsync peer check` sends its verdict on each of this
 * side's certificates it checked. This side shows them and records, in the store's settings
 * beside its other check times, when and by which peer its store was checked and what was
 * found. The verdicts change nothing in the store: replacing or deleting a bad certificate
 * is a transfer or a delete the peer sends next, under this store's own policy.
 *
 * The record is `checked-by-peer:<name>` (node/store/SCHEMA.md, "settings"), one per peer,
 * replaced by the peer's next report. It does not move `last-check-at`: that is the store's
 * own check, with its own trust and network, which the check interval governs, while a
 * peer's report covers the certificates that peer chose to check, by the peer's trust.
 * The time recorded is this side's clock when the report arrived, not the peer's `checkedAt`:
 * check times here are all on this side's clock.
 *
 * Every field comes from the peer, so each is bounded and made printable before it is kept
 * or shown: an id this store does not hold is counted, not listed.
 */
import type { ValidityResult, ValidityStatus } from '../../protocol/messages/catalog.ts';
import { hexOf } from '../../protocol/wire/hex.ts';
import type { Store } from '../store/index.ts';

/** One of this store's certificates that the peer did not find valid. */
export interface ReceivedVerdict {
  /** Fingerprint, hex. */
  readonly id: string;
  /** The certificate's name in this store. */
  readonly name: string;
  readonly status: ValidityStatus;
  /** The peer's reason, printable and at most {@link MAX_REASON} characters. */
  readonly reason: string;
}

/** What one peer reported in one session, as recorded and shown. */
export interface ReceivedValidity {
  readonly peer: string;
  /** When the (last) report of the session arrived, ms since 1970, this side's clock. */
  readonly at: number;
  /** Verdicts on certificates this store holds. */
  readonly checked: number;
  /** Of those, how many had each status. */
  readonly counts: Readonly<Partial<Record<ValidityStatus, number>>>;
  /** The ones not valid, first {@link MAX_LISTED}. */
  readonly notValid: readonly ReceivedVerdict[];
  /** Verdicts on ids this store does not hold (deleted meanwhile, or never held). */
  readonly notHeld: number;
}

/** Longest reason kept, in characters. */
export const MAX_REASON = 200;
/** Most not-valid certificates kept in one record; the counts cover all. */
export const MAX_LISTED = 256;

/** The settings key of `peer`'s last report on this store. */
export function receivedValiditySetting(peer: string): string {
  return `checked-by-peer:${peer}`;
}

/** True for a control character (C0, DEL, C1) or a line or paragraph separator. */
function isControl(char: string): boolean {
  const c = char.codePointAt(0) as number;
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029;
}

/** `text` without control characters (each becomes `?`), cut to `max` characters. */
function printable(text: string, max: number): string {
  const chars = [...text].map((c) => (isControl(c) ? '?' : c));
  return chars.length <= max ? chars.join('') : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * Collects the reports one session brings and records them in the store; see the module
 * comment. Reports may arrive before the peer's name is known to the caller: they are kept
 * and recorded once {@link ValidityReceiver.peerIs} names it.
 */
export class ValidityReceiver {
  private readonly store: Store;
  private readonly now: () => number;
  private peer: string | undefined;
  private report: ReceivedValidity | undefined;
  private counts: Partial<Record<ValidityStatus, number>> = {};
  private readonly listed: ReceivedVerdict[] = [];
  private checked = 0;
  private notHeld = 0;

  constructor(store: Store, now: () => number = Date.now) {
    this.store = store;
    this.now = now;
  }

  /** The session's callback for a received report (PeerSessionOptions.onValidityReport). */
  readonly onReport = (results: readonly ValidityResult[]): void => {
    for (const r of results) {
      const record = this.store.certificates.get(r.id);
      if (!record) {
        this.notHeld++;
        continue;
      }
      this.checked++;
      this.counts[r.status] = (this.counts[r.status] ?? 0) + 1;
      if (r.status !== 'valid' && this.listed.length < MAX_LISTED) {
        this.listed.push({
          id: hexOf(r.id),
          name: printable(record.displayName, 80),
          status: r.status,
          reason: printable(r.reason ?? '', MAX_REASON),
        });
      }
    }
    this.report = {
      peer: this.peer ?? '',
      at: this.now(),
      checked: this.checked,
      counts: { ...this.counts },
      notValid: [...this.listed],
      notHeld: this.notHeld,
    };
    this.save();
  };

  /** Names the peer the reports come from, and records what arrived before. */
  peerIs(name: string): void {
    this.peer = name;
    this.save();
  }

  /** What this session's reports said, or undefined when none came. */
  get received(): ReceivedValidity | undefined {
    return this.report;
  }

  private save(): void {
    if (this.peer === undefined || this.report === undefined) return;
    this.report = { ...this.report, peer: this.peer };
    this.store.settings.setJson(receivedValiditySetting(this.peer), {
      ...this.report,
      counts: { ...this.report.counts },
      notValid: this.report.notValid.map((v) => ({ ...v })),
    });
  }
}

/**
 * Lines for a person: `checked by pc: 3 certificates, 1 valid, 1 revoked, 1 expired`, then
 * one line per certificate not valid.
 */
export function receivedValidityLines(r: ReceivedValidity): string[] {
  const counts = Object.entries(r.counts).map(([status, n]) => `${n} ${status}`);
  const held = r.notHeld > 0 ? `; ${r.notHeld} not held here` : '';
  const head = `checked by ${r.peer}: ${r.checked} certificates, ${counts.join(', ') || 'none'}${held}`;
  const lines = r.notValid.map(
    (v) => `  ${v.id.slice(0, 16)}  ${v.status.padEnd(13)} ${v.name}: ${v.reason}`,
  );
  const unlisted = r.checked - (r.counts.valid ?? 0) - r.notValid.length;
  if (unlisted > 0) lines.push(`  and ${unlisted} more not valid`);
  return [head, ...lines];
}
