/** `certsync list`: the store's certificates (or CRLs) in a chosen order. */
import { LIST_ORDERS, type ListOrder } from '../../store/index.ts';
import { flag, oneOf, stringOption } from '../arguments.ts';
import type { Command } from '../command.ts';
import {
  certificateJson,
  clip,
  crlJson,
  day,
  shortFingerprint,
  table,
  validityState,
} from '../format.ts';

const list: Command = {
  name: 'list',
  summary: 'list certificates by store order, use, subject or contact name; marks expired ones',
  args: '',
  positionals: { min: 0, max: 0 },
  options: {
    order: { type: 'string', help: 'ORDER  store, use, subject or contact (default store)' },
    expired: { type: 'boolean', help: 'only certificates that are expired or not yet valid' },
    crls: { type: 'boolean', help: 'list the CRLs instead' },
  },
  run(ctx) {
    const order = oneOf<ListOrder>('order', stringOption(ctx, 'order') ?? 'store', LIST_ORDERS);
    const store = ctx.openStore();
    const now = Date.now();
    if (flag(ctx, 'crls')) {
      const crls = store.crls.list();
      const rows = crls.map((r) => [
        String(r.position),
        shortFingerprint(r.fingerprintHex),
        clip(r.issuer, 60),
        day(r.thisUpdate),
        day(r.nextUpdate),
        String(r.revokedCount),
      ]);
      return {
        text: crls.length
          ? table(['#', 'FINGERPRINT', 'ISSUER', 'THIS UPDATE', 'NEXT UPDATE', 'REVOKED'], rows)
          : 'No CRLs.',
        json: crls.map(crlJson),
      };
    }
    let records = store.certificates.list(order);
    if (flag(ctx, 'expired')) records = records.filter((r) => validityState(r, now) !== 'valid');
    const rows = records.map((r) => {
      const state = validityState(r, now);
      const flags = [state === 'valid' ? '' : state, r.isCA ? 'CA' : '', r.pinned ? 'pinned' : '']
        .filter(Boolean)
        .join(',');
      return [
        String(r.position),
        shortFingerprint(r.fingerprintHex),
        clip(r.displayName, 40),
        r.emails.join(' ') || '-',
        String(r.useCount),
        day(r.notAfter),
        flags,
      ];
    });
    return {
      text: records.length
        ? table(['#', 'FINGERPRINT', 'NAME', 'E-MAIL', 'USES', 'NOT AFTER', 'FLAGS'], rows)
        : 'No certificates.',
      json: records.map((r) => certificateJson(r, now)),
    };
  },
};

export default list;
