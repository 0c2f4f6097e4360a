/**
 * `certsync serve`: waits on a link for peers and answers them, one after another. What it
 * does by itself when a peer arrives follows `--auto` (or the store's `auto` setting); the
 * rest is what the peer's commands ask. It runs until interrupted, or for one peer with
 * `--once`. The first line on standard error says where it listens.
 *
 * Every wait on a peer is bounded, so that a silent, slow or hostile peer is cut off with
 * `timeout` and the next one is served: the hello (`--hello-timeout`, on links where a peer
 * connects), the handshake after it (`--handshake-timeout`), and a session in which the
 * peer sends nothing while this side waits on nothing of its own (`--idle-timeout`). Waits
 * within a session are the protocol's own (spec/protocol.md, "Timeouts").
 *
 * Private keys cross only when this side's user allows it: `--accept-private-keys` takes
 * the one key a peer offers with `push --private-key`, `--send-private-keys` lets a peer
 * fetch one with `pull --private-key`; either needs the store's passphrase, checked at start
 * (node/client/private-key-transfer.ts).
 */
import { CertsyncError, isCertsyncError, isErrorCode } from '../../../protocol/errors.ts';
import {
  AUTO_MODES,
  isAutoMode,
  rememberAutoMode,
  runAuto,
  storedAutoMode,
  type AutoMode,
  type AutoResult,
} from '../../client/auto-mode.ts';
import { LINK_OPTIONS, linkSpecFrom, loggerFrom, pairingFrom } from '../../client/cli-peer.ts';
import { listenLink, type OpenLink } from '../../client/links.ts';
import { checkOwnStore, invalidOwnCertificates } from '../../client/validity.ts';
import {
  ValidityReceiver,
  receivedValidityLines,
  type ReceivedValidity,
} from '../../client/received-validity.ts';
import { serveKeys, takeOfferedKey, type KeyTransfer } from '../../client/private-key-transfer.ts';
import { SessionKeys } from '../../client/session-keys.ts';
import type { Store } from '../../store/index.ts';
import { PASSPHRASE_OPTIONS, storePassphrase } from '../passphrase.ts';
import {
  CODE_PAIRING_WAIT_MS,
  HANDSHAKE_WAIT_MS,
  acceptSession,
} from '../../client/peer-session.ts';
import { CountingLink } from '../../progress/counting-link.ts';
import { DEFAULT_TIMEOUTS } from '../../../protocol/session/types.ts';
import { UsageError, type Command, type CommandContext } from '../command.ts';

/** One peer's visit, as reported. */
interface Visit {
  readonly peer: string;
  readonly auto: AutoResult | null;
  readonly certificates: number;
  readonly error: string | null;
  /** The error code when the visit failed. */
  readonly code?: string;
  /** The private key the peer offered and this side took, with what the store did. */
  readonly privateKey?: { readonly certificate: string; readonly outcome: string };
  /** What the peer's check of this store found, when it sent a validity report. */
  readonly validity?: ReceivedValidity;
}

/** The private-key settings of `serve`, or null when it neither takes nor sends keys. */
async function keyPolicyFrom(ctx: CommandContext, store: Store) {
  const accept = ctx.options['accept-private-keys'] === true;
  const send = ctx.options['send-private-keys'] === true;
  if (!accept && !send) {
    if (ctx.options['passphrase-file'] !== undefined) {
      throw new UsageError(
        '--passphrase-file goes with --accept-private-keys or --send-private-keys',
      );
    }
    return null;
  }
  const passphrase = await storePassphrase(ctx, 'for private keys', {
    confirm: store.privateKeys.list().length === 0,
  });
  return serveKeys(store, passphrase, { accept, send });
}

function keyJson(k: KeyTransfer): { certificate: string; outcome: string } {
  const code = k.result.code ? ` ${k.result.code}` : '';
  return { certificate: k.certificate, outcome: `${k.result.outcome}${code}` };
}

/** The auto mode from `--auto`, else the store's setting. */
export function autoModeFrom(ctx: CommandContext, stored: AutoMode): AutoMode {
  const v = ctx.options.auto;
  if (v === undefined) return stored;
  if (!isAutoMode(v))
    throw new UsageError(`--auto must be one of ${AUTO_MODES.join(', ')}, got ${String(v)}`);
  return v;
}

/** Default `--idle-timeout`: as long as the longest wait of the protocol (an overflow answer). */
export const SERVE_IDLE_MS = DEFAULT_TIMEOUTS.overflowAnswer;

/** `--NAME SECONDS` in ms, or `fallback` when not given. */
function secondsOption(ctx: CommandContext, name: string, fallback: number): number {
  const v = ctx.options[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0) {
    throw new UsageError(`--${name}: expected seconds above 0, got ${String(v)}`);
  }
  return Math.round(Number(v) * 1000);
}

function visitLine(v: Visit): string {
  const parts = [`peer ${v.peer}`];
  const r = v.auto?.reconcile;
  if (r) parts.push(`synced (${r.stored} received, ${r.sentFull} sent, mode ${r.mode})`);
  const c = v.auto?.comparison;
  if (c) parts.push(`compared (${c.mine} mine, ${c.theirs} theirs, ${c.both} both)`);
  if (v.privateKey) {
    const { certificate, outcome } = v.privateKey;
    parts.push(`private key of ${certificate.slice(0, 16)}: ${outcome}`);
  }
  parts.push(`${v.certificates} certificates now`);
  if (v.error) parts.push(`ended: ${v.error}`);
  // A peer's check of this store: its summary, then each certificate it found not valid.
  const [checked, ...bad] = v.validity ? receivedValidityLines(v.validity) : [];
  if (checked) parts.push(checked);
  return [parts.join(', '), ...bad].join('\n');
}

const serve: Command = {
  name: 'serve',
  summary: 'wait for peers on a link and answer them, one after another',
  args: '',
  positionals: { min: 0, max: 0 },
  options: {
    ...LINK_OPTIONS,
    auto: { type: 'string', help: `MODE  on connect: ${AUTO_MODES.join(', ')} (default: setting)` },
    remember: { type: 'boolean', help: "save --auto as this store's setting" },
    once: { type: 'boolean', help: 'stop after one peer' },
    'hello-timeout': {
      type: 'string',
      help: `S  wait for a connected peer's hello (default ${DEFAULT_TIMEOUTS.hello / 1000}; serial and irda wait for a peer without limit)`,
    },
    'handshake-timeout': {
      type: 'string',
      help: `S  the whole handshake (default ${HANDSHAKE_WAIT_MS / 1000}, or ${CODE_PAIRING_WAIT_MS / 1000} with --pair and no --secret)`,
    },
    'accept-private-keys': {
      type: 'boolean',
      help: 'take the one private key a peer offers with push --private-key (needs a passphrase)',
    },
    'send-private-keys': {
      type: 'boolean',
      help: 'let peers fetch one named private key with pull --private-key (needs a passphrase)',
    },
    ...PASSPHRASE_OPTIONS,
    'idle-timeout': {
      type: 'string',
      help: `S  a session where the peer sends nothing and nothing is running (default ${SERVE_IDLE_MS / 1000})`,
    },
  },
  async run(ctx) {
    const store = ctx.openStore();
    const auto = autoModeFrom(ctx, storedAutoMode(store));
    if (ctx.options.remember === true) rememberAutoMode(store, auto);
    const logger = loggerFrom(ctx);
    const pairing = pairingFrom(ctx);
    const helloMs = secondsOption(ctx, 'hello-timeout', DEFAULT_TIMEOUTS.hello);
    const handshakeMs = secondsOption(
      ctx,
      'handshake-timeout',
      pairing?.kind === 'pair' ? CODE_PAIRING_WAIT_MS : HANDSHAKE_WAIT_MS,
    );
    const idleMs = secondsOption(ctx, 'idle-timeout', SERVE_IDLE_MS);
    const keyPolicy = await keyPolicyFrom(ctx, store);
    const listener = await listenLink(linkSpecFrom(ctx, logger));
    // Status for people and scripts alike (a test waits for this line), so not ctx.warn.
    process.stderr.write(`certsync: listening on ${listener.address}\n`);
    // A long-lived serve keeps no list of visits: the count, and the first that failed.
    let visits = 0;
    let failed: Visit | undefined;
    let stopping = false;
    let current: OpenLink | null = null;
    let wake: () => void = () => undefined;
    let closing: Promise<void> | null = null;
    const closeListener = (): Promise<void> => (closing ??= listener.close());
    // Closing the device or socket under a waiting link ends it at once; a graceful close
    // of an idle serial link would wait for a peer that is not there.
    const stop = (): void => {
      stopping = true;
      wake();
      void closeListener().catch(() => undefined);
      void current?.release();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      while (!stopping) {
        // A new wait per peer: racing one long-lived promise each time would keep every
        // peer's link reachable from it, and a long-lived serve would grow with each peer.
        const opened = await new Promise<OpenLink | null>((resolve, reject) => {
          wake = () => resolve(null);
          listener.next().then(resolve, reject);
        });
        wake = () => undefined;
        if (opened === null) break;
        current = opened;
        const counting = new CountingLink(opened.link);
        let visit: Visit;
        try {
          // Invalid certificates are not offered in a reconcile (checked before each peer).
          const check = auto === 'check-and-sync' ? await checkOwnStore(store) : undefined;
          const withhold =
            auto === 'sync' || auto === 'check-and-sync'
              ? await invalidOwnCertificates(store, check?.ran ? check.results : undefined)
              : undefined;
          const keys = keyPolicy ? new SessionKeys(store, keyPolicy.offers) : undefined;
          const received = new ValidityReceiver(store);
          const session = await acceptSession(counting, {
            store,
            autoSync: auto === 'sync' || auto === 'check-and-sync',
            ...(withhold ? { withhold } : {}),
            name: 'certsync',
            // On a serial or IrDA line the wait for the hello is the wait for a peer.
            helloWaitMs: listener.connects ? helloMs : null,
            handshakeWaitMs: handshakeMs,
            idleMs,
            ...(pairing ? { pairing } : {}),
            ...(keys ? { keys } : {}),
            ...(logger ? { logger } : {}),
            onValidityReport: received.onReport,
          });
          received.peerIs(session.peer.name);
          if (session.peer.newlyPaired) ctx.warn(`certsync: paired with ${session.peer.name}`);
          const mode = auto === 'check-and-sync' ? 'sync' : auto;
          const result = await runAuto(session, mode, store).catch(() => null);
          const accept = keyPolicy?.accept;
          const taken =
            keys && accept
              ? await takeOfferedKey(session, keys, store, accept).catch(() => null)
              : null;
          const ended = await session.whenEnded();
          visit = {
            peer: session.peer.name,
            auto: result,
            certificates: store.capacity.state().count,
            error: ended ? ended.message : null,
            ...(ended ? { code: ended.code } : {}),
            ...(taken ? { privateKey: keyJson(taken) } : {}),
            ...(received.received ? { validity: received.received } : {}),
          };
        } catch (error) {
          // Where a link stands for no peer until a frame comes (serial, IrDA), a link that
          // ended before one came is no visit; a peer that connected and was cut off is one.
          if (
            !listener.connects &&
            counting.counts.received === 0 &&
            isCertsyncError(error) &&
            ['timeout', 'link-closed', 'link-error'].includes(error.code)
          ) {
            await opened.release();
            current = null;
            continue;
          }
          const message = error instanceof Error ? error.message : String(error);
          visit = {
            peer: '?',
            auto: null,
            certificates: store.capacity.state().count,
            error: message,
            ...(isCertsyncError(error) ? { code: error.code } : {}),
          };
          if (!isCertsyncError(error)) throw error;
        }
        await opened.release();
        current = null;
        visits++;
        if (visit.error !== null) failed ??= visit;
        if (ctx.json) ctx.writeStdout(`${JSON.stringify(visit)}\n`);
        else ctx.writeStdout(`${visitLine(visit)}\n`);
        if (ctx.options.once === true) break;
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await closeListener();
    }
    if (ctx.options.once === true && failed) {
      const code = isErrorCode(failed.code) ? failed.code : 'internal';
      throw new CertsyncError(code, `the session with ${failed.peer} failed: ${failed.error}`);
    }
    return { text: '', json: { visits } };
  },
};

export default serve;
