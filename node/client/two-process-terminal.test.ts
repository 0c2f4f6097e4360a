/**
 * The client as a person sees it on a terminal, against a second process on a serial pty
 * pair: a push that lasts more than a moment draws the progress bar (certificates, bytes,
 * rate, time left), and a push into a full store whose policy is alert asks on the
 * terminal which certificate to replace. The terminal is a real pty made by `script`
 * (util-linux); the answer is typed into it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encodePem, parseCertificate, sha256, toHex } from '../pki/index.ts';
import { Store } from '../store/index.ts';
import { CertificateFactory, makeTemplateCertificate } from '../testing/certificate-factory.ts';
import { buildStandardPki, type StandardPki } from '../testing/openssl-pki.ts';
import { makeTempDir } from '../testing/temp-dir.ts';
import {
  CERTSYNC_BIN,
  integrityCheck,
  runCertsync,
  servePairedOnSerial,
} from './test-processes.ts';

const MANY = 600;

let pki: StandardPki;
let temp: { dir: string; remove: () => void };
let many: Uint8Array[];

before(async () => {
  pki = await buildStandardPki();
  temp = makeTempDir('certsync-terminal-');
  const factory = new CertificateFactory((await makeTemplateCertificate(pki.pki)).der);
  many = Array.from({ length: MANY }, (_, i) => factory.make(i));
  for (const name of ['alice', 'root', 'intermediate'] as const) {
    await writeFile(join(temp.dir, `${name}.pem`), pki[name].pem);
  }
  await writeFile(
    join(temp.dir, 'many.pem'),
    many.map((d) => encodePem('CERTIFICATE', d)).join(''),
  );
});

after(async () => {
  await pki.cleanup();
  temp.remove();
});

/**
 * Runs `certsync ARGS` with a pty as its terminal (standard input, output and error),
 * typing `typed` into it once `prompt` appears; resolves with everything the terminal
 * showed and the exit status.
 */
function onTerminal(args: readonly string[], typed?: { prompt: RegExp; text: string }) {
  // The pty `script` makes has no size until told one; a terminal window has one.
  const command = `stty cols 160 rows 40; exec ${[process.execPath, CERTSYNC_BIN, ...args]
    .map((a) => `'${a}'`)
    .join(' ')}`;
  const child = spawn('script', ['--quiet', '--return', '--command', command, '/dev/null'], {
    cwd: temp.dir,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, CERTSYNC_STORE: '' },
  });
  let shown = '';
  let sent = false;
  child.stdout.on('data', (d: Buffer) => {
    shown += d.toString();
    if (typed && !sent && typed.prompt.test(shown)) {
      sent = true;
      // As a person would: a moment after the question shows.
      setTimeout(() => child.stdin.write(typed.text), 300);
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise<{ status: number | null; shown: string }>((resolve) => {
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, shown });
    });
  });
}

test(
  'on a terminal, a long push draws the progress bar, and a full peer under alert asks which certificate to replace',
  { timeout: 300_000 },
  async () => {
    const dir = temp.dir;
    const pc = join(dir, 'pc.sqlite');
    const phone = join(dir, 'phone.sqlite');
    await runCertsync(['init', '--store', pc], dir);
    const init = await runCertsync(
      ['init', '--store', phone, '--capacity', String(MANY + 2), '--policy', 'alert'],
      dir,
    );
    assert.equal(init.status, 0, init.stderr);
    assert.equal(
      (
        await runCertsync(
          ['import', '--store', pc, 'many.pem', 'alice.pem', 'root.pem', 'intermediate.pem'],
          dir,
        )
      ).status,
      0,
    );
    const seeded = Store.open(phone);
    seeded.certificates.add([parseCertificate(pki.bob.der), parseCertificate(pki.dave.der)], {
      source: 'test',
    });
    seeded.close();
    const { link, stop } = await servePairedOnSerial(dir, pc, phone);
    try {
      // 600 certificates take more than a moment: the bar shows while they go.
      const pushed = await onTerminal(['push', ...link, '--subject', 'User', '--unchecked']);
      assert.equal(pushed.status, 0, pushed.shown);
      const bars = pushed.shown.split('\r').filter((l) => /certs/.test(l));
      assert.ok(bars.length >= 2, `the bar was drawn and redrawn:\n${pushed.shown}`);
      assert.match(pushed.shown, new RegExp(`${MANY}/${MANY} certs`), 'the last drawing is whole');
      assert.match(pushed.shown, /\d+(\.\d)? (KB|MB) {2}\d+(\.\d)? (B|KB|MB)\/s/, 'bytes and rate');
      assert.match(pushed.shown, /\d+\/600 certs .*\d+:\d\d left/, 'time left while it runs');

      // The phone is full now: alert asks this terminal, and the typed 2 picks the second.
      const asked = await onTerminal(
        ['push', ...link, '--email', 'alice@example.org', '--offline'],
        {
          prompt: /or a to abort: /,
          text: '2\r',
        },
      );
      assert.equal(asked.status, 0, asked.shown);
      const offered = [...asked.shown.matchAll(/^ +(\d+) {2}([0-9a-f]{16}) /gm)];
      assert.ok(offered.length >= 2, asked.shown);
      const second = offered[1]?.[2] as string;
      assert.match(asked.shown, /updated/, asked.shown);
      const store = Store.open(phone);
      try {
        const held = store.certificates.list('store').map((r) => r.fingerprintHex);
        assert.equal(held.length, MANY + 2, 'capacity holds');
        assert.ok(held.includes(toHex(sha256(pki.alice.der))), 'alice arrived');
        assert.ok(!held.some((h) => h.startsWith(second)), 'the second candidate made room');
      } finally {
        store.close();
      }
    } finally {
      const served = await stop();
      assert.equal(served.status, 0, served.stderr);
    }
    assert.equal(integrityCheck(phone), 'ok');
  },
);
