/**
 * Two certsync processes on a serial pty pair, one a long-lived `serve`: `pull` in the modes
 * update and replace-all. An update puts the pulled certificate in the place of this store's
 * expired one for the same address and deletes that one (a tombstone, no offer, and a later
 * sync does not bring it back); a replace-all leaves this store with exactly what was pulled
 * and purges the rest without tombstones, so that a later `sync` deletes none of the peer's
 * copies.
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
  temp = makeTempDir('certsync-pull-modes-');
  // A valid certificate for Carol's address under another name: the standard one has expired.
  newCarol = await pki.pki.leaf('Carol Smith', pki.intermediate, { email: 'carol@example.org' });
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
});

after(async () => {
  await pki.cleanup();
  temp.remove();
});

const fp = (c: TestCertificate): string => toHex(sha256(c.der));

interface Transfer {
  counts: Record<string, number>;
  results: { id: string; outcome: string; replaced?: string }[];
  removed: number;
}

/** What a store holds, sorted, and what it holds tombstones for. */
function contents(path: string): { live: string[]; tombstones: string[] } {
  const store = Store.open(path);
  try {
    const entries = store.sync.entries().filter((e) => e.kind === 'cert');
    return {
      live: store.certificates
        .list('store')
        .map((r) => r.fingerprintHex)
        .sort(),
      tombstones: entries
        .filter((e) => e.deleted)
        .map((e) => toHex(e.fingerprint))
        .sort(),
    };
  } finally {
    store.close();
  }
}

const sorted = (...certs: TestCertificate[]): string[] => certs.map(fp).sort();

test(
  "two processes on a serial pty pair: pull --mode update replaces the expired certificate with a tombstone, pull --mode replace-all purges and a later sync deletes none of the peer's copies",
  { timeout: 180_000 },
  async () => {
    const dir = temp.dir;
    const pc = join(dir, 'pc.sqlite');
    const phone = join(dir, 'phone.sqlite');
    assert.equal((await runCertsync(['init', '--store', pc], dir)).status, 0);
    assert.equal((await runCertsync(['init', '--store', phone], dir)).status, 0);
    const toPc = ['alice.pem', 'carol.pem', 'root.pem', 'intermediate.pem'];
    const imported = await runCertsync(['import', '--store', pc, ...toPc], dir);
    assert.equal(imported.status, 0, imported.stderr);
    const toPhone = ['bob.pem', 'dave.pem', 'newCarol.pem', 'root.pem', 'intermediate.pem'];
    const onPhone = await runCertsync(['import', '--store', phone, ...toPhone], dir);
    assert.equal(onPhone.status, 0, onPhone.stderr);
    const { link, stop } = await servePairedOnSerial(dir, pc, phone);
    try {
      // update: the phone's valid Carol takes the place of the PC's expired one.
      const updated = await certsyncJson<Transfer>(
        ['pull', ...link, '--fingerprint', fp(newCarol), '--mode', 'update'],
        dir,
      );
      assert.deepEqual(
        updated.results.map((r) => [r.id, r.outcome, r.replaced]),
        [[fp(newCarol), 'updated', fp(pki.carol)]],
        'update replaces the expired certificate of the same address',
      );
      const afterUpdate = contents(pc);
      assert.deepEqual(afterUpdate.live, sorted(pki.alice, newCarol, pki.root, pki.intermediate));
      assert.deepEqual(afterUpdate.tombstones, [fp(pki.carol)], 'a tombstone for the replaced');
      assert.ok(
        !contents(phone).live.includes(fp(pki.carol)),
        'a replacement the user asked for is a deletion: the old one is not offered',
      );

      // replace-all: the PC keeps exactly what was pulled, and no tombstone for the rest.
      const replaced = await certsyncJson<Transfer>(
        ['pull', ...link, '--email', 'bob@example.org', '--email', 'dave@example.org'].concat([
          '--mode',
          'replace-all',
        ]),
        dir,
      );
      assert.deepEqual(replaced.counts, { stored: 2 });
      const afterReplace = contents(pc);
      assert.deepEqual(afterReplace.live, sorted(pki.bob, pki.dave));
      assert.deepEqual(afterReplace.tombstones, [fp(pki.carol)], 'the purge left no tombstones');
      assert.equal(replaced.removed, 4, 'Alice, the new Carol and the two CAs');
      assert.ok(contents(phone).live.includes(fp(pki.alice)), 'the last copy of Alice went over');

      // A later sync deletes none of the phone's copies of what the PC purged: it brings
      // them back to the PC instead.
      const synced = await certsyncJson<{ received: number }>(
        ['sync', ...link, '--peer', 'phone'],
        dir,
      );
      assert.ok(synced.received >= 4, `received ${synced.received}`);
      const purged = [pki.alice, newCarol, pki.root, pki.intermediate];
      const pcAfter = contents(pc);
      for (const back of purged) assert.ok(pcAfter.live.includes(fp(back)), 'back on the PC');
      const phoneAfter = contents(phone);
      for (const kept of [...purged, pki.bob, pki.dave]) {
        assert.ok(phoneAfter.live.includes(fp(kept)), 'the phone keeps its copy');
      }
      // The update's deletion stands on both sides: the replaced certificate does not return.
      assert.ok(!pcAfter.live.includes(fp(pki.carol)), 'the replaced Carol stays deleted');
      assert.ok(!phoneAfter.live.includes(fp(pki.carol)));
    } finally {
      const served = await stop();
      assert.equal(served.status, 0, served.stderr);
    }
    assert.equal(integrityCheck(pc), 'ok');
    assert.equal(integrityCheck(phone), 'ok');
  },
);
