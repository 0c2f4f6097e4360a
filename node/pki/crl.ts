/**
 * Certificate revocation lists (RFC 5280 section 5) read through pkijs.
 */
import * as pkijs from 'pkijs';
import { CertsyncError } from '../../protocol/errors.ts';
import {
  decodeAsn1,
  formatName,
  requireDerShape,
  integerHex,
  nameDer,
  sha256,
  toHex,
} from './certificate.ts';

/** One revoked certificate listed in a CRL. */
export interface RevokedSerial {
  /** Serial number as lowercase hex, as in {@link ParsedCertificate.serialHex}. */
  readonly serialHex: string;
  readonly revokedAt: Date;
}

/** A CRL's fields as certsync keeps them beside its DER. */
export interface ParsedCrl {
  /** The CRL exactly as received. */
  readonly der: Uint8Array;
  /** SHA-256 of {@link der}. */
  readonly fingerprint: Uint8Array;
  readonly fingerprintHex: string;
  /** Issuer as `O=Example, CN=Example CA`. */
  readonly issuer: string;
  readonly issuerDer: Uint8Array;
  readonly thisUpdate: Date;
  /** Absent when the CRL names no next update (allowed by RFC 5280 5.1.2.5, rarely seen). */
  readonly nextUpdate: Date | undefined;
  readonly revoked: readonly RevokedSerial[];
}

/** CRLs larger than this are refused before parsing. */
export const MAX_CRL_BYTES = 32 << 20;

/**
 * The pkijs object of a CRL, for other node/pki modules. Not part of the public API.
 *
 * @throws CertsyncError `bad-crl` naming `what` when `der` is not a CRL
 */
export function loadCrl(der: Uint8Array, what = 'CRL'): pkijs.CertificateRevocationList {
  if (der.length > MAX_CRL_BYTES) {
    throw new CertsyncError(
      'bad-crl',
      `${what}: ${der.length} bytes, over the ${MAX_CRL_BYTES}-byte limit`,
    );
  }
  const asn1 = decodeAsn1(der, 'bad-crl', what);
  requireDerShape(der, 'bad-crl', what);
  try {
    return new pkijs.CertificateRevocationList({ schema: asn1 });
  } catch (error) {
    throw new CertsyncError('bad-crl', `${what}: not a certificate revocation list`, {
      cause: error,
    });
  }
}

/**
 * Parses a DER CRL. `der` is kept as given.
 *
 * @param what names the item in error messages
 * @throws CertsyncError `bad-crl` naming `what` for anything that is not a complete CRL
 */
export function parseCrl(der: Uint8Array, what = 'CRL'): ParsedCrl {
  const crl = loadCrl(der, what);
  try {
    const fingerprint = sha256(der);
    return {
      der,
      fingerprint,
      fingerprintHex: toHex(fingerprint),
      issuer: formatName(crl.issuer),
      issuerDer: nameDer(crl.issuer),
      thisUpdate: crl.thisUpdate.value,
      nextUpdate: crl.nextUpdate?.value,
      revoked: (crl.revokedCertificates ?? []).map((r) => ({
        serialHex: integerHex(r.userCertificate),
        revokedAt: r.revocationDate.value,
      })),
    };
  } catch (error) {
    throw new CertsyncError('bad-crl', `${what}: a field could not be read`, { cause: error });
  }
}
