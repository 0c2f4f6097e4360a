import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32, fcs16 } from './crc.ts';

const check = new TextEncoder().encode('123456789');

test('CRC-32 check value of "123456789" is 0xCBF43926', () => {
  assert.equal(crc32(check), 0xcbf43926);
});

test('FCS-16 check value is 0x906E, and data followed by its FCS gives 0xF0B8 inside', () => {
  const fcs = fcs16(check);
  assert.equal(fcs, 0x906e);
  const framed = Uint8Array.from([...check, fcs & 0xff, fcs >> 8]);
  // The residue before the final complement is the "good FCS" of RFC 1662 C.2.
  assert.equal(~fcs16(framed) & 0xffff, 0xf0b8);
});
