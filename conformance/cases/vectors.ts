/**
 * The message vectors of spec/vectors/messages.json run as cases (spec/protocol.md 10):
 * every frame a decoder must reject is sent once ready and must draw its fatal error; the
 * extension frame must be skipped; the valid requests must draw their answers.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesOf, hexOf } from '../../protocol/wire/hex.ts';
import type { Case } from '../harness/context.ts';
import { expectType } from './messages.ts';
import { expectListPage } from './wire.ts';

interface VectorFile {
  valid: { name: string; hex: string }[];
  invalid: { hex: string; error: string; why: string }[];
  ignorable: { hex: string; why: string }[];
}

function vectors(): VectorFile {
  const path = join(process.cwd(), 'spec/vectors/messages.json');
  return JSON.parse(readFileSync(path, 'utf8')) as VectorFile;
}

function validHex(v: VectorFile, name: string): Uint8Array {
  const hit = v.valid.find((x) => x.name === name);
  if (!hit) throw new Error(`spec/vectors/messages.json has no valid vector ${name}`);
  return bytesOf(hit.hex);
}

const LIST = { type: 'list-request', id: 7, order: 'store', filter: 'all', limit: 10 } as const;

/** One case per vector; the vectors file is read when the suite is built. */
export function vectorCases(): Case[] {
  const v = vectors();
  const cases: Case[] = v.invalid.map((x) => ({
    name: `vectors/invalid/${x.why.replace(/[^a-z0-9]+/gi, '-')}`,
    covers: ['R-VEC-1'],
    async run(ctx) {
      await ctx.fresh({ certs: [0] });
      const peer = await ctx.open();
      await peer.send(bytesOf(x.hex));
      await ctx.expectFatal(peer, x.error);
    },
  }));
  for (const x of v.ignorable) {
    cases.push({
      name: `vectors/ignorable/${x.why.split(':')[0]?.replace(/[^a-z0-9]+/gi, '-') ?? 'x'}`,
      covers: ['R-VEC-1', 'R-UNK-2'],
      async run(ctx) {
        await ctx.fresh({ certs: [0] });
        const peer = await ctx.open();
        await peer.send(bytesOf(x.hex));
        await peer.say(LIST);
        await expectListPage(peer);
      },
    });
  }
  cases.push(
    {
      name: 'vectors/valid/hello-unlimited-as-runner-hello',
      covers: ['R-VEC-2', 'R-VER-1'],
      async run(ctx) {
        await ctx.fresh({ certs: [0] });
        const peer = await ctx.open({ hello: validHex(v, 'hello-unlimited') });
        await peer.say(LIST);
        await expectListPage(peer);
      },
    },
    {
      name: 'vectors/valid/list-request',
      covers: ['R-VEC-2', 'R-MSG-2'],
      async run(ctx) {
        await ctx.fresh({ certs: [0, 1] });
        const peer = await ctx.open();
        await peer.send(validHex(v, 'list-request'));
        const page = await expectType(peer, 'list-page');
        assert.equal(page.id, 1);
        assert.equal(page.total, 2);
      },
    },
    {
      name: 'vectors/valid/delete-request',
      covers: ['R-VEC-2', 'R-MSG-4'],
      async run(ctx) {
        await ctx.fresh({ certs: [0] });
        const peer = await ctx.open();
        await peer.send(validHex(v, 'delete-request'));
        const r = await expectType(peer, 'delete-result');
        assert.equal(r.id, 8);
        assert.deepEqual(
          r.results.map((x) => [hexOf(x.id).slice(0, 2), x.outcome]),
          [
            ['11', 'not-found'],
            ['55', 'not-found'],
          ],
        );
      },
    },
    {
      name: 'vectors/valid/pull-request-lacking',
      covers: ['R-VEC-2', 'R-MSG-3'],
      async run(ctx) {
        await ctx.fresh({ certs: [0] });
        const peer = await ctx.open();
        await peer.send(validHex(v, 'pull-request-lacking'));
        const e = await expectType(peer, 'error');
        assert.equal(e.fatal, false);
        assert.equal(e.inReplyTo, 7);
      },
    },
    {
      name: 'vectors/valid/validity-report-then-goodbye',
      covers: ['R-VEC-2', 'R-MSG-5', 'R-BYE-1'],
      async run(ctx) {
        await ctx.fresh({ certs: [0] });
        const peer = await ctx.open();
        await peer.send(validHex(v, 'validity-report'));
        await peer.send(validHex(v, 'goodbye'));
        await expectType(peer, 'goodbye');
        assert.equal(await peer.next(), 'closed');
      },
    },
    {
      name: 'vectors/valid/error-fatal',
      covers: ['R-VEC-2', 'R-VIO-2'],
      async run(ctx) {
        await ctx.fresh({ certs: [0] });
        const peer = await ctx.open();
        await peer.send(validHex(v, 'error-fatal'));
        assert.equal(await peer.next(), 'closed');
      },
    },
  );
  return cases;
}
