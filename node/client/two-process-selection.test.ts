/**
 * Two certsync processes on a serial pty pair, one a long-lived `serve`: `peer list` in
 * each of its views and orders with the peer's count and room; `push`, `pull` and
 * `peer delete` choosing by fingerprint, subject, e-mail address and contact name; the
 * modes add, update and replace-all; and a push that does not send a certificate the own
 * check finds invalid.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sha256, toHex } from '../pki/index.ts';
import { Store } from '../store/index.ts';
import {
  buildStandardPki,
  type StandardPki,
  type TestCertificate,
} from '../testing/openssl-pki.ts';
import { makeTempDir } from '../testing/temp-dir.ts';
import {
  certsyncJson,
  integrityCheck,
  runCertsync,
  servePairedOnSerial,
} from './test-processes.ts';

let pki: StandardPki;
let temp: { dir: string; remove: () => void };
let newCarol: TestCertificate;

before(async () => {
  pki = await buildStandardPki();
  temp = makeTempDir('certsync-selection-');
  // A valid certificate for Carol: the one in the standard PKI has expired.
  newCarol = await pki.pki.leaf('Carol Example', pki.intermediate, { email: 'carol@example.org' });
  const files = { ...pki, newCarol };
  for (const name of [
    'alice',
    'bob',
    'carol',
    'dave',
    'root',
    'intermediate',
    'newCarol',
  ] as const) {
    await writeFile(join(temp.dir, `${name}.pem`), files[name].pem);
  }
  await writeFile(
    join(temp.dir, 'people.vcf'),
    [
      'BEGIN:VCARD',
      'VERSION:4.0',
      'FN:Robert Builder',
      'EMAIL:bob@example.org',
      'END:VCARD',
      '',
    ].join('\r\n'),
  );
});

after(async () => {
  await pki.cleanup();
  temp.remove();
});

const fp = (c: TestCertificate): string => toHex(sha256(c.der));

interface Listed {
  peer: { name: string; certificates: number; capacity?: number; free?: number };
  mine: number;
  theirs: number;
  both: number;
  rows: { id: string; mine: boolean; theirs: boolean }[];
}

test(
  'two processes on a serial pty pair: peer list views and orders, push, pull and peer delete by fingerprint, subject, e-mail and contact, in every mode',
  { timeout: 300_000 },
  async () => {
    const dir = temp.dir;
    const pc = join(dir, 'pc.sqlite');
    const phone = join(dir, 'phone.sqlite');
    assert.equal((await runCertsync(['init', '--store', pc], dir)).status, 0);
    const init = await runCertsync(
      ['init', '--store', phone, '--capacity', '10', '--policy', 'lru'],
      dir,
    );
    assert.equal(init.status, 0, init.stderr);
    const imported = await runCertsync(
      ['import', '--store', pc, 'alice.pem', 'bob.pem', 'root.pem', 'intermediate.pem'].concat([
        'carol.pem',
        'newCarol.pem',
      ]),
      dir,
    );
    assert.equal(imported.status, 0, imported.stderr);
    assert.equal(
      (await runCertsync(['contacts', 'import', '--store', pc, 'people.vcf'], dir)).status,
      0,
    );
    assert.equal(
      (await runCertsync(['import', '--store', phone, 'dave.pem', 'carol.pem'], dir)).status,
      0,
    );
    const { link, stop } = await servePairedOnSerial(dir, pc, phone);
    try {
      // Side by side, with the peer's count and room.
      const all = await certsyncJson<Listed>(['peer', 'list', ...link, '--peer', 'phone'], dir);
      assert.deepEqual([all.mine, all.theirs, all.both], [6, 2, 1]);
      assert.deepEqual([all.peer.certificates, all.peer.capacity, all.peer.free], [2, 10, 8]);
      assert.equal(all.rows.length, 7, 'each certificate once');
      const onlyMine = await certsyncJson<Listed>(
        ['peer', 'list', ...link, '--show', 'only-mine', '--order', 'subject'],
        dir,
      );
      const subjectOrder = (
        await certsyncJson<{ fingerprint: string }[]>(
          ['list', '--store', pc, '--order', 'subject'],
          dir,
        )
      )
        .map((r) => r.fingerprint)
        .filter((f) => f !== fp(pki.carol));
      assert.deepEqual(
        onlyMine.rows.map((r) => r.id),
        subjectOrder,
        'only mine, in subject order',
      );
      const onlyTheirs = await certsyncJson<Listed>(
        ['peer', 'list', ...link, '--show', 'only-theirs'],
        dir,
      );
      assert.deepEqual(
        onlyTheirs.rows.map((r) => r.id),
        [fp(pki.dave)],
      );
      const text = await runCertsync(['peer', 'list', ...link, '--show', 'theirs'], dir);
      assert.match(text.stdout, /phone: 2 certificates, 0 CRLs, 8 free of 10/);

      // Choosing by fingerprint (a prefix), by contact name, by subject, by e-mail.
      const byFingerprint = await certsyncJson<{ counts: Record<string, number> }>(
        ['push', ...link, fp(pki.alice).slice(0, 12), '--offline'],
        dir,
      );
      assert.deepEqual(byFingerprint.counts, { stored: 1 });
      const byContact = await certsyncJson<{ counts: Record<string, number> }>(
        ['push', ...link, '--contact', 'Robert Builder', '--offline'],
        dir,
      );
      assert.deepEqual(byContact.counts, { stored: 1 });
      const pulled = await certsyncJson<{ counts: Record<string, number> }>(
        ['pull', ...link, '--subject', 'Dave'],
        dir,
      );
      assert.deepEqual(pulled.counts, { stored: 1 });

      // The own check withholds the expired Carol; update puts the valid one in its place.
      const expired = await runCertsync(
        ['push', ...link, '--fingerprint', fp(pki.carol), '--offline', '--json'],
        dir,
      );
      const withheld = JSON.parse(expired.stdout) as { withheld: number; counts: object };
      assert.equal(withheld.withheld, 1, 'an expired certificate is not sent');
      assert.deepEqual(withheld.counts, {}, 'nothing went over');
      const updated = await certsyncJson<{
        results: { id: string; outcome: string; replaced?: string }[];
      }>(['push', ...link, '--fingerprint', fp(newCarol), '--mode', 'update', '--offline'], dir);
      assert.deepEqual(
        updated.results.map((r) => [r.id, r.outcome, r.replaced]),
        [[fp(newCarol), 'updated', fp(pki.carol)]],
        'update replaces the expired certificate of the same subject',
      );

      // replace-all: the phone keeps exactly what was sent; nothing only it held is lost.
      const replaced = await certsyncJson<{ removed: number }>(
        ['push', ...link, '--email', 'alice@example.org', '--email', 'bob@example.org'].concat([
          '--mode',
          'replace-all',
          '--offline',
        ]),
        dir,
      );
      assert.equal(replaced.removed, 2, 'Dave and the new Carol left the phone');
      const deleted = await certsyncJson<{ outcome: string }[]>(
        ['peer', 'delete', ...link, '--email', 'bob@example.org'],
        dir,
      );
      assert.deepEqual(
        deleted.map((d) => d.outcome),
        ['deleted'],
      );
    } finally {
      const served = await stop();
      assert.equal(served.status, 0, served.stderr);
    }
    assert.equal(integrityCheck(phone), 'ok');
    const store = Store.open(phone);
    try {
      assert.deepEqual(
        store.certificates.list('store').map((r) => r.fingerprintHex),
        [fp(pki.alice)],
      );
    } finally {
      store.close();
    }
    const own = Store.open(pc);
    try {
      assert.ok(own.certificates.has(sha256(pki.dave.der)), 'Dave came to the PC');
      assert.ok(own.certificates.has(sha256(newCarol.der)), 'the PC keeps its certificates');
    } finally {
      own.close();
    }
  },
);
