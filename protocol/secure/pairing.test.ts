import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isCertsyncError } from '../errors.ts';
import {
  checkReveal,
  commitToNonce,
  formatPairingSecret,
  pairingCode,
  pskFromPairingSecret,
} from './pairing.ts';

const nonce = (byte: number) => new Uint8Array(32).fill(byte);
const code = (e: unknown) => (isCertsyncError(e) ? e.code : String(e));

test('the pairing code is six digits and depends on the hash and on both nonces', () => {
  const h = nonce(5);
  const base = pairingCode(h, nonce(1), nonce(2));
  assert.match(base, /^\d{6}$/);
  assert.equal(pairingCode(h, nonce(1), nonce(2)), base);
  assert.notEqual(pairingCode(nonce(6), nonce(1), nonce(2)), base);
  assert.notEqual(pairingCode(h, nonce(3), nonce(2)), base);
  assert.notEqual(pairingCode(h, nonce(1), nonce(3)), base);
});

test('pairing codes spread over all six digits (no digit position is stuck)', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const h = new Uint8Array(32);
    new DataView(h.buffer).setUint32(0, i);
    seen.add(pairingCode(h, nonce(1), nonce(2)).slice(0, 2));
  }
  assert.ok(seen.size > 95, `leading pairs seen: ${seen.size}`);
});

test('a reveal opens only its own commitment', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(255), (n, flip) => {
      checkReveal(commitToNonce(n), n);
      const other = n.slice();
      other[flip % 32] = (other[flip % 32] as number) ^ 1;
      assert.equal(code(capture(() => checkReveal(commitToNonce(n), other))), 'handshake-failed');
    }),
  );
  assert.equal(
    code(capture(() => checkReveal(commitToNonce(nonce(1)), nonce(1).subarray(1)))),
    'handshake-failed',
  );
});

test('a printed pairing secret parses back to the same key, however it is typed', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (random) => {
      const secret = formatPairingSecret(random);
      assert.match(secret, /^([a-z2-7]{4}-){6}[a-z2-7]{2}$/);
      const psk = pskFromPairingSecret(secret);
      assert.equal(psk.length, 32);
      assert.deepEqual(pskFromPairingSecret(secret.toUpperCase().replaceAll('-', ' ')), psk);
    }),
  );
});

test('a mistyped or short pairing secret is bad input', () => {
  const secret = formatPairingSecret(nonce(7).subarray(0, 16));
  for (const bad of [secret.slice(1), `${secret}a`, secret.replace(/.$/, '1'), '']) {
    assert.equal(code(capture(() => pskFromPairingSecret(bad))), 'bad-input', bad);
  }
  // The last letter carries two spare bits that must be zero.
  assert.equal(code(capture(() => pskFromPairingSecret(secret.replace(/.$/, 'b')))), 'bad-input');
  assert.throws(() => formatPairingSecret(new Uint8Array(15)), TypeError);
});

function capture(fn: () => unknown): unknown {
  try {
    fn();
    return null;
  } catch (e) {
    return e;
  }
}
