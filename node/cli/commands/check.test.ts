import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exitStatusFor } from '../../../protocol/errors.ts';
import { encodePem } from '../../pki/index.ts';
import { createHash } from 'node:crypto';
import {
  certsyncJson,
  integrityCheck,
  runCertsync,
  ServeProcess,
  spawnCertsync,
  startPtyPair,
  type ProcessResult,
} from '../../client/test-processes.ts';
import { ChainLab, type LabCert } from '../../validate/testing/chain-lab.ts';
import {
  startRevocationServer,
  type RevocationServer,
} from '../../validate/testing/revocation-server.ts';

const DAY = 86_400_000;

const fp = (c: LabCert): string => createHash('sha256').update(c.der).digest('hex');

interface Checked {
  readonly ran: boolean;
  readonly results: readonly { subject: string; status: string; code: string; reason: string }[];
}

describe('validity checks of the client against a real OCSP responder and real CRLs', () => {
  let lab: ChainLab;
  let server: RevocationServer;
  let keyserver: Server;
  let keyserverUrl: string;
  let root: LabCert;
  let inter: LabCert;
  const leaves: Record<string, LabCert> = {};

  before(async () => {
    lab = await ChainLab.create();
    server = await startRevocationServer(lab);
    root = await lab.root('Root');
    server.publish('/root.crl', await lab.crl(root));
    inter = await lab.intermediate('Mail CA', root, {
      extra: [`crlDistributionPoints = URI:${server.base}/root.crl`],
    });
    server.answerFor(inter);
    const aia = `authorityInfoAccess = OCSP;URI:${server.base}/ocsp`;
    const leaf = (name: string, email: string, more: object = {}) =>
      lab.leaf(name, inter, { email, extra: [aia], ...more });
    leaves.good = await leaf('Good', 'good@example.org');
    leaves.revoked = await leaf('Revoked', 'rev@example.org');
    leaves.expired = await leaf('Expired', 'old@example.org', {
      notBefore: new Date(Date.now() - 400 * DAY),
      notAfter: new Date(Date.now() - 10 * DAY),
    });
    leaves.successor = await leaf('Revoked', 'rev@example.org');
    leaves.fromKeyserver = await leaf('Expired', 'old@example.org');
    await lab.revoke(inter, leaves.revoked);
    const stranger = await lab.root('Stranger Root');
    leaves.unknownIssuer = await lab.leaf('Unknown Issuer', stranger, { email: 'u@example.org' });
    const orphanCa = await lab.intermediate('Orphan CA', root);
    leaves.brokenChain = await lab.leaf('Broken Chain', orphanCa, { email: 'b@example.org' });
    for (const [name, cert] of Object.entries({ root, inter, ...leaves })) {
      await writeFile(join(lab.dir, `${name}.pem`), encodePem('CERTIFICATE', cert.der));
    }
    // A key server: GET ?email=old@example.org answers the valid certificate for that address.
    keyserver = createServer((req, res) => {
      const email = new URL(req.url ?? '/', 'http://x').searchParams.get('email');
      if (email !== 'old@example.org') return res.writeHead(404).end();
      res.writeHead(200).end(encodePem('CERTIFICATE', leaves.fromKeyserver?.der as Uint8Array));
    });
    keyserver.listen(0, '127.0.0.1');
    await new Promise((r) => keyserver.once('listening', r));
    keyserverUrl = `http://127.0.0.1:${(keyserver.address() as AddressInfo).port}/certs`;
  });

  after(async () => {
    await new Promise((r) => keyserver.close(r));
    await server.stop();
    await lab.cleanup();
  });

  /**
   * A PC store (the lab's root and intermediate, plus `pcFiles`) and a phone store
   * (`phoneFiles`) under `name`; the phone serves once on a fresh serial pty pair while
   * `peer check ARGS --json` runs from the PC, with `answers` piped to its standard input.
   */
  async function peerCheckOverSerial(
    name: string,
    pcFiles: readonly string[],
    phoneFiles: readonly string[],
    args: readonly string[],
    answers = '',
  ): Promise<{ pc: string; phone: string; checked: ProcessResult; served: ProcessResult }> {
    const pc = join(lab.dir, `${name}-pc.sqlite`);
    const phone = join(lab.dir, `${name}-phone.sqlite`);
    await runCertsync(['init', '--store', pc], lab.dir);
    await runCertsync(['init', '--store', phone], lab.dir);
    const toPc = ['root.pem', 'inter.pem', ...pcFiles];
    assert.equal((await runCertsync(['import', '--store', pc, ...toPc], lab.dir)).status, 0);
    const toPhone = await runCertsync(['import', '--store', phone, ...phoneFiles], lab.dir);
    assert.equal(toPhone.status, 0, toPhone.stderr);
    const { secret } = await certsyncJson<{ secret: string }>(
      ['id', '--store', pc, '--secret'],
      lab.dir,
    );
    const ptys = await startPtyPair(lab.dir);
    try {
      const serve = await ServeProcess.start(
        ['--store', phone, '--link', 'serial', '--device', ptys.b].concat([
          '--pair',
          'pc',
          '--secret',
          secret,
          '--once',
        ]),
        lab.dir,
      );
      const run = spawnCertsync(
        ['peer', 'check', '--store', pc, '--link', 'serial', '--device', ptys.a].concat([
          '--pair',
          'phone',
          '--secret',
          secret,
          ...args,
          '--json',
        ]),
        lab.dir,
      );
      run.child.stdin?.end(answers);
      const checked = await run.result;
      const served = await serve.exited();
      return { pc, phone, checked, served };
    } finally {
      await ptys.stop();
    }
  }

  const fingerprintsIn = async (store: string): Promise<string[]> =>
    (await certsyncJson<{ fingerprint: string }[]>(['list', '--store', store], lab.dir))
      .map((c) => c.fingerprint)
      .sort();

  it(
    'check: good, revoked (OCSP), expired, unknown issuer and broken chain, with reasons',
    { timeout: 120_000 },
    async () => {
      const store = join(lab.dir, 'own.sqlite');
      await runCertsync(['init', '--store', store], lab.dir);
      const files = ['root', 'inter', 'good', 'revoked', 'expired', 'unknownIssuer', 'brokenChain'];
      const imported = await runCertsync(
        ['import', '--store', store, ...files.map((f) => `${f}.pem`)],
        lab.dir,
      );
      assert.equal(imported.status, 0, imported.stderr);
      const first = await certsyncJson<Checked>(['check', '--store', store], lab.dir);
      assert.equal(first.ran, true);
      const byName = Object.fromEntries(
        first.results.map((r) => [/CN=([^,]+)/.exec(r.subject)?.[1], r]),
      );
      assert.equal(byName.Good?.status, 'valid', byName.Good?.reason);
      assert.equal(byName.Revoked?.status, 'revoked');
      assert.match(byName.Revoked?.reason ?? '', /revoked/);
      assert.equal(byName.Expired?.status, 'expired');
      // An issuer the store does not hold, and a path that stops at a missing intermediate.
      assert.equal(byName['Unknown Issuer']?.status, 'untrusted');
      assert.match(byName['Unknown Issuer']?.reason ?? '', /issuer/i);
      assert.equal(byName['Broken Chain']?.status, 'untrusted');
      assert.equal(byName['Broken Chain']?.code, 'broken-chain');
      assert.ok((server.hits.get('/ocsp') ?? 0) >= 2, 'the responder was asked');
      // The time of the check is recorded: a second run within the interval does nothing.
      const second = await certsyncJson<Checked>(['check', '--store', store], lab.dir);
      assert.equal(second.ran, false);
    },
  );

  it(
    'check: --hard-fail, --soft-fail and the store setting decide a certificate whose revocation is unknown',
    { timeout: 120_000 },
    async () => {
      const store = join(lab.dir, 'policy.sqlite');
      await runCertsync(['init', '--store', store], lab.dir);
      const imported = await runCertsync(
        ['import', '--store', store, 'root.pem', 'inter.pem', 'good.pem'],
        lab.dir,
      );
      assert.equal(imported.status, 0, imported.stderr);
      const good = async (...args: string[]) => {
        const r = await certsyncJson<Checked & { revocation: string }>(
          ['check', '--store', store, '--force', ...args],
          lab.dir,
        );
        const result = r.results.find((x) => x.subject.includes('CN=Good'));
        return { policy: r.revocation, status: result?.status, reason: result?.reason ?? '' };
      };
      // Offline, with no CRL in the store, nothing decides revocation of Good or its CA.
      const soft = await good('--offline');
      assert.equal(soft.policy, 'soft-fail', 'the default');
      assert.equal(soft.status, 'valid', soft.reason);
      const hard = await good('--offline', '--hard-fail');
      assert.equal(hard.policy, 'hard-fail');
      assert.equal(hard.status, 'unknown');
      assert.match(hard.reason, /revocation/i);
      // Online, the OCSP responder and the CRL decide it: valid under hard-fail too.
      assert.equal((await good('--hard-fail')).status, 'valid');

      // The store setting is the default of every later check, until a flag overrides it.
      assert.equal((await good('--offline', '--revocation', 'hard-fail')).status, 'unknown');
      assert.deepEqual(await good('--offline').then((g) => [g.policy, g.status]), [
        'hard-fail',
        'unknown',
      ]);
      assert.equal((await good('--offline', '--soft-fail')).status, 'valid');
      const both = await runCertsync(
        ['check', '--store', store, '--hard-fail', '--soft-fail'],
        lab.dir,
      );
      assert.equal(both.status, 2, both.stderr);
      const wrong = await runCertsync(['check', '--store', store, '--revocation', 'lax'], lab.dir);
      assert.equal(wrong.status, 2, wrong.stderr);
      assert.match(wrong.stderr, /--revocation must be one of soft-fail, hard-fail/);
    },
  );

  it(
    "peer check --hard-fail calls the peer's certificate of undecided revocation unknown",
    { timeout: 120_000 },
    async () => {
      const pc = join(lab.dir, 'pc-policy.sqlite');
      const phone = join(lab.dir, 'phone-policy.sqlite');
      await runCertsync(['init', '--store', pc], lab.dir);
      await runCertsync(['init', '--store', phone], lab.dir);
      await runCertsync(['import', '--store', pc, 'root.pem', 'inter.pem'], lab.dir);
      await runCertsync(['import', '--store', phone, 'good.pem'], lab.dir);
      const { secret } = await certsyncJson<{ secret: string }>(
        ['id', '--store', pc, '--secret'],
        lab.dir,
      );
      const serve = await ServeProcess.start(
        ['--store', phone, '--link', 'tcp', '--port', '0', '--pair', 'pc', '--secret', secret],
        lab.dir,
      );
      try {
        const link = ['--link', 'tcp', '--port', String(serve.port)];
        const peerCheck = (...args: string[]) =>
          certsyncJson<{ revocation: string; results: { status: string }[] }>(
            [
              'peer',
              'check',
              '--store',
              pc,
              ...link,
              '--fix',
              'none',
              '--force',
              '--offline',
              ...args,
            ],
            lab.dir,
          );
        const hard = await peerCheck('--pair', 'phone', '--secret', secret, '--hard-fail');
        assert.equal(hard.revocation, 'hard-fail');
        assert.deepEqual(
          hard.results.map((r) => r.status),
          ['unknown'],
        );
        const soft = await peerCheck();
        assert.equal(soft.revocation, 'soft-fail');
        assert.deepEqual(
          soft.results.map((r) => r.status),
          ['valid'],
        );
      } finally {
        const served = await serve.stop();
        assert.equal(served.status, 0, served.stderr);
      }
    },
  );

  it(
    'verify: the validator alone, with --at and an exit status for a revoked certificate',
    { timeout: 60_000 },
    async () => {
      const args = ['--trust', 'root.pem', '--untrusted', 'inter.pem'];
      const ok = await certsyncJson<{ code: string }>(['verify', 'good.pem', ...args], lab.dir);
      assert.equal(ok.code, 'valid');
      const bad = await runCertsync(['verify', 'revoked.pem', ...args, '--json'], lab.dir);
      assert.equal(bad.status, exitStatusFor('invalid-certificate'));
      assert.equal(JSON.parse(bad.stdout).code, 'revoked');
      const later = await runCertsync(
        [
          'verify',
          'good.pem',
          ...args,
          '--at',
          new Date(Date.now() + 40 * 365 * DAY).toISOString(),
          '--json',
        ],
        lab.dir,
      );
      assert.equal(JSON.parse(later.stdout).code, 'expired', 'not valid after its period');
    },
  );

  it(
    'peer check replaces a revoked certificate from the own store and an expired one from the key server',
    { timeout: 180_000 },
    async () => {
      const pc = join(lab.dir, 'pc.sqlite');
      const phone = join(lab.dir, 'phone.sqlite');
      await runCertsync(['init', '--store', pc], lab.dir);
      await runCertsync(['init', '--store', phone], lab.dir);
      await runCertsync(
        ['import', '--store', pc, 'root.pem', 'inter.pem', 'successor.pem'],
        lab.dir,
      );
      await runCertsync(
        ['import', '--store', phone, 'good.pem', 'revoked.pem', 'expired.pem'],
        lab.dir,
      );
      const { secret } = await certsyncJson<{ secret: string }>(
        ['id', '--store', pc, '--secret'],
        lab.dir,
      );
      const ptys = await startPtyPair(lab.dir);
      const serve = await ServeProcess.start(
        [
          '--store',
          phone,
          '--link',
          'serial',
          '--device',
          ptys.b,
          '--pair',
          'pc',
          '--secret',
          secret,
          '--once',
        ],
        lab.dir,
      );
      const report = await certsyncJson<{
        results: { subject: string; status: string; action?: string }[];
      }>(
        [
          'peer',
          'check',
          '--store',
          pc,
          '--link',
          'serial',
          '--device',
          ptys.a,
          '--pair',
          'phone',
          '--secret',
          secret,
          '--fix',
          'replace',
          '--keyserver',
          keyserverUrl,
        ],
        lab.dir,
      );
      const served = await serve.exited();
      await ptys.stop();
      assert.equal(served.status, 0, served.stderr);
      const actions = Object.fromEntries(report.results.map((r) => [r.status, r.action ?? 'none']));
      assert.equal(actions.valid, 'none');
      assert.match(actions.revoked ?? '', /^replaced by /);
      assert.match(actions.expired ?? '', /^replaced by /);
      const left = await certsyncJson<{ fingerprint: string }[]>(
        ['list', '--store', phone],
        lab.dir,
      );
      const fingerprints = left.map((c) => c.fingerprint);
      assert.ok(fingerprints.includes(fp(leaves.successor as LabCert)));
      assert.ok(fingerprints.includes(fp(leaves.fromKeyserver as LabCert)));
      assert.ok(!fingerprints.includes(fp(leaves.revoked as LabCert)));
      assert.ok(!fingerprints.includes(fp(leaves.expired as LabCert)));
      // The checked side is told what its peer found, and records it beside its own checks.
      assert.match(served.stdout, /checked by pc: 3 certificates, .*1 revoked/);
      assert.match(
        served.stdout,
        new RegExp(`${fp(leaves.revoked as LabCert).slice(0, 16)}  revoked`),
      );
      const { Store } = await import('../../store/index.ts');
      const kept = Store.open(phone);
      try {
        const record = kept.settings.getJson('checked-by-peer:pc') as {
          checked: number;
          counts: Record<string, number>;
          notValid: { id: string; status: string }[];
        };
        assert.equal(record.checked, 3);
        assert.deepEqual(record.counts, { valid: 1, revoked: 1, expired: 1 });
        assert.deepEqual(record.notValid.map((v) => v.status).sort(), ['expired', 'revoked']);
      } finally {
        kept.close();
      }
    },
  );

  it(
    "peer check --fix delete over a serial pty deletes the peer's revoked and expired certificates",
    { timeout: 120_000 },
    async () => {
      const { phone, checked, served } = await peerCheckOverSerial(
        'delete',
        ['successor.pem'],
        ['good.pem', 'revoked.pem', 'expired.pem'],
        ['--fix', 'delete'],
      );
      assert.equal(checked.status, 0, checked.stderr);
      assert.equal(served.status, 0, served.stderr);
      const report = JSON.parse(checked.stdout) as {
        results: { fingerprint: string; status: string; action?: string }[];
      };
      const actions = Object.fromEntries(
        report.results.map((r) => [r.fingerprint, [r.status, r.action ?? 'none']]),
      );
      assert.deepEqual(actions, {
        [fp(leaves.good as LabCert)]: ['valid', 'none'],
        [fp(leaves.revoked as LabCert)]: ['revoked', 'deleted'],
        [fp(leaves.expired as LabCert)]: ['expired', 'deleted'],
      });
      // Deleted, not replaced, although the PC holds a valid successor of the revoked one.
      assert.deepEqual(await fingerprintsIn(phone), [fp(leaves.good as LabCert)]);
      assert.equal(integrityCheck(phone), 'ok');
    },
  );

  it(
    'peer check --fix ask over a serial pty takes piped answers: replace, delete, delete when nothing replaces, keep',
    { timeout: 120_000 },
    async () => {
      // The peer's invalid certificates are asked about in its store order.
      const asked = ['revoked', 'expired', 'unknownIssuer', 'brokenChain'] as const;
      const { phone, checked, served } = await peerCheckOverSerial(
        'ask',
        ['successor.pem'],
        ['good.pem', ...asked.map((name) => `${name}.pem`)],
        ['--fix', 'ask'],
        'r\nx\nd\nk\n',
      );
      assert.equal(checked.status, 0, checked.stderr);
      assert.equal(served.status, 0, served.stderr);
      const questions = [...checked.stderr.matchAll(/^([0-9a-f]{16}) .*\n {2}\[r\]eplace/gm)];
      assert.deepEqual(
        questions.map((q) => q[1]),
        asked.map((name) => fp(leaves[name] as LabCert).slice(0, 16)),
        checked.stderr,
      );
      const report = JSON.parse(checked.stdout) as {
        results: { fingerprint: string; action?: string }[];
      };
      const actions = Object.fromEntries(
        report.results.map((r) => [r.fingerprint, r.action ?? 'none']),
      );
      assert.deepEqual(actions, {
        [fp(leaves.good as LabCert)]: 'none',
        [fp(leaves.revoked as LabCert)]:
          `replaced by ${fp(leaves.successor as LabCert).slice(0, 16)}`,
        [fp(leaves.expired as LabCert)]: 'deleted',
        [fp(leaves.unknownIssuer as LabCert)]: 'deleted (no valid replacement)',
        [fp(leaves.brokenChain as LabCert)]: 'none',
      });
      assert.deepEqual(
        await fingerprintsIn(phone),
        [leaves.good, leaves.successor, leaves.brokenChain].map((c) => fp(c as LabCert)).sort(),
        'the peer store ends as answered',
      );
      assert.equal(integrityCheck(phone), 'ok');
    },
  );
});
