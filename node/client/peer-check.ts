/**
 * `peer check`: the better-connected side checks the peer's certificates for it. It lists
 * the peer's store, reads the certificates it does not hold itself (a pull whose items are
 * collected, not stored), validates them with its own trust and network, tells the peer the
 * verdicts, and for each expired, revoked or otherwise invalid one replaces it with a valid
 * certificate for the same subject or address (own store first, then the key server) or
 * deletes it, as the user chooses. The time of each peer's last check is recorded.
 */
import type { ValidityResult } from '../../protocol/messages/catalog.ts';
import { bytesOf, hexOf } from '../../protocol/wire/hex.ts';
import { parseCertificate } from '../pki/index.ts';
import type { Store } from '../store/index.ts';
import { clipUtf8 } from './list-entry.ts';
import type { PeerSession } from './peer-session.ts';
import {
  checkCertificates,
  replacementFromKeyServer,
  replacementFromStore,
  type CheckOptions,
  type CheckedCertificate,
} from './validity.ts';

/** What to do with an invalid certificate on the peer. */
export const PEER_FIXES = ['ask', 'replace', 'replace-or-delete', 'delete', 'none'] as const;
/** One of {@link PEER_FIXES}. */
export type PeerFix = (typeof PEER_FIXES)[number];

/** Settings of one peer check. */
export interface PeerCheckOptions {
  readonly fix: PeerFix;
  readonly force: boolean;
  /** Key server for replacements (node/client/README.md, "Key server"). */
  readonly keyserver?: string;
  readonly check: CheckOptions;
  /** Where notes for the user go. */
  readonly warn: (line: string) => void;
  /**
   * Asks the user a question and resolves with the answer, or null when there is none (fix
   * `ask`; without it, `ask` keeps every certificate).
   */
  readonly ask?: (question: string) => Promise<string | null>;
  /** Clock in ms; default Date.now. */
  readonly now?: number;
}

/** One of the peer's certificates after the check. */
export interface PeerCheckResult extends CheckedCertificate {
  /** What was done: `replaced by <hex>`, `deleted`, or absent. */
  readonly action?: string;
}

/** The outcome of {@link checkPeer}. */
export interface PeerCheckReport {
  readonly ran: boolean;
  readonly lastCheckAt: number | null;
  readonly results: readonly PeerCheckResult[];
}

/** Most ids one request names (spec/protocol.md, "Limits"). */
const BATCH = 512;

function settingKey(peer: string): string {
  return `peer-check-at:${peer}`;
}

/** Runs a peer check; see the module comment. */
export async function checkPeer(
  session: PeerSession,
  store: Store,
  options: PeerCheckOptions,
): Promise<PeerCheckReport> {
  const now = options.now ?? Date.now();
  const key = settingKey(session.peer.name);
  const last = store.settings.getJson(key);
  const lastCheckAt = typeof last === 'number' ? last : null;
  const interval = store.settings.get('check-interval-seconds') * 1000;
  if (!options.force && lastCheckAt !== null && now - lastCheckAt < interval) {
    return { ran: false, lastCheckAt, results: [] };
  }

  // Their certificates' bytes: from the own store when held, else read from the peer.
  const entries = (await session.list('store')).filter((e) => e.kind === 'cert');
  const ders = new Map<string, Uint8Array>();
  const missing: Uint8Array[] = [];
  for (const e of entries) {
    const der = store.certificates.der(e.id);
    if (der) ders.set(hexOf(e.id), der);
    else missing.push(e.id);
  }
  if (missing.length > 0) {
    const got = await session.store.collecting(async () => {
      for (let i = 0; i < missing.length; i += BATCH) {
        await session.pull('add', missing.slice(i, i + BATCH));
      }
    });
    for (const [hex, der] of got) ders.set(hex, der);
  }
  const leaves = [...ders].filter(([, der]) => {
    try {
      return !parseCertificate(der).isCA;
    } catch {
      return true;
    }
  });
  const verdicts = await checkCertificates(
    store,
    leaves.map(([, der]) => der),
    options.check,
  );

  // Tell the peer (spec/protocol.md, "validity-report").
  const wire: ValidityResult[] = verdicts.map((v, i) => ({
    id: bytesOf((leaves[i] as [string, Uint8Array])[0]),
    status: v.status,
    reason: clipUtf8(v.reason),
  }));
  for (let i = 0; i < wire.length; i += BATCH) session.reportValidity(wire.slice(i, i + BATCH));

  const results: PeerCheckResult[] = [];
  for (const v of verdicts) {
    if (v.status === 'valid' || v.status === 'unknown') {
      results.push(v);
      continue;
    }
    const action = await fixOne(session, store, v, options);
    results.push(action ? { ...v, action } : v);
  }
  store.settings.setJson(key, now);
  return { ran: true, lastCheckAt, results };
}

async function fixOne(
  session: PeerSession,
  store: Store,
  v: CheckedCertificate,
  options: PeerCheckOptions,
): Promise<string | undefined> {
  let fix = options.fix;
  if (fix === 'ask') fix = await askFix(v, options.ask);
  if (fix === 'none') return undefined;
  const id = bytesOf(v.fingerprint);
  if (fix === 'delete') {
    await session.deleteOnPeer([id]);
    return 'deleted';
  }
  let replacement = (await replacementFromStore(store, v, options.check))?.fingerprintHex;
  if (!replacement && options.keyserver) {
    try {
      const found = await replacementFromKeyServer(store, options.keyserver, v, options.check);
      if (found) {
        store.certificates.add([found], { source: `keyserver:${options.keyserver}` });
        replacement = found.fingerprintHex;
      }
    } catch (error) {
      options.warn(`key server: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (replacement) {
    // Delete first, so a full peer has room for the replacement.
    await session.deleteOnPeer([id]);
    const sent = await session.push([replacement], 'add');
    const ok = sent.results.some((r) => r.outcome === 'stored' || r.outcome === 'unchanged');
    return ok ? `replaced by ${replacement.slice(0, 16)}` : 'deleted (replacement refused)';
  }
  if (fix === 'replace-or-delete') {
    await session.deleteOnPeer([id]);
    return 'deleted (no valid replacement)';
  }
  return 'kept (no valid replacement)';
}

/** The user's choice for one invalid certificate; no answer, or any other, keeps it. */
async function askFix(v: CheckedCertificate, ask: PeerCheckOptions['ask']): Promise<PeerFix> {
  if (!ask) return 'none';
  const answer = await ask(
    `${v.fingerprint.slice(0, 16)} ${v.subject}: ${v.status} (${v.reason}).\n` +
      '  [r]eplace, replace or [d]elete, [x] delete, [k]eep? ',
  );
  const c = (answer ?? '').trim().toLowerCase();
  if (c === 'r') return 'replace';
  if (c === 'd') return 'replace-or-delete';
  if (c === 'x') return 'delete';
  return 'none';
}
