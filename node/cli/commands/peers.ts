/** `certsync peers`: the paired peers, and `peers remove NAME` to forget one. */
import { identityFingerprint } from '../../../protocol/secure/fingerprint.ts';
import type { Command } from '../command.ts';
import { day, table } from '../format.ts';

const list: Command = {
  name: 'peers',
  summary: 'list the paired peers with when they were paired and last synced',
  args: '',
  positionals: { min: 0, max: 0 },
  options: {},
  run(ctx) {
    const peers = ctx.openStore().peers.list();
    const rows = peers.map((p) => [
      p.name,
      identityFingerprint(p.identityKey),
      day(p.pairedAt),
      p.lastSyncAt ? day(p.lastSyncAt) : 'never',
    ]);
    return {
      text: peers.length
        ? table(['NAME', 'IDENTITY', 'PAIRED', 'LAST SYNC'], rows)
        : 'No paired peers.',
      json: peers.map((p) => ({
        name: p.name,
        fingerprint: identityFingerprint(p.identityKey),
        pairedAt: p.pairedAt.toISOString(),
        lastSyncAt: p.lastSyncAt?.toISOString() ?? null,
      })),
    };
  },
};

const remove: Command = {
  name: 'peers remove',
  summary: 'forget a paired peer: it must pair again before the next session',
  args: 'NAME',
  positionals: { min: 1, max: 1 },
  options: {},
  run(ctx) {
    const name = ctx.positionals[0] as string;
    ctx.openStore().peers.remove(name);
    return { text: `Removed peer ${name}.`, json: { removed: name } };
  },
};

export default [list, remove];
