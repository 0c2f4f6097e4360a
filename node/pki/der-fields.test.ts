import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeStrict, hex, itemsOf, oidOf, readTime, type Invalid } from './der-fields.ts';

const invalid: Invalid = (what) => new RangeError(what);
const der = (...bytes: number[]): Uint8Array => new Uint8Array(bytes);
const time = (tag: number, text: string): Uint8Array =>
  new Uint8Array([tag, text.length, ...Buffer.from(text, 'latin1')]);
const readTimeOf = (bytes: Uint8Array): Date =>
  readTime(decodeStrict(bytes, 'time', invalid), invalid);

describe('the strict DER reader', () => {
  it('refuses lengths that are not minimal, indefinite, or run past their parent', () => {
    assert.ok(decodeStrict(der(0x30, 0x03, 0x02, 0x01, 0x05), 'x', invalid));
    const refused = [
      der(0x30, 0x81, 0x03, 0x02, 0x01, 0x05), // long form for a short length
      der(0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00), // indefinite length
      der(0x30, 0x02, 0x02, 0x01, 0x05), // child runs past its parent
      der(0x30, 0x03, 0x02, 0x01, 0x05, 0x00), // trailing byte
      der(0x30, 0x82, 0x00, 0x03, 0x02, 0x01, 0x05), // leading zero length octet
      der(0x1f, 0x81, 0x01, 0x00), // high tag number
      der(),
    ];
    for (const bytes of refused)
      assert.throws(() => decodeStrict(bytes, 'x', invalid), RangeError, hex(bytes));
  });

  it('reads children in order and OIDs in dotted form', () => {
    const seq = decodeStrict(der(0x30, 0x06, 0x06, 0x01, 0x2a, 0x06, 0x01, 0x55), 'x', invalid);
    assert.deepEqual(
      itemsOf(seq).map((n) => oidOf(n, invalid, 'oid')),
      ['1.2', '2.5'],
    );
    const long = decodeStrict(der(0x06, 0x06, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d), 'x', invalid);
    assert.equal(oidOf(long, invalid, 'oid'), '1.2.840.113549');
    assert.throws(() =>
      oidOf(decodeStrict(der(0x06, 0x02, 0x80, 0x01), 'x', invalid), invalid, 'oid'),
    );
  });

  it('reads RFC 5280 times in whole seconds and nothing else', () => {
    assert.equal(readTimeOf(time(0x17, '490101000000Z')).toISOString(), '2049-01-01T00:00:00.000Z');
    assert.equal(readTimeOf(time(0x17, '500101000000Z')).toISOString(), '1950-01-01T00:00:00.000Z');
    assert.equal(
      readTimeOf(time(0x18, '20291231235959Z')).toISOString(),
      '2029-12-31T23:59:59.000Z',
    );
    for (const bad of [
      time(0x17, '2601010000Z'), // no seconds
      time(0x18, '20260101000000.5Z'), // fraction
      time(0x18, '20260230000000Z'), // 30 February
      time(0x17, '260101000000+0100'), // offset
      time(0x18, '260101000000Z'), // GeneralizedTime with a two-digit year
      time(0x17, '26010124000 Z'),
    ]) {
      assert.throws(() => readTimeOf(bad), RangeError, Buffer.from(bad).toString('latin1'));
    }
  });
});
