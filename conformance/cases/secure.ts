/**
 * Cases for spec/session.md (handshake, pairing, records) run over the real secure channel,
 * and for peers that misbehave: silent, sending garbage, leaving in the middle.
 */
import assert from 'node:assert/strict';
import { isCertsyncError } from '../../protocol/errors.ts';
import { formatPairingSecret } from '../../protocol/secure/pairing.ts';
import { connectTcpLink } from '../../transports/tcp.ts';
import type { Case, Context } from '../harness/context.ts';
import { certItem, push } from '../harness/transfer-peer.ts';
import { frameOf, runnerHello, WirePeer, withTimeout } from '../harness/wire-peer.ts';
import { expectType } from './messages.ts';
import { expectListPage } from './wire.ts';

const LIST = { type: 'list-request', id: 7, order: 'store', filter: 'all', limit: 10 } as const;

/** A pairing secret from the seeded source (spec/session.md 7.2 form). */
export function secretOf(ctx: Context): string {
  return formatPairingSecret(Uint8Array.from({ length: 16 }, () => ctx.rng.int(256)));
}

/**
 * Opens a connection the implementation must refuse; returns the runner's error code. In
 * `session-xx` the initiator's handshake completes first and the refusal arrives as an
 * abort where the first record is due (spec/session.md 6.2 step 3), so that is read too.
 */
export async function refusedWith(open: () => Promise<WirePeer>): Promise<string> {
  const codeOf = (error: unknown): string =>
    isCertsyncError(error) ? error.code : `not a protocol error: ${String(error)}`;
  let peer: WirePeer;
  try {
    peer = await open();
  } catch (error) {
    return codeOf(error);
  }
  try {
    const f = await withTimeout(peer.link.receive(), 5_000, 'no refusal came');
    assert.fail(`the session opened where the implementation must refuse it (got ${String(f)})`);
  } catch (error) {
    if (!isCertsyncError(error)) throw error;
    return error.code;
  } finally {
    peer.reset();
  }
}

/** The code the implementation's session ended with. */
export async function implEndedWith(ctx: Context): Promise<string | null | undefined> {
  const e = await ctx.ended(10_000);
  assert.ok(e.ended, 'the implementation ended its session');
  return e.error;
}

export const SECURE_CASES: readonly Case[] = [
  {
    name: 'pairing/one-time-secret',
    covers: ['R-SEC-3'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] }, false);
      const secret = secretOf(ctx);
      const port = await ctx.listen({ pairing: { secret, name: 'runner' } });
      const intent = { kind: 'pair-secret', name: 'impl', secret } as const;
      const peer = await WirePeer.open({ port, identity: ctx.identity, intent });
      await peer.say(LIST);
      await expectListPage(peer);
      assert.deepEqual((await ctx.store()).peers, ['runner'], 'the new peer is stored');
      peer.reset();
    },
  },
  {
    name: 'pairing/wrong-secret',
    covers: ['R-SEC-3'],
    async run(ctx) {
      await ctx.fresh({}, false);
      const port = await ctx.listen({ pairing: { secret: secretOf(ctx), name: 'runner' } });
      const intent = { kind: 'pair-secret', name: 'impl', secret: secretOf(ctx) } as const;
      const code = await refusedWith(() => WirePeer.open({ port, identity: ctx.identity, intent }));
      assert.equal(code, 'handshake-failed');
      assert.equal(await implEndedWith(ctx), 'handshake-failed');
      assert.deepEqual((await ctx.store()).peers, [], 'nothing is stored');
    },
  },
  {
    name: 'pairing/not-asked-for',
    covers: ['R-SEC-4'],
    async run(ctx) {
      await ctx.fresh({}, false);
      const port = await ctx.listen();
      const intent = { kind: 'pair-secret', name: 'impl', secret: secretOf(ctx) } as const;
      const code = await refusedWith(() => WirePeer.open({ port, identity: ctx.identity, intent }));
      assert.equal(code, 'pairing-rejected');
      assert.deepEqual((await ctx.store()).peers, []);
    },
  },
  {
    name: 'handshake/unpaired-peer-refused',
    covers: ['R-SEC-2', 'R-SEC-7'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] }, false);
      const port = await ctx.listen();
      const code = await refusedWith(() =>
        WirePeer.open({ port, identity: ctx.identity, adapterKey: ctx.implKey }),
      );
      assert.equal(code, 'not-paired');
    },
  },
  {
    name: 'handshake/altered-hello-detected',
    covers: ['R-SEC-1'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] });
      const port = await ctx.listen();
      // The runner binds no hellos, as if a relay had changed one on the way.
      const code = await refusedWith(() =>
        WirePeer.open({ port, identity: ctx.identity, adapterKey: ctx.implKey, bindHellos: false }),
      );
      assert.equal(code, 'handshake-failed');
      assert.equal(await implEndedWith(ctx), 'handshake-failed');
    },
  },
  {
    name: 'handshake/unknown-frame-kind',
    covers: ['R-SEC-8'],
    async run(ctx) {
      await ctx.fresh();
      const port = await ctx.listen();
      const raw = await connectTcpLink(port, { maxFrameSize: 65_535 });
      try {
        await raw.send(frameOf(runnerHello()));
        assert.ok((await raw.receive()) instanceof Uint8Array, 'the implementation says hello');
        await raw.send(Uint8Array.of(0x07, 0x04, 0x00));
        const abort = await withTimeout(raw.receive(), 5_000, 'no abort frame');
        assert.ok(abort instanceof Uint8Array, 'expected an abort frame');
        assert.equal(abort[0], 0x02, 'an abort frame starts with kind 0x02');
        assert.equal(Buffer.from(abort.subarray(1)).toString('ascii'), 'malformed-message');
      } finally {
        raw.reset();
      }
    },
  },
  {
    name: 'records/altered-record',
    covers: ['R-SEC-5'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] });
      const peer = await ctx.open();
      await peer.say(LIST);
      await expectListPage(peer);
      // A record the runner's cipher never sealed: its tag cannot verify.
      await peer.raw.send(Uint8Array.from({ length: 48 }, () => ctx.rng.int(256)));
      assert.equal(await implEndedWith(ctx), 'decrypt-failed');
    },
  },
  {
    name: 'records/link-ends-without-close',
    covers: ['R-SEC-6'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] });
      const peer = await ctx.open();
      await peer.say(LIST);
      await expectListPage(peer);
      await peer.raw.close();
      assert.equal(await implEndedWith(ctx), 'link-closed');
    },
  },
  {
    name: 'misbehaving/silent-before-hello',
    covers: ['R-SES-4'],
    async run(ctx) {
      await ctx.fresh();
      const port = await ctx.listen({ timeouts: { hello: 400 } });
      const raw = await connectTcpLink(port, { maxFrameSize: 65_535 });
      try {
        assert.ok((await raw.receive()) instanceof Uint8Array, 'the implementation says hello');
        assert.equal(await implEndedWith(ctx), 'timeout');
        const after = await withTimeout(raw.receive(), 5_000, 'the link stayed open').catch(
          () => null,
        );
        assert.equal(after, null, 'the implementation closed the link');
      } finally {
        raw.reset();
      }
    },
  },
  {
    name: 'misbehaving/silent-mid-transfer',
    covers: ['R-SES-3'],
    async run(ctx) {
      await ctx.fresh();
      const peer = await ctx.open({}, { timeouts: { answer: 400 } });
      await peer.say({ type: 'transfer-begin', id: 1, mode: 'add', items: 3 });
      await ctx.expectFatal(peer, 'timeout');
    },
  },
  {
    name: 'misbehaving/disconnect-mid-transfer',
    covers: ['R-XFER-1', 'R-XFER-7'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] });
      const peer = await ctx.open();
      const sent = [1, 2, 3, 4].map((n) => certItem(ctx.certs.der(n), 1));
      await peer.say(
        { type: 'transfer-begin', id: 2, mode: 'add', items: 6 },
        { type: 'items', id: 2, seq: 0, items: sent.slice(0, 2), tombstones: [] },
        { type: 'items', id: 2, seq: 1, items: sent.slice(2), tombstones: [] },
      );
      await expectType(peer, 'items-ack');
      await expectType(peer, 'items-ack');
      peer.reset();
      const ended = await implEndedWith(ctx);
      assert.ok(ended !== null, 'a session cut short does not end cleanly');
      const want = [0, 1, 2, 3, 4].map((n) => ctx.certs.id(n)).sort();
      assert.deepEqual(await ctx.liveIds(), want, 'acknowledged items stay applied');
      // Sent again in a new session, the items already stored come back unchanged.
      const again = await ctx.open();
      const r = await push(again, { id: 3, mode: 'add', batches: [sent] });
      assert.deepEqual(
        r.results.map((x) => x.outcome),
        ['unchanged', 'unchanged', 'unchanged', 'unchanged'],
      );
    },
  },
  {
    name: 'misbehaving/garbage-instead-of-records',
    covers: ['R-SEC-5', 'R-VIO-1'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] });
      const peer = await ctx.open();
      await peer.say(LIST);
      await expectListPage(peer);
      for (let i = 0; i < 3; i++) {
        await peer.raw.send(
          Uint8Array.from({ length: 1 + ctx.rng.int(300) }, () => ctx.rng.int(256)),
        );
      }
      assert.equal(await implEndedWith(ctx), 'decrypt-failed');
      assert.deepEqual(await ctx.liveIds(), [ctx.certs.id(0)], 'the store is untouched');
    },
  },
  {
    name: 'pairing/secret-id-form',
    covers: ['R-SEC-3'],
    async run(ctx) {
      // Readers ignore case and dashes (session.md 7.2): the same secret in capitals pairs.
      await ctx.fresh({}, false);
      const secret = secretOf(ctx);
      const port = await ctx.listen({ pairing: { secret, name: 'runner' } });
      const intent = { kind: 'pair-secret', name: 'impl', secret: secret.toUpperCase() } as const;
      const peer = await WirePeer.open({ port, identity: ctx.identity, intent });
      await peer.say(LIST);
      await expectListPage(peer, 7);
      peer.reset();
    },
  },
];
