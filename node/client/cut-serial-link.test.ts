/**
 * A sync between two certsync processes on a real serial line (two kernel ptys), with the
 * cable pulled at many points: both stores stay whole, and a rerun completes with nothing
 * lost. The cable is two socat processes, each joining one pty to a TCP connection on
 * 127.0.0.1, and this test in between, counting the bytes it passes on; at the cut it
 * drops both connections, socat closes its ptys, and each process sees its line end.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseCertificate, sha256, toHex } from '../pki/index.ts';
import { Store } from '../store/index.ts';
import { CertificateFactory, makeTemplateCertificate } from '../testing/certificate-factory.ts';
import { OpensslPki } from '../testing/openssl-pki.ts';
import { makeTempDir } from '../testing/temp-dir.ts';
import { certsyncJson, integrityCheck, runCertsync, ServeProcess } from './test-processes.ts';

let temp: { dir: string; remove: () => void };
let certs: Uint8Array[];

before(async () => {
  temp = makeTempDir('certsync-cut-serial-');
  const pki = await OpensslPki.create();
  try {
    const factory = new CertificateFactory((await makeTemplateCertificate(pki)).der);
    certs = Array.from({ length: 80 }, (_, i) => factory.make(i));
  } finally {
    await pki.cleanup();
  }
});

after(() => temp.remove());

/** A null-modem cable of two ptys that this process can cut after a number of bytes. */
class Cable {
  readonly a: string;
  readonly b: string;
  /** Bytes passed on so far, both ways together. */
  bytes = 0;
  private readonly server: Server;
  private readonly socats: ChildProcess[] = [];
  private readonly sockets: Socket[] = [];
  private cutAt: number;

  private constructor(dir: string, name: string, server: Server, cutAt: number) {
    this.a = join(dir, `${name}-a`);
    this.b = join(dir, `${name}-b`);
    this.server = server;
    this.cutAt = cutAt;
  }

  /** Lays a cable whose ptys are `<name>-a` and `<name>-b`; cut after `cutAt` bytes. */
  static async lay(dir: string, name: string, cutAt = Infinity): Promise<Cable> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const cable = new Cable(dir, name, server, cutAt);
    const port = (server.address() as { port: number }).port;
    const ends: Socket[] = [];
    const joined = new Promise<void>((resolve) => {
      server.on('connection', (s) => {
        ends.push(s);
        cable.sockets.push(s);
        if (ends.length === 2) resolve();
      });
    });
    for (const path of [cable.a, cable.b]) {
      const socat = spawn('socat', [`PTY,link=${path},raw,echo=0`, `TCP:127.0.0.1:${port}`], {
        stdio: 'ignore',
      });
      cable.socats.push(socat);
      // One end after the other, so that the order of connections is the order of ends.
      const started = Date.now();
      while (!existsSync(path) || ends.length < cable.socats.length) {
        if (Date.now() - started > 10_000) throw new Error('socat did not make its pty');
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    await joined;
    const [x, y] = ends as [Socket, Socket];
    const pass = (from: Socket, to: Socket) =>
      from.on('data', (chunk: Buffer) => {
        if (cable.bytes >= cable.cutAt) return;
        const room = cable.cutAt - cable.bytes;
        const part = room < chunk.length ? chunk.subarray(0, room) : chunk;
        cable.bytes += part.length;
        to.write(part);
        if (cable.bytes >= cable.cutAt) cable.cut();
      });
    pass(x, y);
    pass(y, x);
    return cable;
  }

  /** Pulls the cable: both connections drop, socat closes the ptys. */
  cut(): void {
    this.cutAt = this.bytes;
    for (const s of this.sockets) s.destroy();
  }

  /** Takes the cable away: socat ends by its PID, the listener closes. */
  async remove(): Promise<void> {
    this.cut();
    for (const s of this.socats) {
      if (s.exitCode !== null || s.signalCode !== null) continue;
      const gone = new Promise((r) => s.once('close', r));
      s.kill('SIGTERM');
      await gone;
    }
    await new Promise((r) => this.server.close(r));
  }
}

/** Two stores: the PC holds 0..49, the phone 30..79; each deleted one of its own. */
function makeStores(name: string): { pc: string; phone: string } {
  const pc = join(temp.dir, `${name}-pc.sqlite`);
  const phone = join(temp.dir, `${name}-phone.sqlite`);
  for (const [path, from, to] of [
    [pc, 0, 50],
    [phone, 30, 80],
  ] as const) {
    const s = Store.open(path, { create: true });
    s.certificates.add(
      certs.slice(from, to).map((d) => parseCertificate(d)),
      { source: 'test' },
    );
    s.certificates.delete([sha256(certs[from] as Uint8Array)]);
    s.close();
  }
  return { pc, phone };
}

/** What a store holds: live certificates and tombstones, by fingerprint. */
function contents(path: string): { live: string[]; deleted: string[] } {
  const s = Store.open(path);
  try {
    const entries = s.sync.entries();
    const hex = (deleted: boolean) =>
      entries
        .filter((e) => e.deleted === deleted)
        .map((e) => toHex(e.fingerprint))
        .sort();
    return { live: hex(false), deleted: hex(true) };
  } finally {
    s.close();
  }
}

/** After any failure: the file is whole and every certificate's DER hashes to its key. */
function assertWhole(path: string): void {
  assert.equal(integrityCheck(path), 'ok', path);
  const s = Store.open(path);
  try {
    for (const r of s.certificates.list('store')) {
      const der = s.certificates.der(r.fingerprint) as Uint8Array;
      assert.equal(toHex(sha256(der)), r.fingerprintHex, `${path}: a whole certificate`);
    }
  } finally {
    s.close();
  }
}

/** One `serve --once` on the phone's end and one `sync` on the PC's, over `cable`. */
async function syncOver(cable: Cable, stores: { pc: string; phone: string }, extra: string[]) {
  const serve = await ServeProcess.start(
    ['--store', stores.phone, '--link', 'serial', '--device', cable.b, '--once', ...extra],
    temp.dir,
  );
  const synced = await runCertsync(
    ['sync', '--store', stores.pc, '--link', 'serial', '--device', cable.a, '--json', ...extra],
    temp.dir,
    120_000,
  );
  const served = await serve.exited();
  return { synced, served };
}

test(
  'a sync between two processes on a serial pty line, cut at many points: both stores stay whole and a rerun completes',
  { timeout: 420_000 },
  async () => {
    // Pair once; each run then starts from copies of the paired stores.
    const paired = makeStores('paired');
    const { secret } = await certsyncJson<{ secret: string }>(
      ['id', '--store', paired.pc, '--secret'],
      temp.dir,
    );
    {
      const cable = await Cable.lay(temp.dir, 'pair');
      try {
        const serve = await ServeProcess.start(
          ['--store', paired.phone, '--link', 'serial', '--device', cable.b, '--once'].concat([
            '--pair',
            'pc',
            '--secret',
            secret,
          ]),
          temp.dir,
        );
        const connected = await runCertsync(
          ['connect', '--store', paired.pc, '--link', 'serial', '--device', cable.a].concat([
            '--pair',
            'phone',
            '--secret',
            secret,
            '--auto',
            'off',
          ]),
          temp.dir,
        );
        assert.equal(connected.status, 0, connected.stderr);
        assert.equal((await serve.exited()).status, 0);
      } finally {
        await cable.remove();
      }
    }
    const copy = (name: string) => {
      const to = {
        pc: join(temp.dir, `${name}-pc.sqlite`),
        phone: join(temp.dir, `${name}-phone.sqlite`),
      };
      copyFileSync(paired.pc, to.pc);
      copyFileSync(paired.phone, to.phone);
      return to;
    };

    // The reference: a sync over a cable that is never cut, and how many bytes it took.
    const ref = copy('ref');
    const refCable = await Cable.lay(temp.dir, 'ref');
    let total: number;
    try {
      const { synced, served } = await syncOver(refCable, ref, []);
      assert.equal(synced.status, 0, synced.stderr);
      assert.equal(served.status, 0, served.stderr);
      total = refCable.bytes;
    } finally {
      await refCable.remove();
    }
    const expected = contents(ref.pc);
    assert.deepEqual(contents(ref.phone), expected, 'synced stores hold the same');
    assert.equal(expected.live.length, 78, 'the union less the two deletions');
    assert.ok(total > 20_000, `the sync moved ${total} bytes`);

    const cuts = 4;
    for (let k = 1; k <= cuts; k++) {
      // A serial sync's length varies with its retransmissions: when this run needed fewer
      // bytes than the reference and ended before its cut, the cut moves inside this run.
      let cutAt = Math.floor((total * k) / (cuts + 1));
      let run = copy(`cut${k}`);
      for (let attempt = 1; ; attempt++) {
        const cable = await Cable.lay(temp.dir, `cut${k}-${attempt}`, cutAt);
        let status: number | null;
        try {
          status = (await syncOver(cable, run, [])).synced.status;
        } finally {
          await cable.remove();
        }
        if (status === 0 && cable.bytes < cutAt && attempt < 3) {
          cutAt = Math.floor((cable.bytes * k) / (cuts + 1));
          run = copy(`cut${k}`);
          continue;
        }
        assert.notEqual(status, 0, `the cut at byte ${cutAt} (of ${cable.bytes}) ended the sync`);
        break;
      }
      assertWhole(run.pc);
      assertWhole(run.phone);

      const again = await Cable.lay(temp.dir, `again${k}`);
      try {
        const { synced, served } = await syncOver(again, run, []);
        assert.equal(synced.status, 0, `rerun after a cut at byte ${cutAt}: ${synced.stderr}`);
        assert.equal(served.status, 0, served.stderr);
      } finally {
        await again.remove();
      }
      assert.deepEqual(contents(run.pc), expected, `nothing lost after a cut at byte ${cutAt}`);
      assert.deepEqual(contents(run.phone), expected);
    }
  },
);
