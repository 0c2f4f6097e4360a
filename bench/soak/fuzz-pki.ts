/**
 * Fuzz part `fuzz-pki`: the importers of files a user hands over. Certificates (pkijs and
 * the strict DER reader), CRLs (both readers), PKCS#7 bundles, PEM text, signed mail, OCSP
 * responses, and the whole-file reader that picks among them. Seeds are real files written
 * by openssl. Every rejection must be a CertsyncError (not `internal`); the whole-file
 * reader must never throw and report each problem with a code of the closed set.
 */
import { isErrorCode } from '../../protocol/errors.ts';
import { readCertificateFile } from '../../node/import/read-file.ts';
import { parseCertificate } from '../../node/pki/certificate.ts';
import { readCrl } from '../../node/pki/crl-facts.ts';
import { parseCrl } from '../../node/pki/crl.ts';
import { readCertificate } from '../../node/pki/extensions.ts';
import { readOcspResponse } from '../../node/pki/ocsp.ts';
import { decodePem } from '../../node/pki/pem.ts';
import { readPkcs7 } from '../../node/pki/pkcs7.ts';
import { readSignedMail } from '../../node/pki/smime.ts';
import { buildStandardPki } from '../../node/testing/openssl-pki.ts';
import { runFuzz, type FuzzTarget } from './fuzz-harness.ts';
import { isProtocolRejection } from './fuzz-wire.ts';
import type { PartContext, PartResult } from './part.ts';

/** Marks an importer that broke its own contract (never accepted as a rejection). */
class ImportFault extends Error {
  override name = 'ImportFault';
}

const latin1 = (b: Uint8Array) =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/** Real certificates, a CRL, bundles and mails from openssl, as seeds. */
export async function pkiSeeds() {
  const std = await buildStandardPki();
  try {
    const bundle = await std.pki.pkcs7([std.alice, std.intermediate], { crls: [std.crl] });
    const pemBundle = await std.pki.pkcs7([std.bob], { pem: true });
    const certs = [std.alice, std.bob, std.root, std.intermediate].map((c) => c.der);
    const pems = [std.alice, std.bob].map((c) => new TextEncoder().encode(c.pem));
    return {
      certs,
      crls: [std.crl.bytes],
      pkcs7: [bundle.bytes],
      pem: [...pems, pemBundle.bytes],
      mail: [std.signedMail.bytes, std.opaqueMail.bytes],
    };
  } finally {
    await std.cleanup();
  }
}

/** The targets of this part. */
export async function pkiTargets(): Promise<FuzzTarget[]> {
  const s = await pkiSeeds();
  const files = [...s.certs, ...s.crls, ...s.pkcs7, ...s.pem, ...s.mail];
  return [
    {
      name: 'certificate-pkijs',
      seeds: s.certs,
      run: (b) => void parseCertificate(b),
      accepts: isProtocolRejection,
    },
    {
      name: 'certificate-der',
      seeds: s.certs,
      weight: 2,
      run: (b) => void readCertificate(b),
      accepts: isProtocolRejection,
    },
    {
      name: 'crl-pkijs',
      seeds: s.crls,
      run: (b) => void parseCrl(b),
      accepts: isProtocolRejection,
    },
    {
      name: 'crl-der',
      seeds: s.crls,
      weight: 2,
      run: (b) => void readCrl(b),
      accepts: isProtocolRejection,
    },
    {
      name: 'pkcs7',
      seeds: s.pkcs7,
      weight: 0.5,
      run: (b) => void readPkcs7(b),
      accepts: isProtocolRejection,
    },
    {
      name: 'pem',
      seeds: s.pem,
      run: (b) => void decodePem(latin1(b)),
      accepts: isProtocolRejection,
    },
    {
      name: 'mail',
      seeds: s.mail,
      weight: 0.5,
      run: (b) => void readSignedMail(b),
      accepts: isProtocolRejection,
    },
    {
      name: 'ocsp-response',
      seeds: s.certs,
      weight: 0.3,
      run: (b) => void readOcspResponse(b),
      accepts: isProtocolRejection,
    },
    {
      name: 'import-file',
      seeds: files,
      weight: 0.5,
      run: (b) => {
        const { problems } = readCertificateFile(b, 'soak-input');
        for (const p of problems) {
          if (!isErrorCode(p.code) || p.code === 'internal') {
            throw new ImportFault(`problem with code ${String(p.code)}: ${p.message}`);
          }
        }
      },
      accepts: () => false,
    },
  ];
}

/** Runs the part with its share of the fuzz budget. */
export async function fuzzPki(ctx: PartContext, inputs: number, seconds: number) {
  const targets = await pkiTargets();
  return (await runFuzz('fuzz-pki', targets, ctx, inputs, seconds)) as PartResult;
}
