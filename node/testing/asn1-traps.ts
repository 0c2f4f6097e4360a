/**
 * Small DER values that make asn1js throw from inside its BER reader instead of reporting
 * a decoding error (found by the soak fuzzer). Every importer must turn them into its own
 * CertsyncError; the tests of each entry point feed them in.
 */

/** One value asn1js throws on, and what is wrong with it. */
export interface Asn1Trap {
  readonly name: string;
  readonly der: Uint8Array;
}

const bytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));

/** SEQUENCE { value } for each value asn1js cannot convert, and one nested deeper. */
export const ASN1_TRAPS: readonly Asn1Trap[] = [
  { name: 'a BMPString of odd length', der: bytes('30031e0141') },
  { name: 'a UniversalString of 3 bytes', der: bytes('30051c03414243') },
  { name: 'a GeneralizedTime that is not a time', der: bytes('3003180141') },
  { name: 'a BMPString of odd length, nested', der: bytes('300a300802010131031e0141') },
];

/** The message fragment node/pki gives for them. */
export const ASN1_TRAP_MESSAGE = 'not DER (a string or time value does not decode)';
