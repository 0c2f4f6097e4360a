/**
 * `certsync check`: validates the own store's end-entity certificates (period, path to a
 * trusted root in the store, CRL and OCSP), when the configured interval has passed since
 * the last check or with `--force`. `--interval SECONDS` changes the interval. When
 * revocation cannot be decided (no CRL, no OCSP answer), the store's revocation policy
 * applies: soft-fail (the default) accepts the certificate, hard-fail calls it `unknown`;
 * `--hard-fail` and `--soft-fail` choose for one run, `--revocation POLICY` sets it.
 */
import { checkOwnStore } from '../../client/validity.ts';
import { oneOf, REVOCATION_OPTIONS, revocationPolicy, stringOption } from '../arguments.ts';
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
    ...REVOCATION_OPTIONS,
    revocation: {
      type: 'string',
      help: "POLICY  set the store's revocation policy: soft-fail (default) or hard-fail",
    },
  },
  async run(ctx) {
    const store = ctx.openStore();
    const interval = stringOption(ctx, 'interval');
    if (interval !== undefined) {
      if (!/^\d+$/.test(interval))
        throw new UsageError(`--interval: expected seconds, got ${interval}`);
      store.settings.set('check-interval-seconds', Number(interval));
    }
    const setPolicy = stringOption(ctx, 'revocation');
    if (setPolicy !== undefined) {
      const policy = oneOf('revocation', setPolicy, ['soft-fail', 'hard-fail'] as const);
      store.settings.set('revocation-policy', policy);
    }
    const revocation = revocationPolicy(ctx, store);
    const atText = stringOption(ctx, 'at');
    const at = atText === undefined ? undefined : new Date(atText);
    if (at && Number.isNaN(at.getTime())) throw new UsageError(`--at: not a time: ${atText}`);
    const r = await checkOwnStore(store, {
      force: ctx.options.force === true,
      offline: ctx.options.offline === true,
      revocation,
      ...(at ? { at } : {}),
    });
    const last = r.lastCheckAt === null ? 'never' : new Date(r.lastCheckAt).toISOString();
    if (!r.ran) {
      const due = new Date((r.lastCheckAt ?? 0) + r.intervalSeconds * 1000).toISOString();
      return {
        text: `Last checked ${last}; the next check is due at ${due} (every ${r.intervalSeconds} s). Use --force to check now.`,
        json: { ...r, revocation },
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
        `${r.results.length} checked, ${bad.length} not valid (${revocation}; previous check: ${last}, interval ${r.intervalSeconds} s)`,
        ...(rows.length ? [table(['FINGERPRINT', 'SUBJECT', 'STATUS', 'REASON'], rows)] : []),
      ].join('\n'),
      json: { ...r, revocation },
    };
  },
};

export default check;
