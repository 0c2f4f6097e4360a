/**
 * What a client does by itself when a peer connects, by its `auto` setting (on either
 * side): `off` waits for commands, `list` compares the two stores, `sync` reconciles them,
 * `check-and-sync` checks the own store first (when the check interval has passed) so that
 * certificates found invalid are known before anything is sent, then reconciles.
 */
import type { ListOrder } from '../../protocol/messages/catalog.ts';
import type { ListEntry } from '../../protocol/messages/records.ts';
import type { ReconcileReport } from '../../protocol/reconcile/reconciler.ts';
import { hexOf } from '../../protocol/wire/hex.ts';
import type { Store } from '../store/index.ts';
import type { PeerSession } from './peer-session.ts';
import { checkOwnStore, type CheckOptions, type OwnCheck } from './validity.ts';

/** The settings of `auto`. */
export const AUTO_MODES = ['off', 'list', 'sync', 'check-and-sync'] as const;
/** One `auto` setting. */
export type AutoMode = (typeof AUTO_MODES)[number];

const SETTING = 'auto';

/** True for one of {@link AUTO_MODES}. */
export function isAutoMode(value: unknown): value is AutoMode {
  return typeof value === 'string' && (AUTO_MODES as readonly string[]).includes(value);
}

/** The store's `auto` setting; `off` when unset. */
export function storedAutoMode(store: Store): AutoMode {
  const v = store.settings.getJson(SETTING);
  return isAutoMode(v) ? v : 'off';
}

/** Records the store's `auto` setting. */
export function rememberAutoMode(store: Store, mode: AutoMode): void {
  store.settings.setJson(SETTING, mode);
}

/** Both stores side by side, by fingerprint. */
export interface StoreComparison {
  readonly mine: number;
  readonly theirs: number;
  readonly both: number;
  /** Fingerprints (hex) only this side holds, in its store order. */
  readonly onlyMine: readonly string[];
  /** The peer's entries this side lacks, in the peer's order. */
  readonly onlyTheirs: readonly ListEntry[];
  /** The peer's whole listing. */
  readonly theirEntries: readonly ListEntry[];
}

/** Lists the peer's store (certificates, in `order`) and compares it with the own. */
export async function compareStores(
  session: PeerSession,
  store: Store,
  order: ListOrder = 'store',
): Promise<StoreComparison> {
  const theirEntries = (await session.list(order)).filter((e) => e.kind === 'cert');
  const theirs = new Set(theirEntries.map((e) => hexOf(e.id)));
  const mine = store.certificates.list('store').map((r) => r.fingerprintHex);
  const mineSet = new Set(mine);
  return {
    mine: mine.length,
    theirs: theirEntries.length,
    both: mine.filter((h) => theirs.has(h)).length,
    onlyMine: mine.filter((h) => !theirs.has(h)),
    onlyTheirs: theirEntries.filter((e) => !mineSet.has(hexOf(e.id))),
    theirEntries,
  };
}

/** What an automatic run did. */
export interface AutoResult {
  readonly mode: AutoMode;
  readonly comparison?: StoreComparison;
  readonly check?: OwnCheck;
  readonly reconcile?: ReconcileReport;
}

/**
 * Runs the automatic part of a session by `mode`. A reconcile the peer's setting started is
 * awaited whatever this side's mode.
 */
export async function runAuto(
  session: PeerSession,
  mode: AutoMode,
  store: Store,
  check: CheckOptions = {},
): Promise<AutoResult> {
  switch (mode) {
    case 'off':
      return { mode };
    case 'list':
      return { mode, comparison: await compareStores(session, store) };
    case 'sync':
      return { mode, reconcile: await session.reconcile() };
    case 'check-and-sync': {
      const own = await checkOwnStore(store, check);
      return { mode, check: own, reconcile: await session.reconcile() };
    }
  }
}
