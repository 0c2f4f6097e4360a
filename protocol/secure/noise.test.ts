/**
 * The Noise layer against an independent published vector: the cacophony test vectors'
 * Noise_XX_25519_ChaChaPoly_SHA256 case (prologue "John Galt"), handshake and four
 * transport messages. The vector's own `handshake_hash` field is not compared; every message
 * is, and each one authenticates the running transcript hash as its associated data.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { HandshakeState } from './handshake.ts';

const vector = {
  prologue: '4a6f686e2047616c74',
  initStatic: 'e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1',
  initEphemeral: '893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a',
  respStatic: '4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893',
  respEphemeral: 'bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b',
  messages: [
    [
      'Ludwig von Mises',
      'ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944' +
        '4c756477696720766f6e204d69736573',
    ],
    [
      'Murray Rothbard',
      '95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f14480884381cbad1f276e038c' +
        '48378ffce2b65285e08d6b68aaa3629a5a8639392490e5b9bd5269c2f1e4f488ed8831161f19b781' +
        '5528f8982ffe09be9b5c412f8a0db50f8814c7194e83f23dbd8d162c9326ad',
    ],
    [
      'F. A. Hayek',
      'c7195ffacac1307ff99046f219750fc47693e23c3cb08b89c2af808b444850a80ae475b9df0f169a' +
        'e80a89be0865b57f58c9fea0d4ec82a286427402f113e4b6ae769a1d95941d49b25030',
    ],
    ['4361726c204d656e676572', '96763ed773f8e47bb3712f0e29b3060ffc956ffc146cee53d5e1df'],
    [
      '4a65616e2d426170746973746520536179',
      '3e40f15f6f3a46ae446b253bf8b1d9ffb6ed9b174d272328ff91a7e2e5c79c07f5',
    ],
    [
      // Latin-1, as in the published vector: "Eugen B\xf6hm von Bawerk".
      '457567656e2042f6686d20766f6e2042617765726b',
      'eb3f3515110702e047a6c9da4478b6ead94873c11c0f2d710ddb3f09fce024b3a58502ae3f',
    ],
  ],
} as const;

test('XX matches the published Noise_XX_25519_ChaChaPoly_SHA256 vector', () => {
  const prologue = hexToBytes(vector.prologue);
  const initiator = new HandshakeState({
    pattern: 'XX',
    initiator: true,
    prologue,
    staticSecret: hexToBytes(vector.initStatic),
    ephemeralSecret: hexToBytes(vector.initEphemeral),
  });
  const responder = new HandshakeState({
    pattern: 'XX',
    initiator: false,
    prologue,
    staticSecret: hexToBytes(vector.respStatic),
    ephemeralSecret: hexToBytes(vector.respEphemeral),
  });
  const sides = [initiator, responder];
  for (let i = 0; i < 3; i++) {
    const [payload, expected] = vector.messages[i] as readonly [string, string];
    const writer = sides[i % 2] as HandshakeState;
    const reader = sides[(i + 1) % 2] as HandshakeState;
    const message = writer.writeMessage(utf8ToBytes(payload));
    assert.equal(bytesToHex(message), expected, `handshake message ${i + 1}`);
    assert.deepEqual(reader.readMessage(message), utf8ToBytes(payload));
  }
  assert.deepEqual(initiator.handshakeHash, responder.handshakeHash);

  const a = initiator.split();
  const b = responder.split();
  const empty = new Uint8Array(0);
  for (let i = 3; i < vector.messages.length; i++) {
    const [payload, expected] = vector.messages[i] as readonly [string, string];
    // After the handshake the vector alternates responder, initiator, responder, ...
    const [send, receive] = i % 2 === 1 ? [b.send, a.receive] : [a.send, b.receive];
    const ciphertext = send.encryptWithAd(empty, hexToBytes(payload));
    assert.equal(bytesToHex(ciphertext), expected, `transport message ${i + 1}`);
    assert.deepEqual(receive.decryptWithAd(empty, ciphertext), hexToBytes(payload));
  }
});
