/**
 * Cases for spec/session.md beyond the basic handshake (secure.ts): identity, the named
 * peer (`session-ik`) and its fallback, the initiator's checks, numeric-comparison pairing,
 * names, secret formats, rekeying, records out of place and handshake frames no honest
 * client sends. The runner plays either role: initiator, or responder when the
 * implementation connects (`connect` of the adapter).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { isCertsyncError } from '../../protocol/errors.ts';
import { encodeHandshakeFrame } from '../../protocol/secure/frames.ts';
import { HandshakeState } from '../../protocol/secure/handshake.ts';
import { buildPrologue } from '../../protocol/secure/prologue.ts';
import { hexOf } from '../../protocol/wire/hex.ts';
import { createIdentity } from '../../node/keys/identity.ts';
import { listenTcpLink } from '../../transports/tcp.ts';
import type { Case, Context } from '../harness/context.ts';
import { AdapterError } from '../harness/impl.ts';
import {
  nextHandshakeFrame,
  pairWithBadReveal,
  rawConnect,
  xxInitiate,
} from '../harness/raw-handshake.ts';
import { frameOf, runnerHello, WirePeer, withTimeout } from '../harness/wire-peer.ts';
import { implEndedWith, refusedWith, secretOf } from './secure.ts';
import { expectListPage } from './wire.ts';

const LIST = { type: 'list-request', id: 7, order: 'store', filter: 'all', limit: 10 } as const;

/** The fingerprint of spec/session.md 3, computed here from its definition. */
function fingerprintOf(key: Uint8Array): string {
  const hex = hexOf(sha256(key).subarray(0, 16));
  return Array.from({ length: 8 }, (_, i) => hex.slice(4 * i, 4 * i + 4)).join('-');
}

/** The error code a rejected promise carries (adapter or protocol), or `resolved`. */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (error) {
    if (error instanceof AdapterError) return error.code;
    if (isCertsyncError(error)) return error.code;
    return `not a protocol error: ${String(error)}`;
  }
}

/** Makes the implementation connect to the runner, which answers as responder. */
function connectToRunner(ctx: Context, args: Record<string, unknown> = {}) {
  return (port: number) => ctx.impl.request('connect', { port, ...(args as object) });
}

/** Runs a numeric-comparison pairing; the runner's user answers `runnerSays`. */
async function pairByCode(ctx: Context, runnerSays: boolean, implSays: boolean) {
  await ctx.fresh({ certs: [0] }, false);
  const port = await ctx.listen({ pairing: { kind: 'code', name: 'runner' } });
  let runnerSaw: { code: string; fingerprint: string } | null = null;
  const opening = WirePeer.open({
    port,
    identity: ctx.identity,
    intent: {
      kind: 'pair',
      name: 'impl',
      confirm: (code, fingerprint) => {
        runnerSaw = { code, fingerprint };
        return Promise.resolve(runnerSays);
      },
    },
  });
  opening.catch(() => undefined);
  const shown = (await ctx.impl.request('pairing-code')) as { code: string; fingerprint: string };
  assert.match(shown.code, /^[0-9]{6}$/, 'the code is six decimal digits');
  assert.equal(
    shown.fingerprint,
    fingerprintOf(ctx.identity.x25519PublicKey),
    "the implementation shows the runner's fingerprint",
  );
  await ctx.impl.request('confirm', { accept: implSays });
  return { opening, shown, runnerSaw: () => runnerSaw };
}

export const CHANNEL_CASES: readonly Case[] = [
  {
    name: 'identity/fingerprint-form',
    covers: ['R-ID-1'],
    async run(ctx) {
      await ctx.fresh();
      const info = (await ctx.impl.request('info')) as { identityKey: string; fingerprint: string };
      assert.match(info.fingerprint, /^[0-9a-f]{4}(-[0-9a-f]{4}){7}$/, 'eight groups of four');
      assert.equal(info.fingerprint, fingerprintOf(ctx.implKey));
    },
  },
  {
    name: 'identity/static-key-is-the-store-key',
    covers: ['R-ID-2', 'R-CRY-2'],
    async run(ctx) {
      await ctx.fresh();
      const port1 = await ctx.listen();
      const one = await xxInitiate(await rawConnect(port1), ctx.identity);
      one.raw.reset();
      const port2 = await ctx.listen();
      const two = await xxInitiate(await rawConnect(port2), ctx.identity);
      two.raw.reset();
      assert.deepEqual(one.remoteStatic, ctx.implKey, 'the handshake shows the identity key');
      assert.deepEqual(two.remoteStatic, ctx.implKey, 'the same key in every session');
      assert.notDeepEqual(one.remoteEphemeral, two.remoteEphemeral, 'ephemeral keys are fresh');
    },
  },
  {
    name: 'handshake/low-order-ephemeral-refused',
    covers: ['R-CRY-1', 'R-HS-3'],
    async run(ctx) {
      await ctx.fresh();
      const { raw } = await rawConnect(await ctx.listen());
      try {
        // XX message 1 is the initiator's ephemeral key in the clear: here the zero point.
        await raw.send(encodeHandshakeFrame('session-xx', new Uint8Array(32)));
        const f = await nextHandshakeFrame(raw);
        assert.ok(f !== 'closed' && f.kind === 'abort', 'the implementation aborts');
        assert.equal(f.code, 'handshake-failed');
        assert.equal(await implEndedWith(ctx), 'handshake-failed');
      } finally {
        raw.reset();
      }
    },
  },
  {
    name: 'handshake/payload-where-none-belongs',
    covers: ['R-HS-1'],
    async run(ctx) {
      await ctx.fresh();
      const start = await rawConnect(await ctx.listen());
      try {
        const code = await codeOf(xxInitiate(start, ctx.identity, { payload1: Uint8Array.of(1) }));
        assert.equal(code, 'handshake-failed');
      } finally {
        start.raw.reset();
      }
    },
  },
  {
    name: 'handshake/mode-changed-mid-attempt',
    covers: ['R-HS-2'],
    async run(ctx) {
      await ctx.fresh();
      const start = await rawConnect(await ctx.listen());
      try {
        await xxInitiate(start, ctx.identity, { mode3: 'pair' });
        const f = await nextHandshakeFrame(start.raw);
        assert.ok(f !== 'closed' && f.kind === 'abort', 'the implementation aborts');
        assert.equal(f.code, 'unexpected-message');
      } finally {
        start.raw.reset();
      }
    },
  },
  {
    name: 'handshake/link-ends-mid-handshake',
    covers: ['R-ERRS-1'],
    async run(ctx) {
      await ctx.fresh();
      const start = await rawConnect(await ctx.listen());
      const hs = new HandshakeState({
        pattern: 'XX',
        initiator: true,
        prologue: buildPrologue({ initiatorHello: start.mine, responderHello: start.theirs }),
        staticSecret: ctx.identity.x25519SecretKey,
        ephemeralSecret: randomBytes(32),
      });
      await start.raw.send(encodeHandshakeFrame('session-xx', hs.writeMessage(new Uint8Array(0))));
      await nextHandshakeFrame(start.raw);
      await start.raw.close();
      assert.equal(await implEndedWith(ctx), 'link-closed');
    },
  },
  {
    name: 'ik/named-peer-opens-with-ik',
    covers: ['R-IK-1'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] });
      const frames: Uint8Array[] = [];
      const peer = await WirePeer.accept(
        { identity: ctx.identity, adapterKey: ctx.implKey, onRawFrame: (f) => frames.push(f) },
        connectToRunner(ctx, { peer: 'runner' }),
      );
      assert.deepEqual([frames[0]?.[0], frames[0]?.[1]], [0x01, 0x03], 'the first frame is IK');
      assert.equal(peer.link.mode, 'session-ik');
      const listed = ctx.act('list');
      const req = await peer.message();
      assert.ok(req.kind === 'message' && req.message.type === 'list-request');
      await peer.say({ type: 'list-page', id: req.message.id, entries: [], total: 0 });
      assert.deepEqual(await listed, []);
      peer.reset();
    },
  },
  {
    name: 'ik/responder-takes-ik-from-paired-peer',
    covers: ['R-IK-1'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] });
      const peer = await ctx.open({ intent: { kind: 'session', peer: 'impl' } });
      assert.equal(peer.link.mode, 'session-ik');
      await peer.say(LIST);
      await expectListPage(peer);
    },
  },
  {
    name: 'ik/responder-refuses-unpaired-initiator',
    covers: ['R-IK-2'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] }, false);
      const port = await ctx.listen();
      const code = await refusedWith(() =>
        WirePeer.open({
          port,
          identity: ctx.identity,
          adapterKey: ctx.implKey,
          intent: { kind: 'session', peer: 'impl' },
        }),
      );
      assert.equal(code, 'not-paired');
    },
  },
  {
    name: 'ik/fallback-to-xx-finds-another-key',
    covers: ['R-IK-3', 'R-IK-4', 'R-CRY-2'],
    async run(ctx) {
      // The implementation knows the runner's key as `runner`; a reinstalled runner answers.
      await ctx.fresh({ certs: [0] });
      const frames: Uint8Array[] = [];
      const reinstalled = createIdentity();
      const code = await codeOf(
        WirePeer.accept(
          { identity: reinstalled, adapterKey: ctx.implKey, onRawFrame: (f) => frames.push(f) },
          connectToRunner(ctx, { peer: 'runner' }),
        ),
      );
      assert.equal(code, 'peer-key-mismatch');
      assert.deepEqual(
        frames.map((f) => [f[0], f[1]]),
        [
          [0x01, 0x03],
          [0x01, 0x04],
          [0x02, 0x70],
        ],
        'IK, then one XX attempt, then an abort',
      );
      const abort = Buffer.from(frames[2]?.subarray(1) ?? []).toString('ascii');
      assert.equal(abort, 'peer-key-mismatch');
      const e1 = frames[0]?.subarray(2, 34);
      const e2 = frames[1]?.subarray(2, 34);
      assert.notDeepEqual(e1, e2, 'the XX attempt uses a new ephemeral key');
    },
  },
  {
    name: 'xx/initiator-refuses-unpaired-responder',
    covers: ['R-XX-1'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] }, false);
      const code = await codeOf(
        WirePeer.accept({ identity: ctx.identity, adapterKey: ctx.implKey }, connectToRunner(ctx)),
      );
      assert.equal(code, 'not-paired');
    },
  },
  {
    name: 'xx/initiator-opens-with-paired-responder',
    covers: ['R-XX-1'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] });
      const peer = await WirePeer.accept(
        { identity: ctx.identity, adapterKey: ctx.implKey },
        connectToRunner(ctx),
      );
      assert.equal(peer.link.mode, 'session-xx');
      await peer.say(LIST);
      await expectListPage(peer);
    },
  },
  {
    name: 'pairing/code-confirmed-by-both',
    covers: ['R-PAIR-1', 'R-PAIR-3'],
    async run(ctx) {
      const { opening, shown, runnerSaw } = await pairByCode(ctx, true, true);
      const peer = await opening;
      assert.equal(runnerSaw()?.code, shown.code, 'both sides show the same code');
      assert.equal(runnerSaw()?.fingerprint, fingerprintOf(ctx.implKey));
      assert.deepEqual((await ctx.store()).peers, ['runner'], 'the new peer is stored');
      await peer.say(LIST);
      await expectListPage(peer);
    },
  },
  {
    name: 'pairing/code-rejected-by-user',
    covers: ['R-PAIR-3', 'R-PAIR-4'],
    async run(ctx) {
      const { opening } = await pairByCode(ctx, true, false);
      assert.equal(await codeOf(opening), 'pairing-rejected');
      assert.equal(await implEndedWith(ctx), 'pairing-rejected');
      assert.deepEqual((await ctx.store()).peers, [], 'nothing is stored');
    },
  },
  {
    name: 'pairing/code-rejected-by-peer',
    covers: ['R-PAIR-3'],
    async run(ctx) {
      const { opening } = await pairByCode(ctx, false, true);
      assert.equal(await codeOf(opening), 'pairing-rejected');
      assert.equal(await implEndedWith(ctx), 'pairing-rejected');
      assert.deepEqual((await ctx.store()).peers, [], 'a peer that rejected is not stored');
    },
  },
  {
    name: 'pairing/code-as-initiator',
    covers: ['R-PAIR-1'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] }, false);
      let runnerSaw = '';
      const accepting = WirePeer.accept(
        {
          identity: ctx.identity,
          pairing: {
            kind: 'pair',
            name: 'impl',
            confirm: (code) => {
              runnerSaw = code;
              return Promise.resolve(true);
            },
          },
        },
        connectToRunner(ctx, { pairing: { kind: 'code', name: 'runner' } }),
      );
      accepting.catch(() => undefined);
      const shown = (await ctx.impl.request('pairing-code')) as { code: string };
      await ctx.impl.request('confirm', { accept: true });
      const peer = await accepting;
      assert.equal(shown.code, runnerSaw, 'both sides show the same code');
      assert.deepEqual((await ctx.store()).peers, ['runner']);
      peer.reset();
    },
  },
  {
    name: 'pairing/commitment-checked',
    covers: ['R-PAIR-2'],
    async run(ctx) {
      await ctx.fresh({}, false);
      const listener = await listenTcpLink({ port: 0, maxFrameSize: 65_535 });
      const connecting = ctx.impl.request('connect', {
        port: listener.port,
        pairing: { kind: 'code', name: 'runner' },
      });
      connecting.catch(() => undefined);
      const raw = await withTimeout(
        listener.accept(),
        10_000,
        'the implementation did not connect',
      );
      try {
        const mine = frameOf(runnerHello());
        await raw.send(mine);
        const theirs = await withTimeout(raw.receive(), 10_000, 'no hello');
        assert.ok(theirs instanceof Uint8Array);
        const answer = await pairWithBadReveal(
          raw,
          { initiator: theirs, responder: mine },
          ctx.identity,
        );
        assert.ok(answer instanceof Uint8Array, 'the implementation answers the reveal');
        assert.equal(Buffer.from(answer).toString('ascii'), '\x02handshake-failed');
        assert.equal(await codeOf(connecting), 'handshake-failed');
        assert.deepEqual((await ctx.store()).peers, []);
      } finally {
        raw.reset();
        await listener.close();
      }
    },
  },
  {
    name: 'pairing/name-held-by-another-key',
    covers: ['R-NAME-1'],
    async run(ctx) {
      await ctx.fresh({}, false);
      const other = hexOf(createIdentity().x25519PublicKey);
      await ctx.impl.request('load', { peers: [{ name: 'runner', key: other }] });
      const secret = secretOf(ctx);
      const port = await ctx.listen({ pairing: { secret, name: 'runner' } });
      const intent = { kind: 'pair-secret', name: 'impl', secret } as const;
      const code = await codeOf(WirePeer.open({ port, identity: ctx.identity, intent }));
      assert.equal(code, 'pairing-rejected', 'the verdict refuses');
      assert.equal(await implEndedWith(ctx), 'peer-key-mismatch');
      assert.deepEqual((await ctx.store()).peers, ['runner'], 'the other key keeps its name');
    },
  },
  {
    name: 'pairing/known-key-renamed',
    covers: ['R-NAME-2'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] }, false);
      const key = hexOf(ctx.identity.x25519PublicKey);
      await ctx.impl.request('load', { peers: [{ name: 'old-name', key }] });
      const secret = secretOf(ctx);
      const port = await ctx.listen({ pairing: { secret, name: 'runner' } });
      const intent = { kind: 'pair-secret', name: 'impl', secret } as const;
      const peer = await WirePeer.open({ port, identity: ctx.identity, intent });
      await peer.say(LIST);
      await expectListPage(peer);
      assert.deepEqual((await ctx.store()).peers, ['runner'], 'the key is renamed');
    },
  },
  {
    name: 'pairing/malformed-secret-refused',
    covers: ['R-PAIR-5'],
    async run(ctx) {
      await ctx.fresh({}, false);
      const good = secretOf(ctx).replace(/-/g, '');
      const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
      const last = alphabet.indexOf(good[25] as string);
      const bad = [
        good.slice(0, 25), // 25 letters
        `${good.slice(0, 24)}1${good[25]}`, // not base32
        `${good.slice(0, 25)}${alphabet[last + 1]}`, // spare bits set
      ];
      for (const secret of bad) {
        const code = await codeOf(ctx.listen({ pairing: { secret, name: 'runner' } }));
        assert.equal(code, 'bad-input', `the secret ${secret} is refused`);
      }
      const spaced = good.toUpperCase().replace(/(.{4})/g, '$1 ');
      assert.equal(typeof (await ctx.listen({ pairing: { secret: spaced, name: 'r' } })), 'number');
    },
  },
  {
    name: 'rekey/records-bound-both-ways',
    covers: ['R-REKEY-1'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1] });
      const rekey = { records: 3, bytes: 1 << 30 };
      const peer = await ctx.open({ rekey }, { rekey });
      for (let i = 0; i < 10; i++) {
        await peer.say({ ...LIST, id: 100 + i });
        await expectListPage(peer, 100 + i);
      }
      const r = peer.link.rotations();
      assert.ok(r.send >= 3 && r.receive >= 3, 'keys rotated in both directions');
    },
  },
  {
    name: 'rekey/bytes-bound-both-ways',
    covers: ['R-REKEY-2'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1, 2] });
      const rekey = { records: 1 << 20, bytes: 700 };
      const peer = await ctx.open({ rekey }, { rekey });
      for (let i = 0; i < 30; i++) {
        await peer.say({ ...LIST, id: 200 + i });
        await expectListPage(peer, 200 + i);
      }
      const r = peer.link.rotations();
      assert.ok(r.send >= 1 && r.receive >= 3, 'keys rotated by bytes in both directions');
    },
  },
  {
    name: 'records/unknown-record-type',
    covers: ['R-RCD-1'],
    async run(ctx) {
      await ctx.fresh();
      const s = await xxInitiate(await rawConnect(await ctx.listen()), ctx.identity);
      try {
        await s.seal(7, Uint8Array.of(1, 2, 3));
        assert.equal(await implEndedWith(ctx), 'malformed-message');
      } finally {
        s.raw.reset();
      }
    },
  },
  {
    name: 'records/pairing-record-in-session',
    covers: ['R-RCD-3'],
    async run(ctx) {
      await ctx.fresh();
      const s = await xxInitiate(await rawConnect(await ctx.listen()), ctx.identity);
      try {
        await s.seal(3, Uint8Array.of(1));
        assert.equal(await implEndedWith(ctx), 'unexpected-message');
      } finally {
        s.raw.reset();
      }
    },
  },
  {
    name: 'records/frame-over-record-bound',
    covers: ['R-RCD-2'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] });
      const peer = await ctx.open({ linkFrame: 1 << 20 });
      await peer.raw.send(new Uint8Array(65_536));
      assert.equal(await implEndedWith(ctx), 'frame-too-large');
    },
  },
];
