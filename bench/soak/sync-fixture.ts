/**
 * Two SQLite stores to sync, and the checks run on them after a cut or a kill.
 *
 * Store A holds certificates 0..n*2/3, store B n/3..n; each deleted the first of its own.
 * After a complete sync both hold the union less the two deletions, and two tombstones.
 * The checks: SQLite's integrity check; every stored DER hashes to its fingerprint; no
 * fingerprint both live and deleted; the count within capacity; and, between two stores
 * that should agree, equal contents and equal store digests (each built from the file).
 */
import { join } from 'node:path';
import { SessionStore } from '../../node/client/session-store.ts';
import { integrityCheck } from '../../node/client/test-processes.ts';
import { parseCertificate, sha256, toHex } from '../../node/pki/index.ts';
import { Store } from '../../node/store/index.ts';
import {
  CertificateFactory,
  makeTemplateCertificate,
} from '../../node/testing/certificate-factory.ts';
import { OpensslPki } from '../../node/testing/openssl-pki.ts';

/** `count` distinct realistic certificates (about 1 kB each). */
export async function makeCertificates(count: number): Promise<Uint8Array[]> {
  const pki = await OpensslPki.create();
  try {
    const factory = new CertificateFactory((await makeTemplateCertificate(pki)).der);
    return Array.from({ length: count }, (_, i) => factory.make(i));
  } finally {
    await pki.cleanup();
  }
}

/** Writes the two stores of one run under `dir`; returns their paths. */
export function makeStores(dir: string, name: string, certs: readonly Uint8Array[]) {
  const a = join(dir, `${name}-a.sqlite`);
  const b = join(dir, `${name}-b.sqlite`);
  const n = certs.length;
  for (const [path, from, to] of [
    [a, 0, Math.round((2 * n) / 3)],
    [b, Math.round(n / 3), n],
  ] as const) {
    const s = Store.open(path, { create: true });
    try {
      s.certificates.add(
        certs.slice(from, to).map((d) => parseCertificate(d)),
        { source: 'soak' },
      );
      s.certificates.delete([sha256(certs[from]!)]);
    } finally {
      s.close();
    }
  }
  return { a, b };
}

/** What a store holds: live fingerprints and tombstones, sorted hex. */
export interface Contents {
  live: string[];
  deleted: string[];
}

/** Reads a store's contents. */
export function contents(path: string): Contents {
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

/** The store digest the store would send in hello, as hex root and count. */
export function digestOf(path: string): string {
  const s = Store.open(path);
  try {
    const d = new SessionStore(s, 'soak').digest();
    return `${toHex(d.root)}/${d.count}`;
  } finally {
    s.close();
  }
}

/** Every invariant a store must keep after any failure; returns what broke (empty: whole). */
export function storeProblems(path: string): string[] {
  const problems: string[] = [];
  const integrity = integrityCheck(path);
  if (integrity !== 'ok') return [`integrity_check: ${integrity}`];
  const s = Store.open(path);
  try {
    for (const r of s.certificates.list('store')) {
      const der = s.certificates.der(r.fingerprint);
      if (!der) problems.push(`certificate ${r.fingerprintHex} has no DER`);
      else if (toHex(sha256(der)) !== r.fingerprintHex) {
        problems.push(`certificate ${r.fingerprintHex}: DER does not hash to its fingerprint`);
      }
      if (!s.sync.entry('cert', r.fingerprint)) {
        problems.push(`certificate ${r.fingerprintHex} has no sync metadata record`);
      }
    }
    const entries = s.sync.entries();
    const live = new Set(entries.filter((e) => !e.deleted).map((e) => toHex(e.fingerprint)));
    for (const e of entries.filter((x) => x.deleted)) {
      if (live.has(toHex(e.fingerprint))) problems.push(`${toHex(e.fingerprint)} live and deleted`);
    }
    const cap = s.capacity.state();
    if (cap.capacity !== null && cap.count > cap.capacity) {
      problems.push(`${cap.count} certificates over the capacity of ${cap.capacity}`);
    }
  } finally {
    s.close();
  }
  return problems;
}

/** What the two stores should hold after a complete sync. */
export function expectedAfterSync(certs: readonly Uint8Array[]): Contents {
  const n = certs.length;
  const gone = [certs[0]!, certs[Math.round(n / 3)]!].map((d) => toHex(sha256(d))).sort();
  const live = certs
    .map((d) => toHex(sha256(d)))
    .filter((h) => !gone.includes(h))
    .sort();
  return { live, deleted: gone };
}

/** Differences between a store's contents and the expected, for a failure line. */
export function contentsDiff(got: Contents, want: Contents): string | null {
  const missing = want.live.filter((h) => !got.live.includes(h)).length;
  const extra = got.live.filter((h) => !want.live.includes(h)).length;
  const tomb = got.deleted.join() === want.deleted.join();
  if (missing === 0 && extra === 0 && tomb) return null;
  const tombstones = tomb ? 'ok' : 'differ';
  return `${missing} certificates missing, ${extra} unexpected, tombstones ${tombstones}`;
}
