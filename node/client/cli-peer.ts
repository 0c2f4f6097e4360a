/**
 * How a one-shot CLI command reaches a peer: it opens the link itself (`--link tcp --port N`
 * or `--link serial --device PATH`), runs the handshake as the initiator with the paired
 * peer (`--peer NAME`, or any paired peer) or pairs first (`--pair NAME`, with `--secret`
 * or by comparing a six-digit code), does its work in one session, says goodbye and exits.
 * The other side runs `certsync serve` on the matching link.
 */
import { CertsyncError } from '../../protocol/errors.ts';
import type { ListEntry } from '../../protocol/messages/records.ts';
import { hexOf } from '../../protocol/wire/hex.ts';
import type { Logger } from '../../transports/link.ts';
import { UsageError, type CommandContext, type OptionSpec } from '../cli/command.ts';
import type { InitiatorIntent, ResponderPairing } from '../keys/secure-link.ts';
import { CountingLink } from '../progress/counting-link.ts';
import { ProgressBar } from '../progress/progress-bar.ts';
import type { Store } from '../store/index.ts';
import { LINK_KINDS, dialLink, type LinkKind, type LinkSpec } from './links.ts';
import { displayName } from './list-entry.ts';
import { receivedValidityLines, ValidityReceiver } from './received-validity.ts';
import {
  connectSession,
  type OverflowChooser,
  type PeerSession,
  type TransferProgress,
} from './peer-session.ts';
import type { Selection } from './selection.ts';
import type { SessionKeys } from './session-keys.ts';

/** Options of every command that talks to a peer. */
export const LINK_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  link: { type: 'string', help: 'KIND  serial, irda, ble or tcp (default serial)' },
  hci: { type: 'string', help: 'TTY  the Bluetooth controller (ble link), HCI H4 over a tty' },
  device: { type: 'string', help: 'PATH  serial device or pty (serial and irda links)' },
  baud: { type: 'string', help: 'N  serial line speed (default 115200)' },
  port: { type: 'string', help: 'N  TCP port on 127.0.0.1 (tcp link)' },
  peer: { type: 'string', help: 'NAME  the paired peer expected (default: any paired peer)' },
  pair: { type: 'string', help: 'NAME  pair first, and remember the peer under NAME' },
  secret: { type: 'string', help: 'TEXT  one-time pairing secret (from certsync id --secret)' },
  verbose: { type: 'boolean', short: 'v', help: 'log the session on standard error' },
};

/** Options of commands that send certificates to a peer. */
export const OVERFLOW_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  overflow: {
    type: 'string',
    help: 'WHAT  when the peer is full and asks: ask, oldest or abort (default ask on a terminal, else abort)',
  },
};

/** Options that select certificates. */
export const SELECT_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  fingerprint: { type: 'string', multiple: true, help: 'HEX  by fingerprint (a prefix will do)' },
  subject: { type: 'string', multiple: true, help: 'TEXT  by a part of the subject name' },
  email: { type: 'string', multiple: true, help: 'ADDRESS  by e-mail address' },
  contact: { type: 'string', multiple: true, help: 'NAME  by contact name or label' },
  all: { type: 'boolean', help: 'every certificate' },
};

/** Options of `push` and `pull` for one private key. */
export const PRIVATE_KEY_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  'private-key': {
    type: 'string',
    help: 'FINGERPRINT  the private key of this one certificate, and nothing else (node/client/README.md)',
  },
  'passphrase-file': {
    type: 'string',
    help: "FILE  with --private-key: the store's passphrase, FILE's first line (default $CERTSYNC_PASSPHRASE, else asked)",
  },
};

/**
 * The certificate fingerprint prefix `--private-key` names, lowercase hex; undefined without
 * the option. A private key is named alone: no other selection may come with it, so that no
 * key travels by a pattern that happens to match.
 *
 * @throws UsageError for a value that is not hex of at least 4 digits, or beside a selection
 */
export function privateKeyFrom(
  ctx: CommandContext,
  allowed: readonly string[],
): string | undefined {
  const arg = str(ctx, 'private-key');
  if (arg === undefined) {
    if (ctx.options['passphrase-file'] !== undefined) {
      throw new UsageError('--passphrase-file goes with --private-key FINGERPRINT');
    }
    return undefined;
  }
  const hex = arg.replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]{4,64}$/.test(hex)) {
    throw new UsageError(
      `--private-key: expected a certificate fingerprint (4 to 64 hex digits), got ${arg}`,
    );
  }
  const others = Object.keys(ctx.options).filter(
    (name) =>
      !allowed.includes(name) && !(name in LINK_OPTIONS) && !['json', 'store'].includes(name),
  );
  if (others.length > 0 || ctx.positionals.length > 0) {
    const what = others.length ? others.map((o) => `--${o}`).join(', ') : 'other fingerprints';
    throw new UsageError(
      `--private-key names exactly one key, by its certificate; it goes without ${what}`,
    );
  }
  return hex;
}

function str(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.options[name];
  return typeof v === 'string' ? v : undefined;
}

function strs(ctx: CommandContext, name: string): string[] {
  const v = ctx.options[name];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' ? [v] : [];
}

function num(ctx: CommandContext, name: string): number | undefined {
  const v = str(ctx, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name}: expected a whole number, got ${v}`);
  return Number(v);
}

/** The selection the command line names (fingerprints may also come as arguments). */
export function selectionFrom(ctx: CommandContext): Selection {
  return {
    fingerprints: [...strs(ctx, 'fingerprint'), ...ctx.positionals],
    subjects: strs(ctx, 'subject'),
    emails: strs(ctx, 'email'),
    contacts: strs(ctx, 'contact'),
    all: ctx.options.all === true,
  };
}

/**
 * The link the options name.
 *
 * @throws UsageError for an unknown kind or a missing device or port
 */
export function linkSpecFrom(ctx: CommandContext, logger?: Logger): LinkSpec {
  const kind = (str(ctx, 'link') ?? 'serial') as LinkKind;
  if (!LINK_KINDS.includes(kind)) {
    throw new UsageError(`--link must be one of ${LINK_KINDS.join(', ')}, got ${kind}`);
  }
  const device = str(ctx, 'device');
  const port = num(ctx, 'port');
  const baud = num(ctx, 'baud');
  const hci = str(ctx, 'hci');
  if (kind === 'ble' && !hci) throw new UsageError('--link ble needs --hci TTY');
  if ((kind === 'serial' || kind === 'irda') && !device) {
    throw new UsageError(`--link ${kind} needs --device PATH`);
  }
  if (kind === 'tcp' && port === undefined) throw new UsageError('--link tcp needs --port N');
  return {
    kind,
    ...(device !== undefined ? { device } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(baud !== undefined ? { baud } : {}),
    ...(hci !== undefined ? { hci } : {}),
    ...(logger ? { logger } : {}),
  };
}

/** A logger on standard error when `--verbose`, else none. */
export function loggerFrom(ctx: CommandContext): Logger | undefined {
  if (ctx.options.verbose !== true) return undefined;
  const say = (level: string) => (message: string) => ctx.warn(`[${level}] ${message}`);
  return { debug: say('debug'), info: say('info'), warn: say('warn') };
}

/**
 * How a pairing code is confirmed: the user types the code the other side shows. Only an
 * exact match confirms, so no flag or default can wave a relayed pairing through
 * (spec/session.md, "Pairing by numeric comparison").
 */
function confirmer(ctx: CommandContext) {
  return async (code: string, fingerprint: string): Promise<boolean> => {
    ctx.warn(`Pairing code ${code} (peer key ${fingerprint}).`);
    // A script that pairs by code pipes in the code it read from the other side.
    const typed = await ctx.ask('Type the code the other side shows: ');
    return typed !== null && typed.trim() === code;
  };
}

/** The initiator's intent from `--pair`, `--secret` and `--peer`. */
export function intentFrom(ctx: CommandContext): InitiatorIntent {
  const pair = str(ctx, 'pair');
  const secret = str(ctx, 'secret');
  const peer = str(ctx, 'peer');
  if (pair !== undefined && secret !== undefined) {
    return { kind: 'pair-secret', name: pair, secret };
  }
  if (pair !== undefined) return { kind: 'pair', name: pair, confirm: confirmer(ctx) };
  if (secret !== undefined) throw new UsageError('--secret goes with --pair NAME');
  return { kind: 'session', ...(peer !== undefined ? { peer } : {}) };
}

/** The responder's pairing acceptance from `--pair` and `--secret`, if any. */
export function pairingFrom(ctx: CommandContext): ResponderPairing | undefined {
  const pair = str(ctx, 'pair');
  const secret = str(ctx, 'secret');
  if (pair === undefined) {
    if (secret !== undefined) throw new UsageError('--secret goes with --pair NAME');
    return undefined;
  }
  if (secret !== undefined) return { kind: 'pair-secret', name: pair, secret };
  return { kind: 'pair', name: pair, confirm: confirmer(ctx) };
}

/** What to do when the peer's store is full and asks (`--overflow`). */
export function overflowChooser(ctx: CommandContext): OverflowChooser {
  const mode = str(ctx, 'overflow') ?? (process.stdin.isTTY && !ctx.json ? 'ask' : 'abort');
  if (!['ask', 'oldest', 'abort'].includes(mode)) {
    throw new UsageError(`--overflow must be one of ask, oldest, abort, got ${mode}`);
  }
  return async (incoming, candidates) => {
    ctx.warn(`The peer's store is full; ${hexOf(incoming).slice(0, 16)} does not fit.`);
    if (mode === 'abort' || candidates.length === 0) return null;
    if (mode === 'oldest') return (candidates[0] as ListEntry).id;
    return askVictim(ctx, candidates);
  };
}

/**
 * Asks the user which of the peer's certificates to replace; the answer is read from
 * standard input, a terminal or a pipe, and may have been typed before the question showed
 * (a push of several certificates asks once for each that does not fit). Anything but a
 * listed number aborts.
 */
async function askVictim(
  ctx: CommandContext,
  candidates: readonly ListEntry[],
): Promise<Uint8Array | null> {
  const lines = candidates.map(
    (c, i) => `  ${String(i + 1).padStart(2)}  ${hexOf(c.id).slice(0, 16)}  ${displayName(c)}`,
  );
  process.stderr.write(`Replace which certificate on the peer?\n${lines.join('\n')}\n`);
  const answer = (await ctx.ask(`1-${candidates.length}, or a to abort: `))?.trim();
  const n = Number(answer);
  return answer && Number.isInteger(n) && n >= 1 && n <= candidates.length
    ? (candidates[n - 1] as ListEntry).id
    : null;
}

/** A progress bar wired to a session's transfers and a link's byte counts. */
export interface SessionProgress {
  readonly onProgress: (p: TransferProgress) => void;
  finish(): void;
}

/**
 * Runs `work` in one session with the peer the options name, then says goodbye. A progress
 * bar runs on standard error unless `--json` or standard error is not a terminal. A
 * validity report the peer sends on this store is recorded and shown on standard error
 * (node/client/received-validity.ts).
 * `withhold` names certificates a reconcile in this session does not offer; `keys` are the
 * private keys the session may offer or take (none when absent).
 *
 * @throws CertsyncError from the link, the handshake or the session
 */
export async function withPeer<T>(
  ctx: CommandContext,
  store: Store,
  label: string,
  work: (session: PeerSession) => Promise<T>,
  withhold?: ReadonlySet<string>,
  keys?: SessionKeys,
): Promise<T> {
  const logger = loggerFrom(ctx);
  const opened = await dialLink(linkSpecFrom(ctx, logger));
  const bar = new ProgressBar({
    output: process.stderr,
    enabled: !ctx.json && process.stderr.isTTY === true,
    label,
  });
  let last: TransferProgress | undefined;
  const counting = new CountingLink(opened.link, () => {
    bar.update({
      items: last?.items ?? 0,
      ...(last?.total !== undefined ? { total: last.total } : {}),
      bytes: counting.counts.sent + counting.counts.received,
    });
  });
  const received = new ValidityReceiver(store);
  try {
    const session = await connectSession(counting, {
      store,
      autoSync: false,
      intent: intentFrom(ctx),
      name: 'certsync',
      chooseVictim: overflowChooser(ctx),
      onProgress: (p) => (last = p),
      onValidityReport: received.onReport,
      ...(withhold ? { withhold } : {}),
      ...(keys ? { keys } : {}),
      ...(logger ? { logger } : {}),
    });
    if (session.peer.newlyPaired) ctx.warn(`Paired with ${session.peer.name}.`);
    received.peerIs(session.peer.name);
    try {
      const result = await work(session);
      if (session.reconcileRunning) await session.reconcile();
      await session.goodbye();
      if (session.reconcileUnconfirmed) {
        throw new CertsyncError(
          'link-closed',
          'the link closed before the peer answered the goodbye: it may lack changes this ' +
            'side sent at the end of the reconcile; both stores are whole, and syncing again finishes',
        );
      }
      if (received.received)
        for (const line of receivedValidityLines(received.received)) ctx.warn(line);
      return result;
    } catch (error) {
      await session.abort();
      throw error;
    }
  } finally {
    bar.finish();
    await opened.release();
  }
}

/** A short description of a peer's store: `phone: 12 certificates, 3 free of 15`. */
export function peerLine(session: PeerSession): string {
  const p = session.peer;
  const room = p.capacity === undefined ? 'no limit' : `${p.free ?? 0} free of ${p.capacity}`;
  return `${p.name}: ${p.certificates} certificates, ${p.crls} CRLs, ${room}`;
}

/** Throws `not-found` when a selection came out empty. */
export function requireSome<T>(items: readonly T[], what: string): void {
  if (items.length === 0) throw new CertsyncError('not-found', `no ${what} matches the selection`);
}
