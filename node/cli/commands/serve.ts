/**
 * `certsync serve`: waits on a link for peers and answers them, one after another. What it
 * does by itself when a peer arrives follows `--auto` (or the store's `auto` setting); the
 * rest is what the peer's commands ask. It runs until interrupted, or for one peer with
 * `--once`. The first line on standard error says where it listens.
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
import { acceptSession } from '../../client/peer-session.ts';
import { UsageError, type Command, type CommandContext } from '../command.ts';

/** One peer's visit, as reported. */
interface Visit {
  readonly peer: string;
  readonly auto: AutoResult | null;
  readonly certificates: number;
  readonly error: string | null;
  /** The error code when the visit failed. */
  readonly code?: string;
}

/** The auto mode from `--auto`, else the store's setting. */
export function autoModeFrom(ctx: CommandContext, stored: AutoMode): AutoMode {
  const v = ctx.options.auto;
  if (v === undefined) return stored;
  if (!isAutoMode(v))
    throw new UsageError(`--auto must be one of ${AUTO_MODES.join(', ')}, got ${String(v)}`);
  return v;
}

function visitLine(v: Visit): string {
  const parts = [`peer ${v.peer}`];
  const r = v.auto?.reconcile;
  if (r) parts.push(`synced (${r.stored} received, ${r.sentFull} sent, mode ${r.mode})`);
  const c = v.auto?.comparison;
  if (c) parts.push(`compared (${c.mine} mine, ${c.theirs} theirs, ${c.both} both)`);
  parts.push(`${v.certificates} certificates now`);
  if (v.error) parts.push(`ended: ${v.error}`);
  return parts.join(', ');
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
  },
  async run(ctx) {
    const store = ctx.openStore();
    const auto = autoModeFrom(ctx, storedAutoMode(store));
    if (ctx.options.remember === true) rememberAutoMode(store, auto);
    const logger = loggerFrom(ctx);
    const listener = await listenLink(linkSpecFrom(ctx, logger));
    // Status for people and scripts alike (a test waits for this line), so not ctx.warn.
    process.stderr.write(`certsync: listening on ${listener.address}\n`);
    const visits: Visit[] = [];
    let stopping = false;
    let current: OpenLink | null = null;
    let wake: () => void = () => undefined;
    const stopped = new Promise<null>((resolve) => (wake = () => resolve(null)));
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
    const pairing = pairingFrom(ctx);
    try {
      while (!stopping) {
        const opened = await Promise.race([listener.next(), stopped]);
        if (opened === null) break;
        current = opened;
        let visit: Visit;
        try {
          // Invalid certificates are not offered in a reconcile (checked before each peer).
          const check = auto === 'check-and-sync' ? await checkOwnStore(store) : undefined;
          const withhold =
            auto === 'sync' || auto === 'check-and-sync'
              ? await invalidOwnCertificates(store, check?.ran ? check.results : undefined)
              : undefined;
          const session = await acceptSession(opened.link, {
            store,
            autoSync: auto === 'sync' || auto === 'check-and-sync',
            ...(withhold ? { withhold } : {}),
            name: 'certsync',
            helloWaitMs: 3_600_000,
            ...(pairing ? { pairing } : {}),
            ...(logger ? { logger } : {}),
          });
          if (session.peer.newlyPaired) ctx.warn(`certsync: paired with ${session.peer.name}`);
          const mode = auto === 'check-and-sync' ? 'sync' : auto;
          const result = await runAuto(session, mode, store).catch(() => null);
          const ended = await session.whenEnded();
          visit = {
            peer: session.peer.name,
            auto: result,
            certificates: store.capacity.state().count,
            error: ended ? ended.message : null,
            ...(ended ? { code: ended.code } : {}),
          };
        } catch (error) {
          // A peer that never said hello (the serial line idled out) is no visit.
          if (
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
        visits.push(visit);
        if (ctx.json) ctx.writeStdout(`${JSON.stringify(visit)}\n`);
        else ctx.writeStdout(`${visitLine(visit)}\n`);
        if (ctx.options.once === true) break;
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await closeListener();
    }
    const failed = visits.find((v) => v.error !== null);
    if (ctx.options.once === true && failed) {
      const code = isErrorCode(failed.code) ? failed.code : 'internal';
      throw new CertsyncError(code, `the session with ${failed.peer} failed: ${failed.error}`);
    }
    return { text: '', json: { visits: visits.length } };
  },
};

export default serve;
