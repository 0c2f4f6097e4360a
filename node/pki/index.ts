/**
 * certsync's X.509 adapter: certificates, CRLs, PKCS#7 bundles, PEM and signed mail. Every
 * export here speaks in bytes, strings and dates; pkijs and asn1js stay inside this folder.
 */
export {
  MAX_CERTIFICATE_BYTES,
  parseCertificate,
  sha256,
  toHex,
  type ParsedCertificate,
} from './certificate.ts';
export { MAX_CRL_BYTES, parseCrl, type ParsedCrl, type RevokedSerial } from './crl.ts';
export { decodePem, encodePem, looksLikePem, MAX_PEM_BLOCKS, type PemBlock } from './pem.ts';
export {
  encodePkcs7,
  looksLikePkcs7,
  MAX_PKCS7_BYTES,
  readPkcs7,
  type Pkcs7Contents,
} from './pkcs7.ts';
export { looksLikeMail, MAX_MAIL_BYTES, readSignedMail } from './smime.ts';
