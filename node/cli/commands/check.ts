/**
 * `certsync check`: validates the own store's end-entity certificates (period, path to a
 * trusted root in the store, CRL and OCSP), when the configured interval has passed since
 * the last check or with `--force`. `--interval SECONDS` changes the interval.
 */
import { checkOwnStore } from '../../client/validity.ts';
import { stringOption } from '../arguments.ts';
import { UsageError, type Command } from '../command.ts';
import { clip, table } from '../format.ts';

const check: Command = {
  name: 'check',
  summary: "check the own store's certificates: period, chain, CRL and OCSP",
  args: '',
  positionals: { min: 0, max: 0 },
  options: {
    force: { type: 'boolean', help: 'check even when the interval has not passed' },
    interval: { type: 'string', help: 'SECONDS  set the least time between two checks' },
    offline: { type: 'boolean', help: 'no CRL or OCSP fetches; the store CRLs only' },
    at: { type: 'string', help: 'TIME  check as of this time (ISO 8601)' },
  },
  async run(ctx) {
    const store = ctx.openStore();
    const interval = stringOption(ctx, 'interval');
    if (interval !== undefined) {
      if (!/^\d+$/.test(interval))
        throw new UsageError(`--interval: expected seconds, got ${interval}`);
      store.settings.set('check-interval-seconds', Number(interval));
    }
    const atText = stringOption(ctx, 'at');
    const at = atText === undefined ? undefined : new Date(atText);
    if (at && Number.isNaN(at.getTime())) throw new UsageError(`--at: not a time: ${atText}`);
    const r = await checkOwnStore(store, {
      force: ctx.options.force === true,
      offline: ctx.options.offline === true,
      ...(at ? { at } : {}),
    });
    const last = r.lastCheckAt === null ? 'never' : new Date(r.lastCheckAt).toISOString();
    if (!r.ran) {
      const due = new Date((r.lastCheckAt ?? 0) + r.intervalSeconds * 1000).toISOString();
      return {
        text: `Last checked ${last}; the next check is due at ${due} (every ${r.intervalSeconds} s). Use --force to check now.`,
        json: r,
      };
    }
    const bad = r.results.filter((x) => x.status !== 'valid');
    const rows = r.results.map((x) => [
      x.fingerprint.slice(0, 16),
      clip(x.subject, 44),
      x.status,
      clip(x.reason, 60),
    ]);
    return {
      text: [
        `${r.results.length} checked, ${bad.length} not valid (previous check: ${last}, interval ${r.intervalSeconds} s)`,
        ...(rows.length ? [table(['FINGERPRINT', 'SUBJECT', 'STATUS', 'REASON'], rows)] : []),
      ].join('\n'),
      json: r,
    };
  },
};

export default check;
