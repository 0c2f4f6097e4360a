/**
 * Writing certificates and CRLs out: PEM (any number), DER (exactly one item), or a PKCS#7
 * bundle (.p7b, DER or PEM). Bytes are written exactly as stored, so exporting and
 * re-importing gives the same fingerprints.
 */
import { CertsyncError } from '../../protocol/errors.ts';
import { encodePem, encodePkcs7 } from '../pki/index.ts';

/** Formats {@link exportItems} writes. */
export type ExportFormat = 'pem' | 'der' | 'p7b' | 'p7b-pem';

/** Every format, as the CLI lists them. */
export const EXPORT_FORMATS: readonly ExportFormat[] = ['pem', 'der', 'p7b', 'p7b-pem'];

/**
 * The file content for `certificates` and `crls` in `format`.
 *
 * @throws CertsyncError `bad-input` for DER with other than one item, or nothing to export
 */
export function exportItems(
  format: ExportFormat,
  certificates: readonly Uint8Array[],
  crls: readonly Uint8Array[] = [],
): Uint8Array {
  const count = certificates.length + crls.length;
  if (count === 0) throw new CertsyncError('bad-input', 'nothing to export');
  switch (format) {
    case 'pem': {
      const text =
        certificates.map((der) => encodePem('CERTIFICATE', der)).join('') +
        crls.map((der) => encodePem('X509 CRL', der)).join('');
      return new Uint8Array(Buffer.from(text, 'ascii'));
    }
    case 'der': {
      const only = certificates[0] ?? crls[0];
      if (count !== 1 || !only) {
        throw new CertsyncError(
          'bad-input',
          `DER holds exactly one item, got ${count}; use pem or p7b for several`,
        );
      }
      return only;
    }
    case 'p7b':
      return encodePkcs7(certificates, crls);
    case 'p7b-pem':
      return new Uint8Array(Buffer.from(encodePem('PKCS7', encodePkcs7(certificates, crls))));
    default:
      throw new RangeError(
        `expected a format of ${EXPORT_FORMATS.join(', ')}, got ${String(format)}`,
      );
  }
}
