/**
 * A revocation server for tests, listening on 127.0.0.1 only: it answers OCSP POSTs with
 * `openssl ocsp` (one openssl process per request, reading the CA's real database, so the
 * answers, signatures and nonces are openssl's own), serves CRLs by path, and has two
 * hostile routes: `/stall` never answers and `/huge` sends more bytes than any cap.
 *
 * openssl's built-in responder (`openssl ocsp -port`) is not used because it binds every
 * interface; each openssl process here is bounded by a timeout and killed by its PID when
 * the server stops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChainLab, LabCert } from './chain-lab.ts';

/** A running server. */
export interface RevocationServer {
  /** `http://127.0.0.1:PORT`. */
  readonly base: string;
  /** Requests served so far, by path. */
  readonly hits: Map<string, number>;
  /** Makes `/ocsp` answer for certificates of `issuer`, signed by `signer` (default issuer). */
  answerFor(issuer: LabCert, signer?: LabCert): void;
  /** Publishes `bytes` at `path` (e.g. `/inter.crl`). */
  publish(path: string, bytes: Uint8Array): void;
  /** Closes the server, ends stalled requests and kills any openssl still running. */
  stop(): Promise<void>;
}

const MAX_REQUEST = 64 << 10;

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST) resolve(null);
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(null));
  });
}

/** Starts a server; `/ocsp` answers once {@link RevocationServer.answerFor} named a CA. */
export async function startRevocationServer(lab: ChainLab): Promise<RevocationServer> {
  const files = new Map<string, Uint8Array>();
  const hits = new Map<string, number>();
  const children = new Set<ChildProcess>();
  const stalled = new Set<ServerResponse>();
  let responder: { issuer: LabCert; signer: LabCert; db: string } | undefined;

  const answerOcsp = async (body: Buffer, res: ServerResponse): Promise<void> => {
    if (!responder) {
      res.writeHead(503).end();
      return;
    }
    const { issuer, signer, db } = responder;
    const reqPath = lab.path('served.req');
    const respPath = lab.path('served.resp');
    await writeFile(reqPath, body);
    const args = ['ocsp', '-index', db, '-CA', issuer.certPath, '-rsigner', signer.certPath];
    args.push('-rkey', signer.keyPath, '-reqin', reqPath, '-respout', respPath, '-ndays', '1');
    const child = spawn('openssl', args, { cwd: lab.dir, stdio: 'ignore', timeout: 30_000 });
    children.add(child);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    children.delete(child);
    if (code !== 0) {
      res.writeHead(500).end();
      return;
    }
    const bytes = await readFile(respPath);
    res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(bytes);
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path === '/stall') {
      stalled.add(res);
      res.writeHead(200, { 'content-type': 'application/pkix-crl' });
      res.write(Buffer.from([0x30]));
      return;
    }
    if (path === '/huge') {
      res.writeHead(200).end(Buffer.alloc(32 << 20, 0x30));
      return;
    }
    if (req.method === 'POST' && path === '/ocsp') {
      void readBody(req).then((body) =>
        body ? answerOcsp(body, res) : void res.writeHead(413).end(),
      );
      return;
    }
    const file = files.get(path);
    if (file) res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(file);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    base: `http://127.0.0.1:${port}`,
    hits,
    answerFor: (issuer, signer) => {
      const db = issuer.config?.replace(/ca\.cnf$/, 'index.txt');
      if (!db) throw new Error(`${issuer.name} is not a CA`);
      responder = { issuer, signer: signer ?? issuer, db };
    },
    publish: (path, bytes) => void files.set(path, bytes),
    stop: async () => {
      for (const child of children) if (child.pid) process.kill(child.pid);
      for (const res of stalled) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
