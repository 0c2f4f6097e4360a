/**
 * Capacity limit and overflow policy of a store (certificates only; CRLs do not count).
 *
 * - `lru`: a new certificate replaces the least recently used unpinned one. Recency is a
 *   local counter bumped by every insert and every recorded use, so there are no ties;
 *   the fingerprint breaks them anyway should two rows ever share a value.
 * - `alert`: the insert fails with {@link OverflowAlert}, which lists the candidates in
 *   least-recently-used order; the caller retries with a chosen victim, or gives up.
 * - `refuse`: the insert fails with `store-full`.
 *
 * Evicting is a local storage decision, not a deletion: it leaves no tombstone, so a peer
 * that still holds the certificate keeps it. Pinned certificates are never evicted; when only
 * pinned ones are left, every policy fails with `store-full`.
 */
import { CertsyncError } from '../../protocol/errors.ts';
import {
  RECORD_COLUMNS,
  recordFromRow,
  type CertificateRecord,
  type RecordRow,
} from './certificate-record.ts';
import type { StoreContext } from './context.ts';

/** What a full store does with one more certificate. */
export type OverflowPolicy = 'lru' | 'alert' | 'refuse';

/** Every policy, in the order the CLI lists them. */
export const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ['lru', 'alert', 'refuse'];

/** At most this many candidates travel in an {@link OverflowAlert}. */
export const MAX_ALERT_CANDIDATES = 100;

/** The store is full under policy `alert`: choose victims among `candidates`, or abort. */
export class OverflowAlert extends CertsyncError {
  /** How many certificates must go for the insert to fit. */
  readonly needed: number;
  /** Unpinned certificates, least recently used first: `needed` of them, or up to {@link MAX_ALERT_CANDIDATES}. */
  readonly candidates: readonly CertificateRecord[];

  constructor(message: string, needed: number, candidates: readonly CertificateRecord[]) {
    super('overflow-alert', message);
    this.needed = needed;
    this.candidates = candidates;
  }
}

/** A store's size against its limit. */
export interface CapacityState {
  /** Certificates held. */
  readonly count: number;
  /** The limit, or null for none. */
  readonly capacity: number | null;
  /** Room left, or null without a limit. */
  readonly free: number | null;
  readonly policy: OverflowPolicy;
  /** Certificates that can never be evicted. */
  readonly pinned: number;
}

/** What inserting some new certificates would cost; see {@link Capacity.wouldEvict}. */
export interface EvictionPlan {
  /** Certificates that must leave for the new ones to fit (0 when there is room). */
  readonly needed: number;
  readonly policy: OverflowPolicy;
  /** The unpinned certificates `lru` would evict, least recently used first. */
  readonly victims: readonly CertificateRecord[];
  /**
   * False when `lru` could not make the room (every certificate held is pinned). With more
   * new certificates than the capacity, `victims` lists only those held now.
   */
  readonly possible: boolean;
}

/** Reads and sets the limit, and picks victims. */
export class Capacity {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  /** Count, limit, room and policy. */
  state(): CapacityState {
    return this.ctx.read(() => {
      const meta = this.ctx.db.prepare('SELECT capacity, policy FROM meta').get() as {
        capacity: number | null;
        policy: OverflowPolicy;
      };
      const counts = this.ctx.db
        .prepare('SELECT count(*) AS n, coalesce(sum(pinned), 0) AS p FROM certificates')
        .get() as { n: number; p: number };
      const free = meta.capacity === null ? null : Math.max(0, meta.capacity - counts.n);
      return {
        count: counts.n,
        capacity: meta.capacity,
        free,
        policy: meta.policy,
        pinned: counts.p,
      };
    });
  }

  /**
   * Sets the limit (null for none) and/or the policy.
   *
   * @throws RangeError for a negative or fractional limit or an unknown policy
   * @throws CertsyncError `bad-input` when the limit is below the certificates held
   */
  set(change: { capacity?: number | null; policy?: OverflowPolicy }): CapacityState {
    const { capacity, policy } = change;
    if (
      capacity !== undefined &&
      capacity !== null &&
      !(Number.isSafeInteger(capacity) && capacity >= 0)
    ) {
      throw new RangeError(`expected a capacity that is a whole number >= 0, got ${capacity}`);
    }
    if (policy !== undefined && !OVERFLOW_POLICIES.includes(policy)) {
      throw new RangeError(
        `expected a policy of ${OVERFLOW_POLICIES.join(', ')}, got ${String(policy)}`,
      );
    }
    this.ctx.write(() => {
      if (capacity !== undefined) {
        const held = Number(this.ctx.db.prepare('SELECT count(*) FROM certificates').pluck().get());
        if (capacity !== null && capacity < held) {
          throw new CertsyncError(
            'bad-input',
            `capacity ${capacity} is below the ${held} certificates held; delete some first`,
          );
        }
        this.ctx.db.prepare('UPDATE meta SET capacity = ?').run(capacity);
      }
      if (policy !== undefined) this.ctx.db.prepare('UPDATE meta SET policy = ?').run(policy);
    });
    return this.state();
  }

  /** Up to `limit` unpinned certificates, least recently used first. */
  victims(limit: number): CertificateRecord[] {
    return this.ctx.read(() =>
      (
        this.ctx.db
          .prepare(
            `SELECT ${RECORD_COLUMNS} FROM certificates c WHERE c.pinned = 0
             ORDER BY c.touch, c.fingerprint LIMIT ?`,
          )
          .all(limit) as RecordRow[]
      ).map(recordFromRow),
    );
  }

  /**
   * What inserting `newCount` certificates not yet held would do: how many must leave and
   * which ones `lru` would pick. Lets the sync layer offer a last copy to the peer first.
   */
  wouldEvict(newCount: number): EvictionPlan {
    if (!(Number.isSafeInteger(newCount) && newCount >= 0)) {
      throw new RangeError(`expected a count that is a whole number >= 0, got ${newCount}`);
    }
    const state = this.state();
    const needed =
      state.capacity === null ? 0 : Math.max(0, state.count + newCount - state.capacity);
    const victims = needed ? this.victims(needed) : [];
    // Under lru an insert fails only when every certificate held is pinned: otherwise each new
    // one can replace an unpinned one (when more arrive than fit, their own first ones).
    const possible = needed === 0 || (state.capacity ?? 0) > state.pinned;
    return { needed, policy: state.policy, victims, possible };
  }
}
