/**
 * Commands on the peer's store: `peer list` (both stores side by side), `peer delete` and
 * `peer check` (check the peer's certificates with this side's trust and network, and
 * replace or delete what is invalid).
 */
import type { ListOrder } from '../../../protocol/messages/catalog.ts';
import type { ListEntry } from '../../../protocol/messages/records.ts';
import { hexOf } from '../../../protocol/wire/hex.ts';
import { compareStores } from '../../client/auto-mode.ts';
import {
  LINK_OPTIONS,
  SELECT_OPTIONS,
  peerLine,
  requireSome,
  selectionFrom,
  withPeer,
} from '../../client/cli-peer.ts';
import { displayName } from '../../client/list-entry.ts';
import { checkPeer, PEER_FIXES, type PeerFix } from '../../client/peer-check.ts';
import { selectEntries } from '../../client/selection.ts';
import { LIST_ORDERS } from '../../store/index.ts';
import { oneOf, REVOCATION_OPTIONS, revocationPolicy, stringOption } from '../arguments.ts';
import { UsageError, type Command } from '../command.ts';
import { clip, table } from '../format.ts';

const SHOW = ['all', 'mine', 'theirs', 'only-mine', 'only-theirs'] as const;
type Show = (typeof SHOW)[number];

/** Most ids one request names (spec/protocol.md, "Limits"). */
const BATCH = 512;

const list: Command = {
  name: 'peer list',
  summary: "both stores side by side: mine, theirs, only mine, only theirs; the peer's room",
  args: '',
  positionals: { min: 0, max: 0 },
  options: {
    ...LINK_OPTIONS,
    order: { type: 'string', help: 'ORDER  store, use, subject or contact (default store)' },
    show: { type: 'string', help: `WHICH  ${SHOW.join(', ')} (default all)` },
  },
  async run(ctx) {
    const store = ctx.openStore();
    const order = oneOf<ListOrder>('order', stringOption(ctx, 'order') ?? 'store', LIST_ORDERS);
    const show = oneOf<Show>('show', stringOption(ctx, 'show') ?? 'all', SHOW);
    return withPeer(ctx, store, 'list', async (session) => {
      const c = await compareStores(session, store, order);
      const theirs = new Set(c.theirEntries.map((e) => hexOf(e.id)));
      const mineRecords = store.certificates.list(order);
      const mine = new Set(mineRecords.map((r) => r.fingerprintHex));
      type Row = { id: string; name: string; emails: string; mine: boolean; theirs: boolean };
      const fromMine: Row[] = mineRecords.map((r) => ({
        id: r.fingerprintHex,
        name: r.displayName,
        emails: r.emails.join(' '),
        mine: true,
        theirs: theirs.has(r.fingerprintHex),
      }));
      const fromTheirs: Row[] = c.theirEntries.map((e: ListEntry) => ({
        id: hexOf(e.id),
        name: displayName(e),
        emails: e.emails.join(' '),
        mine: mine.has(hexOf(e.id)),
        theirs: true,
      }));
      const rows: Row[] = {
        all: [...fromMine, ...fromTheirs.filter((r) => !r.mine)],
        mine: fromMine,
        theirs: fromTheirs,
        'only-mine': fromMine.filter((r) => !r.theirs),
        'only-theirs': fromTheirs.filter((r) => !r.mine),
      }[show];
      const summary = [
        `mine ${c.mine}, ${peerLine(session)}`,
        `both ${c.both}, only mine ${c.onlyMine.length}, only theirs ${c.onlyTheirs.length}`,
      ];
      const body = table(
        ['FINGERPRINT', 'NAME', 'E-MAIL', 'MINE', 'THEIRS'],
        rows.map((r) => [
          r.id.slice(0, 16),
          clip(r.name, 36),
          clip(r.emails || '-', 36),
          r.mine ? 'yes' : '-',
          r.theirs ? 'yes' : '-',
        ]),
      );
      return {
        text: [...summary, '', rows.length ? body : '(none)'].join('\n'),
        json: {
          peer: session.peer,
          mine: c.mine,
          theirs: c.theirs,
          both: c.both,
          onlyMine: c.onlyMine.length,
          onlyTheirs: c.onlyTheirs.length,
          rows,
        },
      };
    });
  },
};

const remove: Command = {
  name: 'peer delete',
  summary: "delete chosen certificates from the peer's store",
  args: '[FINGERPRINT...]',
  positionals: { min: 0 },
  options: { ...LINK_OPTIONS, ...SELECT_OPTIONS },
  async run(ctx) {
    const store = ctx.openStore();
    const selection = selectionFrom(ctx);
    return withPeer(ctx, store, 'delete', async (session) => {
      const chosen = selectEntries(selection, await session.list('store'));
      requireSome(chosen, "certificate of the peer's");
      const results = [];
      for (let i = 0; i < chosen.length; i += BATCH) {
        const ids = chosen.slice(i, i + BATCH).map((e) => e.id);
        results.push(...(await session.deleteOnPeer(ids)));
      }
      const deleted = results.filter((r) => r.outcome === 'deleted').length;
      return {
        text: `${deleted} deleted on ${session.peer.name}, ${results.length - deleted} not`,
        json: results.map((r) => ({ id: hexOf(r.id), outcome: r.outcome })),
      };
    });
  },
};

const check: Command = {
  name: 'peer check',
  summary: "check the peer's certificates; replace or delete the invalid ones",
  args: '',
  positionals: { min: 0, max: 0 },
  options: {
    ...LINK_OPTIONS,
    fix: {
      type: 'string',
      help: `WHAT  ${PEER_FIXES.join(', ')} (default ask on a terminal, else none; ask reads the answers from standard input)`,
    },
    keyserver: { type: 'string', help: 'URL  key server for replacements (default: setting)' },
    force: { type: 'boolean', help: 'check even when the check interval has not passed' },
    offline: { type: 'boolean', help: 'no CRL or OCSP fetches; the store CRLs only' },
    at: { type: 'string', help: 'TIME  check as of this time (ISO 8601)' },
    ...REVOCATION_OPTIONS,
  },
  async run(ctx) {
    const store = ctx.openStore();
    const revocation = revocationPolicy(ctx, store);
    const fixOption = stringOption(ctx, 'fix');
    const fix: PeerFix =
      fixOption === undefined
        ? process.stdin.isTTY && !ctx.json
          ? 'ask'
          : 'none'
        : oneOf<PeerFix>('fix', fixOption, PEER_FIXES);
    const atText = stringOption(ctx, 'at');
    const at = atText === undefined ? undefined : new Date(atText);
    if (at && Number.isNaN(at.getTime())) throw new UsageError(`--at: not a time: ${atText}`);
    const keyserver =
      stringOption(ctx, 'keyserver') ?? (store.settings.getJson('keyserver') as string | undefined);
    return withPeer(ctx, store, 'check', async (session) => {
      const report = await checkPeer(session, store, {
        fix,
        force: ctx.options.force === true,
        ...(keyserver ? { keyserver } : {}),
        check: { offline: ctx.options.offline === true, revocation, ...(at ? { at } : {}) },
        warn: (line) => ctx.warn(line),
        ask: (question) => ctx.ask(question),
      });
      if (!report.ran) {
        const last = new Date(report.lastCheckAt ?? 0).toISOString();
        return {
          text: `${session.peer.name} was checked at ${last}; the interval has not passed (--force)`,
          json: report,
        };
      }
      const lines = report.results.map(
        (r) =>
          `${r.fingerprint.slice(0, 16)}  ${r.status.padEnd(13)} ${clip(r.subject, 40)}` +
          (r.action ? `  -> ${r.action}` : ''),
      );
      const bad = report.results.filter((r) => r.status !== 'valid').length;
      return {
        text: [
          `${report.results.length} checked on ${session.peer.name}, ${bad} not valid`,
          ...lines,
        ].join('\n'),
        json: { ...report, revocation },
      };
    });
  },
};

export default [list, remove, check];
