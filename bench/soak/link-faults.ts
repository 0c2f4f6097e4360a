/**
 * Soak part `link-faults`: a two-way sync between two SQLite stores through the client
 * runner (node/client connectSession / acceptSession) over the framed link model, cut at
 * message boundaries in turn (every one at full budget) and at random byte offsets. After
 * each cut both stores must pass the checks of sync-fixture.ts, and a rerun over an unbroken
 * line must complete with both stores holding exactly the expected certificates and
 * tombstones, and equal digests.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptSession, connectSession } from '../../node/client/peer-session.ts';
import { Store } from '../../node/store/index.ts';
import { formatPairingSecret } from '../../protocol/secure/pairing.ts';
import { realClock } from '../../transports/clock.ts';
import type { Link } from '../../transports/link.ts';
import { createModelLinkPair } from '../../transports/model/link-model.ts';
import { SERIAL_115200 } from '../../transports/model/presets.ts';
import { seededRandom } from '../../transports/model/seeded-random.ts';
import { emptyResult, fail, type PartContext, type PartResult } from './part.ts';
import {
  contents,
  contentsDiff,
  digestOf,
  expectedAfterSync,
  makeCertificates,
  makeStores,
  storeProblems,
} from './sync-fixture.ts';

// A fast line, so that many cut runs stay quick; the cut is what is under test.
const LINE = { ...SERIAL_115200, name: 'fast-serial', bitRate: 20_000_000, maxFrameSize: 65_536 };
const SECRET = formatPairingSecret(new Uint8Array(16).fill(7));
const CERTIFICATES = 90;

/** Counts the bytes of every frame that arrives, in arrival order (both ends share one log). */
function recording(link: Link, log: number[]): Link {
  return {
    maxFrameSize: link.maxFrameSize,
    send: (f) => link.send(f),
    close: () => link.close(),
    receive: async () => {
      const f = await link.receive();
      if (f) log.push(f.length);
      return f;
    },
  };
}

/** Pairs two stores over an unbroken line: A knows B as `b`, B knows A as `a`. */
export async function pairStores(pathA: string, pathB: string): Promise<void> {
  const a = Store.open(pathA);
  const b = Store.open(pathB);
  try {
    const line = createModelLinkPair(LINE, { clock: realClock });
    const [x, y] = await Promise.all([
      connectSession(line.a, {
        store: a,
        autoSync: false,
        intent: { kind: 'pair-secret', name: 'b', secret: SECRET },
      }),
      acceptSession(line.b, {
        store: b,
        autoSync: false,
        pairing: { kind: 'pair-secret', name: 'a', secret: SECRET },
      }),
    ]);
    await x.goodbye();
    await y.whenEnded();
  } finally {
    a.close();
    b.close();
  }
}

/** One reconciling session; the line breaks at `cutAtByte` when given. */
async function syncOnce(pathA: string, pathB: string, cutAtByte?: number, log?: number[]) {
  const a = Store.open(pathA);
  const b = Store.open(pathB);
  const line = createModelLinkPair(LINE, {
    clock: realClock,
    ...(cutAtByte !== undefined ? { cutAtByte } : {}),
  });
  const la = log ? recording(line.a, log) : line.a;
  const lb = log ? recording(line.b, log) : line.b;
  const server = acceptSession(lb, { store: b, autoSync: false }).then(
    (s) => s.whenEnded(),
    (e: unknown) => e,
  );
  let outcome: 'done' | 'failed' = 'failed';
  try {
    const s = await connectSession(la, {
      store: a,
      autoSync: false,
      intent: { kind: 'session', peer: 'b' },
    });
    await s.reconcile();
    await s.goodbye();
    outcome = (await s.whenEnded()) === null ? 'done' : 'failed';
  } catch {
    outcome = 'failed';
  } finally {
    await server;
    await Promise.all([line.a.close(), line.b.close()]).catch(() => undefined);
    a.close();
    b.close();
  }
  return { outcome, bytes: line.stats().deliveredBytes };
}

/** The byte offsets of every message boundary of the reference sync (first bytes excluded). */
function boundaries(frameSizes: readonly number[]): number[] {
  const out: number[] = [];
  let at = 0;
  for (const n of frameSizes) {
    if (at > 0) out.push(at);
    at += n;
  }
  return out;
}

/** Picks at most `n` of `all`, spread evenly. */
function spread(all: readonly number[], n: number): number[] {
  if (all.length <= n) return [...all];
  return Array.from({ length: n }, (_, i) => all[Math.floor(((i + 0.5) * all.length) / n)]!);
}

/** Runs the part. */
export async function linkFaults(ctx: PartContext): Promise<PartResult> {
  const result = emptyResult('link-faults');
  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'certsync-faults-'));
  try {
    const certs = await makeCertificates(CERTIFICATES);
    const expected = expectedAfterSync(certs);
    const template = makeStores(dir, 'template', certs);
    await pairStores(template.a, template.b);
    const fresh = (name: string) => {
      const a = join(dir, `${name}-a.sqlite`);
      const b = join(dir, `${name}-b.sqlite`);
      copyFileSync(template.a, a);
      copyFileSync(template.b, b);
      return { a, b };
    };
    const ref = fresh('ref');
    const sizes: number[] = [];
    const full = await syncOnce(ref.a, ref.b, undefined, sizes);
    if (full.outcome !== 'done') fail(result, 'reference', 'the unbroken sync failed');
    const all = boundaries(sizes);
    const random = seededRandom(ctx.seed);
    const cuts = [
      ...spread(all, ctx.budget.boundaryCuts).map((at) => ({ at, kind: 'boundary' })),
      ...Array.from({ length: ctx.budget.randomCuts }, () => ({
        at: 1 + Math.floor(random() * (full.bytes - 1)),
        kind: 'random',
      })),
    ];
    result.figures['reference frames'] = sizes.length;
    result.figures['reference bytes'] = full.bytes;
    result.figures['message boundaries'] = all.length;
    let completedAnyway = 0;
    for (const [i, cut] of cuts.entries()) {
      const run = fresh(`cut${i}`);
      const tag = `${cut.kind} cut at byte ${cut.at}`;
      const broken = await syncOnce(run.a, run.b, cut.at);
      result.cuts++;
      if (broken.outcome === 'done') completedAnyway++;
      for (const path of [run.a, run.b]) {
        for (const p of storeProblems(path)) fail(result, tag, `after the cut: ${p}`);
      }
      const again = await syncOnce(run.a, run.b);
      if (again.outcome !== 'done') fail(result, tag, 'the rerun did not complete');
      for (const path of [run.a, run.b]) {
        const diff = contentsDiff(contents(path), expected);
        if (diff) fail(result, tag, `after the rerun: ${diff}`);
      }
      if (digestOf(run.a) !== digestOf(run.b)) fail(result, tag, 'digests differ after rerun');
      ctx.memory.sample();
      for (const p of [run.a, run.b]) rmSync(p, { force: true });
    }
    result.figures['cuts after the last frame (sync completed)'] = completedAnyway;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}
