import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isCertsyncError } from '../../protocol/errors.ts';
import { ASN1_TRAP_MESSAGE, ASN1_TRAPS } from '../testing/asn1-traps.ts';
import { buildStandardPki, type StandardPki } from '../testing/openssl-pki.ts';
import { makeTempDir } from '../testing/temp-dir.ts';
import { OverflowAlert, Store } from '../store/index.ts';
import { encodePem, MAX_PEM_BLOCKS } from '../pki/index.ts';
import { exportItems, importFiles, readCertificateFile, type ExportFormat } from './index.ts';

let pki: StandardPki;
let tmp: ReturnType<typeof makeTempDir>;
let n = 0;

function file(name: string, content: string | Uint8Array): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, content);
  return path;
}

function freshStore(options: Parameters<typeof Store.open>[1] = {}): Store {
  return Store.open(join(tmp.dir, `s${++n}.sqlite`), { create: true, ...options });
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

before(async () => {
  pki = await buildStandardPki();
  tmp = makeTempDir();
});

after(async () => {
  tmp.remove();
  await pki.cleanup();
});

describe('importFiles', () => {
  it('imports PEM, DER, PKCS#7 (DER, PEM, bare base64), CRLs and signed mail; re-import is a no-op', async () => {
    const store = freshStore();
    const chainP7 = await pki.pki.pkcs7([pki.intermediate], { crls: [pki.crl] });
    const pemP7 = await pki.pki.pkcs7([pki.root], { pem: true });
    const bareP7 = file(
      'bare.p7c',
      Buffer.from(chainP7.bytes).toString('base64').replace(/.{76}/g, '$&\n'),
    );
    const paths = [
      file('two.pem', pki.alice.pem + pki.bob.pem),
      file('carol.der', pki.carol.der),
      chainP7.path,
      pemP7.path,
      bareP7,
      pki.signedMail.path,
      pki.opaqueMail.path,
      pki.crl.path,
    ];
    const report = await importFiles(store, paths);
    assert.equal(report.imported, true);
    assert.deepEqual(report.problems, []);
    assert.deepEqual(
      report.files.map((f) => [f.format, f.certificates, f.crls]),
      [
        ['pem', 2, 0],
        ['der', 1, 0],
        ['pkcs7', 1, 1],
        ['pem', 1, 0],
        ['pkcs7', 1, 1],
        ['mail', 2, 0],
        ['mail', 2, 0],
        ['der', 0, 1],
      ],
    );
    assert.equal(report.added.length, 5, 'alice, bob, carol, intermediate, root');
    assert.equal(report.crlsAdded.length, 1);
    const fromMail = store.certificates.get(report.added[0]?.fingerprint ?? new Uint8Array());
    assert.equal(fromMail?.source, `file:${resolve(paths[0] ?? '')}`);
    const again = await importFiles(store, paths);
    assert.equal(again.added.length, 0);
    assert.equal(again.present.length, 5);
    assert.equal(store.certificates.list().length, 5);
    store.close();
  });

  it('takes the certificates of signed mail with a mail: source, as a mail client on receipt', async () => {
    const store = freshStore();
    const report = await importFiles(store, [pki.signedMail.path]);
    assert.deepEqual(
      new Set(report.added.map((r) => r.commonName)),
      new Set(['Alice Example', 'certsync Test Intermediate']),
    );
    assert.ok(report.added.every((r) => r.source === `mail:${resolve(pki.signedMail.path)}`));
    store.close();
  });

  it('exports PEM, DER and PKCS#7 that re-import with byte-identical DER', async () => {
    const source = freshStore();
    await importFiles(source, [
      file(
        'all.pem',
        pki.root.pem + pki.intermediate.pem + pki.alice.pem + pki.bob.pem + pki.carol.pem,
      ),
    ]);
    const ders = source.certificates
      .list()
      .map((r) => source.certificates.der(r.fingerprint) as Uint8Array);
    const crl = pki.crl.bytes;
    for (const format of ['pem', 'p7b', 'p7b-pem'] as ExportFormat[]) {
      const path = file(`export.${format}`, exportItems(format, ders, [crl]));
      const target = freshStore();
      const report = await importFiles(target, [path]);
      assert.equal(report.added.length, ders.length, format);
      const back = target.certificates
        .list()
        .map((r) => hex(target.certificates.der(r.fingerprint) as Uint8Array));
      assert.deepEqual(back, ders.map(hex), `${format}: same bytes, same order`);
      assert.deepEqual(target.crls.der(report.crlsAdded[0]?.fingerprint ?? new Uint8Array()), crl);
      target.close();
    }
    const one = file('one.der', exportItems('der', [ders[2] as Uint8Array]));
    assert.deepEqual(new Uint8Array(readFileSync(one)), ders[2]);
    assert.throws(
      () => exportItems('der', ders),
      (e) => isCertsyncError(e) && e.code === 'bad-input',
    );
    source.close();
  });

  it('imports nothing from a PEM file with a broken block among good ones, naming the block', async () => {
    const store = freshStore();
    const broken = pki.bob.pem.replace(/\n[A-Za-z0-9+/]{64}\n/, '\n' + '!'.repeat(64) + '\n');
    const path = file('mixed.pem', pki.alice.pem + broken + pki.carol.pem);
    const report = await importFiles(store, [path]);
    assert.equal(report.imported, false);
    assert.equal(report.problems.length, 1);
    const line = pki.alice.pem.split('\n').length;
    assert.equal(report.problems[0]?.item, `${path} block 2 (line ${line})`);
    assert.equal(report.problems[0]?.code, 'bad-certificate');
    assert.match(report.problems[0]?.message ?? '', /block 2 .*not valid base64/);
    assert.deepEqual(store.certificates.list(), [], 'the good blocks are not imported either');
    assert.equal(store.sync.counter(), 0);
    store.close();
  });

  it('reports every bad file and imports none of a command with one bad file among good', async () => {
    const store = freshStore();
    const cut = pki.alice.der.subarray(0, 200);
    const cases: [string, string | Uint8Array, string][] = [
      ['garbage.bin', new Uint8Array([0xde, 0xad, 0xbe, 0xef, 1, 2, 3]), 'bad-input'],
      ['truncated.der', cut, 'bad-certificate'],
      [
        'plain.eml',
        'From: a@example.org\nSubject: hi\nContent-Type: text/plain\n\nhello\n',
        'bad-mail',
      ],
      ['empty.pem', '', 'bad-input'],
      ['key.pem', readFileSync(pki.alice.keyPath), 'bad-input'],
      ['cut.pem', pki.alice.pem.slice(0, 300), 'bad-certificate'],
    ];
    const paths = [
      file('good.pem', pki.bob.pem),
      ...cases.map(([name, content]) => file(name, content)),
    ];
    paths.push(join(tmp.dir, 'missing.pem'));
    const report = await importFiles(store, paths);
    assert.equal(report.imported, false);
    assert.deepEqual(
      report.problems.map((p) => p.code),
      [...cases.map(([, , code]) => code), 'bad-input'],
    );
    for (const p of report.problems) assert.ok(p.message.startsWith(tmp.dir), p.message);
    assert.match(report.problems.at(-1)?.message ?? '', /missing\.pem: no such file/);
    assert.deepEqual(store.certificates.list(), []);
    store.close();
  });

  it('under policy alert, raises the alert and stores nothing; with a chosen victim it fits', async () => {
    const store = freshStore({ capacity: 2, policy: 'alert' });
    await importFiles(store, [file('ab.pem', pki.alice.pem + pki.bob.pem)]);
    const carol = file('carol.pem', pki.carol.pem);
    await assert.rejects(
      importFiles(store, [carol]),
      (e) => e instanceof OverflowAlert && e.needed === 1 && e.candidates.length === 2,
    );
    assert.equal(store.certificates.list().length, 2);
    const victim = store.capacity.wouldEvict(1).victims[0];
    assert.equal(victim?.commonName, 'Alice Example', 'least recently used first');
    const report = await importFiles(store, [carol], {
      victims: [victim?.fingerprint ?? new Uint8Array()],
    });
    assert.deepEqual(
      report.evicted.map((r) => r.commonName),
      ['Alice Example'],
    );
    assert.deepEqual(
      store.certificates.list().map((r) => r.commonName),
      ['Bob Example', 'Carol Example'],
    );
    store.close();
  });
});

describe('readCertificateFile', () => {
  it('refuses a file of more PEM blocks than the limit as a problem of the file', () => {
    const block = '-----BEGIN A-----\n-----END A-----\n';
    const text = block.repeat(MAX_PEM_BLOCKS + 1);
    const contents = readCertificateFile(new Uint8Array(Buffer.from(text)), 'many.pem');
    assert.deepEqual(contents.problems, [
      {
        item: 'many.pem',
        code: 'bad-input',
        message: `many.pem: more than ${MAX_PEM_BLOCKS} PEM blocks`,
      },
    ]);
  });

  it('reports values asn1js throws on as problems of the file or block, never throwing', () => {
    for (const trap of ASN1_TRAPS) {
      const pem = pki.alice.pem + encodePem('CERTIFICATE', trap.der);
      const line = pki.alice.pem.split('\n').length;
      // Repeated so that the text is long enough to be taken for a bare base64 bundle.
      const base64 = Buffer.from([...trap.der, ...trap.der, ...trap.der, 0x30]).toString('base64');
      const cases: [string, Uint8Array, string][] = [
        ['trap.der', trap.der, 'trap.der'],
        ['trap.pem', new Uint8Array(Buffer.from(pem)), `trap.pem block 2 (line ${line})`],
        ['trap.p7c', new Uint8Array(Buffer.from(base64)), 'trap.p7c'],
      ];
      for (const [name, content, item] of cases) {
        const contents = readCertificateFile(content, name);
        assert.deepEqual(
          contents.problems.map((p) => [p.code, p.item]),
          [['bad-certificate', item]],
          `${trap.name} in ${name}`,
        );
        assert.ok(contents.problems[0]?.message.includes(ASN1_TRAP_MESSAGE), name);
      }
    }
  });

  it('skips private keys in a PEM file that also holds a certificate', () => {
    const text = readFileSync(pki.alice.keyPath, 'latin1') + pki.alice.pem;
    const contents = readCertificateFile(new Uint8Array(Buffer.from(text, 'latin1')), 'both.pem');
    assert.equal(contents.certificates.length, 1);
    assert.deepEqual(contents.skipped, ['both.pem block 1 (line 1): PRIVATE KEY']);
    assert.deepEqual(contents.problems, []);
  });
});
