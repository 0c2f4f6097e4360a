/**
 * `node --import tsx bench/validate.bench.ts [--quick]`: how long the validator takes to
 * check a whole store, and how long its worst crafted chain takes.
 *
 * Store: 10,000 S/MIME certificates (1,000 with --quick) from 20 intermediate CAs under one
 * root, every CA with a CRL revoking one certificate in fifty, checked with `checkStore`
 * under hard-fail. The CAs and CRLs come from openssl; the leaves are signed with Node's
 * crypto under the CAs' keys (see node/validate/testing/fast-leaves.ts). Everything is cached
 * in bench/.cache/ and validated at a time stored with it, so a cached set stays usable.
 *
 * Crafted chain: a mesh of cross-signed CAs (every CA certifies every other's key under
 * its name) with no way out to the trust anchor, the shape that makes naive path building
 * explore every ordering. Timed with the default limits and with limits raised a hundredfold.
 */
import { mkdir, readFile, writeFile, appendFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChainLab, type LabCert } from '../node/validate/testing/chain-lab.ts';
import { fastIssuer, leafKeys, signLeaf } from '../node/validate/testing/fast-leaves.ts';
import {
  checkStore,
  validate,
  DEFAULT_LIMITS,
  type ValidationResult,
} from '../node/validate/index.ts';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const STORE = quick ? 1_000 : 10_000;
const ISSUERS = 20;
const REVOKE_EVERY = 50;
const MESH = quick ? 6 : 8;
const DAY = 86_400_000;

interface Fixture {
  at: string;
  root: string;
  intermediates: string[];
  crls: string[];
  leaves: string[];
}
interface MeshFixture {
  root: string;
  crosses: string[];
  leaf: string;
  at: string;
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const ymd = (d: Date): string => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';

async function cached<T>(name: string, make: () => Promise<T>): Promise<T> {
  const path = join(here, '.cache', name);
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    const value = await make();
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, JSON.stringify(value));
    return value;
  }
}

async function makeStore(): Promise<Fixture> {
  const lab = await ChainLab.create();
  try {
    const now = Date.now();
    const root = await lab.root('Bench Root');
    const cas: LabCert[] = [];
    for (let i = 0; i < ISSUERS; i++) cas.push(await lab.intermediate(`Bench CA ${i + 1}`, root));
    const issuers = await Promise.all(cas.map((ca) => fastIssuer(ca)));
    const keys = leafKeys(64);
    const revoked: string[][] = cas.map(() => []);
    const leaves: string[] = [];
    for (let i = 0; i < STORE; i++) {
      const ca = i % ISSUERS;
      const leaf = signLeaf(
        issuers[ca] as (typeof issuers)[number],
        keys[i % keys.length] as Uint8Array,
        `user${i}@bench.example`,
        new Date(now - DAY),
        new Date(now + 700 * DAY),
      );
      leaves.push(b64(leaf.der));
      if (i % REVOKE_EVERY === REVOKE_EVERY - 1) revoked[ca]?.push(leaf.serial);
    }
    // openssl writes each CA's CRL from its database; the fast leaves are added to it as
    // revoked entries in openssl's own index format.
    const crls: string[] = [b64(await lab.crl(root))];
    for (let c = 0; c < ISSUERS; c++) {
      const ca = cas[c] as LabCert;
      const index = (ca.config as string).replace(/ca\.cnf$/, 'index.txt');
      const lines = (revoked[c] ?? []).map((s) =>
        [
          'R',
          ymd(new Date(now + 700 * DAY)),
          `${ymd(new Date(now - 3600_000))},keyCompromise`,
          s.toUpperCase(),
          'unknown',
          '/CN=x\n',
        ].join('\t'),
      );
      await appendFile(index, lines.join(''));
      crls.push(b64(await lab.crl(ca, { nextUpdate: new Date(now + 6 * DAY) })));
    }
    return {
      at: new Date(now + 3600_000).toISOString(),
      root: b64(root.der),
      intermediates: cas.map((c) => b64(c.der)),
      crls,
      leaves,
    };
  } finally {
    await lab.cleanup();
  }
}

async function makeMesh(): Promise<MeshFixture> {
  const lab = await ChainLab.create();
  try {
    const root = await lab.root('Mesh Anchor');
    const cas: LabCert[] = [];
    for (let i = 0; i < MESH; i++) cas.push(await lab.root(`Mesh ${i + 1}`));
    const crosses: string[] = [];
    for (const subject of cas) {
      for (const issuer of cas) {
        if (subject === issuer) continue;
        const cross = await lab.intermediate(subject.name, issuer, { keyPath: subject.keyPath });
        crosses.push(b64(cross.der));
      }
    }
    const leaf = await lab.leaf('Mesh Leaf', cas[0] as LabCert);
    return { root: b64(root.der), crosses, leaf: b64(leaf.der), at: new Date().toISOString() };
  } finally {
    await lab.cleanup();
  }
}

function tlv(tag: number, ...parts: Uint8Array[]): Buffer {
  return wrapList(tag, parts);
}

function wrapList(tag: number, parts: readonly Uint8Array[]): Buffer {
  const body = Buffer.concat(parts);
  const len: number[] = [];
  for (let n = body.length; n > 0; n = Math.floor(n / 256)) len.unshift(n & 0xff);
  if (body.length >= 0x80) len.unshift(0x80 | len.length);
  else len.splice(0, len.length, body.length);
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}

/** A CRL of at most `maxBytes` whose entries fill it, with a signature that verifies for no one. */
function craftedCrl(maxBytes: number): { der: Uint8Array; entries: number } {
  const alg = tlv(0x30, Buffer.from([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]));
  const name = tlv(
    0x30,
    tlv(
      0x31,
      tlv(0x30, Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03]), tlv(0x0c, Buffer.from('Bench CA 1'))),
    ),
  );
  const time = tlv(0x17, Buffer.from('260101000000Z'));
  const entry = (i: number): Buffer => {
    const serial = Buffer.alloc(16);
    serial.writeUInt32BE(i + 0x10000000, 0);
    return tlv(0x30, tlv(0x02, serial), time);
  };
  const one = entry(0).length;
  const entries = Math.floor((maxBytes - 200) / one);
  const list = wrapList(
    0x30,
    Array.from({ length: entries }, (_, i) => entry(i)),
  );
  const tbs = tlv(0x30, Buffer.from([0x02, 0x01, 0x01]), alg, name, time, time, list);
  const der = tlv(0x30, tbs, alg, tlv(0x03, Buffer.alloc(72, 1)));
  return { der: new Uint8Array(der), entries };
}

/** CPU time (user + system) since `start`, in ms: steadier than wall time on a busy machine. */
function cpuMs(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

function tally(results: readonly ValidationResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) out[r.code] = (out[r.code] ?? 0) + 1;
  return out;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const store = await cached(`validate-store-${STORE}.json`, makeStore);
  const mesh = await cached(`validate-mesh-${MESH}.json`, makeMesh);
  const setupMs = performance.now() - t0;

  const options = {
    anchors: [bytes(store.root)],
    intermediates: store.intermediates.map(bytes),
    crls: store.crls.map(bytes),
    at: new Date(store.at),
    revocation: 'hard-fail' as const,
  };
  const leaves = store.leaves.map(bytes);
  const s0 = performance.now();
  const c0 = process.cpuUsage();
  const report = await checkStore(leaves, options);
  const storeMs = performance.now() - s0;
  const storeCpu = cpuMs(c0);
  const codes = tally(report.results);

  // The same certificates one by one with validate(): every call parses the CRLs again.
  const single = Math.min(200, leaves.length);
  const v0 = performance.now();
  const vc = process.cpuUsage();
  for (let i = 0; i < single; i++) await validate(leaves[i] as Uint8Array, options);
  const perSingleMs = (performance.now() - v0) / single;
  const perSingleCpu = cpuMs(vc) / single;

  // A crafted CRL as large as the limit allows, signed by no one: parsing it is the most a
  // single supplied CRL can cost before its signature is even looked at.
  const big = craftedCrl(DEFAULT_LIMITS.maxCrlBytes);
  const b0 = performance.now();
  const bc = process.cpuUsage();
  const bigResult = await validate(leaves[0] as Uint8Array, { ...options, crls: [big.der] });
  const bigMs = performance.now() - b0;
  const bigCpu = cpuMs(bc);

  const meshOptions = {
    anchors: [bytes(mesh.root)],
    intermediates: mesh.crosses.map(bytes),
    at: new Date(mesh.at),
    checkRevocation: false,
  };
  type Timed = { ms: number; cpu: number; r: ValidationResult };
  const timeMesh = async (limits: object): Promise<Timed> => {
    let worst: Timed = { ms: 0, cpu: 0, r: undefined as unknown as ValidationResult };
    for (let i = 0; i < 3; i++) {
      const m0 = performance.now();
      const c = process.cpuUsage();
      const r = await validate(bytes(mesh.leaf), { ...meshOptions, limits });
      const ms = performance.now() - m0;
      if (ms >= worst.ms) worst = { ms, cpu: cpuMs(c), r };
    }
    return worst;
  };
  const meshDefault = await timeMesh({});
  const raised = {
    maxCandidates: DEFAULT_LIMITS.maxCandidates * 100,
    maxSignatureChecks: DEFAULT_LIMITS.maxSignatureChecks * 100,
    maxPaths: DEFAULT_LIMITS.maxPaths * 100,
  };
  const meshRaised = await timeMesh(raised);

  const perCert = (ms: number): string => ((ms * 1000) / STORE).toFixed(0);
  const timed = (t: Timed): string => `${t.ms.toFixed(1)} ms (CPU ${t.cpu.toFixed(1)} ms)`;
  const rows: [string, string][] = [
    [
      'store size / issuers / CRL entries',
      `${STORE} / ${ISSUERS} / ${Math.floor(STORE / REVOKE_EVERY)}`,
    ],
    ['checkStore total (wall / CPU)', `${storeMs.toFixed(0)} ms / ${storeCpu.toFixed(0)} ms`],
    ['checkStore per certificate (wall / CPU)', `${perCert(storeMs)} µs / ${perCert(storeCpu)} µs`],
    [
      'results',
      Object.entries(codes)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ],
    [
      'validate() alone, per certificate (wall / CPU)',
      `${perSingleMs.toFixed(2)} ms / ${perSingleCpu.toFixed(2)} ms`,
    ],
    [
      `mesh of ${MESH} cross-signed CAs (${mesh.crosses.length} certs), default limits`,
      `${timed(meshDefault)}, ${meshDefault.r.code}`,
    ],
    ['  work', JSON.stringify(meshDefault.r.work)],
    ['same mesh, limits x100', `${timed(meshRaised)}, ${meshRaised.r.code}`],
    ['  work', JSON.stringify(meshRaised.r.work)],
    [
      `crafted CRL of ${(big.der.length / 1048576).toFixed(1)} MiB (${big.entries} entries)`,
      `${bigMs.toFixed(0)} ms (CPU ${bigCpu.toFixed(0)} ms), ${bigResult.code}`,
    ],
    ['fixture setup (cached after first run)', `${setupMs.toFixed(0)} ms`],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  console.log(`| ${'measure'.padEnd(width)} | value |`);
  console.log(`|${'-'.repeat(width + 2)}|-------|`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v} |`);

  await mkdir(join(here, 'out'), { recursive: true });
  await writeFile(
    join(here, 'out', 'validate.json'),
    `${JSON.stringify(
      {
        quick,
        store: {
          certificates: STORE,
          issuers: ISSUERS,
          totalMs: storeMs,
          cpuMs: storeCpu,
          perCertificateUs: (storeMs * 1000) / STORE,
          perCertificateCpuUs: (storeCpu * 1000) / STORE,
          codes,
        },
        singleValidateMs: perSingleMs,
        singleValidateCpuMs: perSingleCpu,
        craftedCrl: { bytes: big.der.length, entries: big.entries, ms: bigMs, cpuMs: bigCpu },
        mesh: {
          cas: MESH,
          certificates: mesh.crosses.length,
          defaultLimits: {
            ms: meshDefault.ms,
            cpuMs: meshDefault.cpu,
            code: meshDefault.r.code,
            work: meshDefault.r.work,
          },
          raisedLimits: {
            ms: meshRaised.ms,
            code: meshRaised.r.code,
            work: meshRaised.r.work,
            limits: raised,
          },
        },
      },
      null,
      2,
    )}\n`,
  );
  const expectedRevoked = Math.floor(STORE / REVOKE_EVERY);
  if (codes.revoked !== expectedRevoked || codes.valid !== STORE - expectedRevoked) {
    console.error(`unexpected results: ${JSON.stringify(codes)}`);
    process.exit(1);
  }
}

await main();
