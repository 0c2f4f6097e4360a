/**
 * Cases for spec/protocol.md sections 2 to 6: CBOR rules, the envelope, limits, versions,
 * unknown types and fields. Each sends bytes in the ready phase and checks the bytes that
 * come back.
 */
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import { encodeCbor, type CborKey, type CborValue } from '../../protocol/wire/cbor.ts';
import { bytesOf } from '../../protocol/wire/hex.ts';
import type { Case, Context } from '../harness/context.ts';
import { decoded, frameOf, runnerHello, type WirePeer } from '../harness/wire-peer.ts';

/** A list-request the implementation must answer with a list-page. */
const LIST = { type: 'list-request', id: 7, order: 'store', filter: 'all', limit: 10 } as const;

/** A list-request envelope with `extra` fields added to its payload map, encoded as is. */
function listWith(extra: [CborKey, CborValue][], version = 1): Uint8Array {
  const payload = new Map<CborKey, CborValue>([[0, 7], [1, 0], [2, 0], [4, 10], ...extra]);
  return encodeCbor([version, 32, payload]);
}

/** Reads the next frame and asserts it is the list-page answering LIST (id 7). */
export async function expectListPage(peer: WirePeer, id = 7): Promise<void> {
  const m = await peer.message();
  assert.ok(m.kind === 'message', `expected list-page, got a ${m.kind} frame`);
  assert.equal(m.message.type, 'list-page');
  if (m.message.type === 'list-page') assert.equal(m.message.id, id, 'list-page echoes the id');
}

/** A case that sends `frame` once ready and expects a fatal error `code`. */
function rejects(
  name: string,
  covers: string[],
  code: string,
  frame: (c: Context, p: WirePeer) => Uint8Array,
) {
  return {
    name,
    covers,
    async run(ctx: Context) {
      await ctx.fresh({ certs: [0] });
      const peer = await ctx.open();
      await peer.send(frame(ctx, peer));
      await ctx.expectFatal(peer, code);
    },
  } satisfies Case;
}

/** A case that sends `frame`, then LIST, and expects only the list-page back. */
function skips(name: string, covers: string[], frame: Uint8Array): Case {
  return {
    name,
    covers,
    async run(ctx) {
      await ctx.fresh({ certs: [0] });
      const peer = await ctx.open();
      await peer.send(frame);
      await peer.say(LIST);
      await expectListPage(peer);
    },
  };
}

export const WIRE_CASES: readonly Case[] = [
  {
    name: 'cbor/deterministic-output',
    covers: ['R-CBOR-3'],
    async run(ctx) {
      await ctx.fresh({ certs: [0, 1, 2] });
      const peer = await ctx.open();
      const hello = decoded(peer.theirHello);
      assert.equal(hello.kind, 'message');
      await peer.say(LIST);
      const f = await peer.next();
      assert.ok(f instanceof Uint8Array, 'expected a list-page');
      const m = decoded(f);
      assert.ok(m.kind === 'message');
      assert.deepEqual(frameOf(m.message, m.version), f, 're-encoding gives the same bytes');
      if (hello.kind === 'message') {
        assert.deepEqual(frameOf(hello.message, hello.version), peer.theirHello);
      }
    },
  },
  rejects('cbor/non-shortest-head', ['R-CBOR-1'], 'malformed-message', () =>
    bytesOf('83011820a4001807010002000410'),
  ),
  rejects('cbor/trailing-bytes', ['R-CBOR-1'], 'malformed-message', () => {
    const f = listWith([]);
    return Uint8Array.from([...f, 0x00]);
  }),
  rejects('cbor/truncated-item', ['R-CBOR-1'], 'malformed-message', () => {
    const f = listWith([]);
    return f.subarray(0, f.length - 1);
  }),
  rejects('cbor/undefined-simple-value', ['R-CBOR-1'], 'malformed-message', () =>
    bytesOf('830102a100f7'),
  ),
  rejects('envelope/not-an-array', ['R-ENV-1'], 'malformed-message', () => bytesOf('a0')),
  rejects('envelope/type-zero', ['R-ENV-1'], 'malformed-message', () => bytesOf('830100a0')),
  rejects('envelope/payload-not-map', ['R-ENV-1'], 'malformed-message', () =>
    bytesOf('8301182080'),
  ),
  rejects('limits/frame-over-max-frame', ['R-LIM-1', 'R-LIM-5'], 'frame-too-large', (_, p) => {
    const hello = decoded(p.theirHello);
    assert.ok(hello.kind === 'message' && hello.message.type === 'hello');
    const limit = hello.message.maxFrame;
    assert.ok(limit <= 65_518, `announces maxFrame ${limit}, over a record's 65,518 bytes`);
    // One byte over the announced limit, padded with an ignorable field.
    const base = listWith([[100, new Uint8Array(0)]]).length;
    const frame = listWith([[100, new Uint8Array(limit + 1 - base - 2)]]);
    assert.equal(frame.length, limit + 1);
    return frame;
  }),
  rejects('limits/text-over-4096', ['R-LIM-2'], 'limit-exceeded', () =>
    listWith([[100, 'x'.repeat(4_097)]]),
  ),
  rejects('limits/bytes-claim-over-196608', ['R-LIM-2'], 'limit-exceeded', () =>
    bytesOf('83011820a100' + '5a00030001' + '00'),
  ),
  rejects('limits/array-claim-over-4096', ['R-LIM-2'], 'limit-exceeded', () =>
    bytesOf('83011820a1186499100100'),
  ),
  // Envelope 1, payload 2, seven arrays 3..9, the innermost array 10.
  rejects('limits/nesting-over-8', ['R-LIM-2'], 'limit-exceeded', () =>
    bytesOf('83011820a11864' + '81'.repeat(7) + '80'),
  ),
  rejects('limits/schema-bound-list-limit-513', ['R-LIM-3'], 'malformed-message', () =>
    encodeCbor([
      1,
      32,
      new Map<CborKey, CborValue>([
        [0, 7],
        [1, 0],
        [2, 0],
        [4, 513],
      ]),
    ]),
  ),
  {
    name: 'limits/sender-respects-peer-max-frame',
    covers: ['R-LIM-4'],
    async run(ctx) {
      const certs = Array.from({ length: 12 }, (_, i) => i);
      await ctx.fresh({ certs });
      const hello = frameOf(runnerHello({ maxFrame: 4_096 }));
      const peer = await ctx.open({ hello });
      await peer.say({ type: 'pull-request', id: 3, mode: 'add', filter: 'all' });
      let seen = 0;
      for (;;) {
        const f = await peer.next();
        assert.ok(f instanceof Uint8Array, 'expected the pulled transfer');
        assert.ok(f.length <= 4_096, `a frame of ${f.length} bytes is over the announced 4,096`);
        const m = decoded(f);
        if (m.kind !== 'message') continue;
        if (m.message.type === 'items') {
          seen += m.message.items.length;
          await peer.say({
            type: 'items-ack',
            id: 3,
            seq: m.message.seq,
            results: m.message.items.map((it) => ({
              id: sha256(it.der ?? new Uint8Array(0)),
              outcome: 'stored' as const,
            })),
          });
        }
        if (m.message.type === 'transfer-end') break;
      }
      assert.equal(seen, 12, 'every item was sent');
    },
  },
  {
    name: 'versions/highest-common',
    covers: ['R-VER-1', 'R-VER-4'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] });
      const hello = frameOf(runnerHello({ versions: [1, 3] }), 3);
      const peer = await ctx.open({ hello });
      await peer.say(LIST);
      const m = await peer.message();
      assert.equal(m.version, 1, 'frames after the hellos carry the negotiated version 1');
    },
  },
  {
    name: 'versions/no-overlap',
    covers: ['R-VER-2'],
    async run(ctx) {
      await ctx.fresh();
      const hello = frameOf(runnerHello({ versions: [2, 3] }), 3);
      const peer = await ctx.open({ hello });
      await ctx.expectFatal(peer, 'no-common-version');
    },
  },
  {
    name: 'versions/other-envelope-version-after-hello',
    covers: ['R-VER-3'],
    async run(ctx) {
      await ctx.fresh();
      const peer = await ctx.open();
      await peer.send(listWith([], 2));
      await ctx.expectFatal(peer, 'malformed-message');
    },
  },
  rejects('unknown/must-understand-type-100', ['R-UNK-1'], 'unknown-message', () =>
    bytesOf('83011864a0'),
  ),
  skips('unknown/extension-type-skipped', ['R-UNK-2'], bytesOf('830119fde8a10001')),
  skips('unknown/extension-type-65535-skipped', ['R-UNK-2'], bytesOf('830119ffffa0')),
  {
    name: 'unknown/non-negative-field-ignored',
    covers: ['R-UNK-3'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] });
      const peer = await ctx.open();
      await peer.send(
        listWith([
          [99, 'later'],
          ['note', 1],
        ]),
      );
      await expectListPage(peer);
    },
  },
  rejects('unknown/negative-field-rejected', ['R-UNK-4'], 'malformed-message', () =>
    listWith([[-5, 1]]),
  ),
  rejects('unknown/reconcile-type-without-capability', ['R-UNK-5'], 'unexpected-message', () =>
    bytesOf('830110a0'),
  ),
];
