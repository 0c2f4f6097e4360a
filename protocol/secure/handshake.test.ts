import assert from 'node:assert/strict';
import { test } from 'node:test';
import { x25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { isCertsyncError } from '../errors.ts';
import { HandshakeState } from './handshake.ts';
import type { HandshakeOptions, PatternName } from './handshake.ts';

const key = (byte: number) => new Uint8Array(32).fill(byte);
const prologue = new TextEncoder().encode('hellos');
const responderStatic = key(2);
const responderPublic = x25519.getPublicKey(responderStatic);

function sides(pattern: PatternName, change: Partial<HandshakeOptions> = {}) {
  const psk = pattern === 'XXpsk3' ? { psk: key(9) } : {};
  const remote = pattern === 'IK' ? { remoteStatic: responderPublic } : {};
  const initiator = new HandshakeState({
    pattern,
    initiator: true,
    prologue,
    staticSecret: key(1),
    ephemeralSecret: key(3),
    ...psk,
    ...remote,
    ...change,
  });
  const responder = new HandshakeState({
    pattern,
    initiator: false,
    prologue,
    staticSecret: responderStatic,
    ephemeralSecret: key(4),
    ...psk,
  });
  return { initiator, responder };
}

/** Runs the pattern to the end, or to the first failure, which it returns. */
function run(initiator: HandshakeState, responder: HandshakeState): unknown {
  try {
    let writer = initiator;
    let reader = responder;
    while (!writer.isComplete) {
      reader.readMessage(writer.writeMessage(new Uint8Array([7])));
      [writer, reader] = [reader, writer];
    }
    return null;
  } catch (error) {
    return error;
  }
}

const failed = (e: unknown) => isCertsyncError(e) && e.code === 'handshake-failed';

for (const pattern of ['XX', 'XXpsk3', 'IK'] as const) {
  test(`${pattern}: both sides finish with the same hash, each other's keys and paired ciphers`, () => {
    const { initiator, responder } = sides(pattern);
    assert.equal(run(initiator, responder), null);
    assert.deepEqual(initiator.handshakeHash, responder.handshakeHash);
    assert.deepEqual(initiator.remoteStatic, responderPublic);
    assert.deepEqual(responder.remoteStatic, x25519.getPublicKey(key(1)));
    const a = initiator.split();
    const b = responder.split();
    const ad = new Uint8Array(0);
    const sealed = a.send.encryptWithAd(ad, new Uint8Array([1, 2]));
    assert.deepEqual(b.receive.decryptWithAd(ad, sealed), new Uint8Array([1, 2]));
  });

  test(`${pattern}: different prologues (an altered hello) fail the handshake`, () => {
    const { initiator, responder } = sides(pattern, { prologue: new Uint8Array([1]) });
    assert.ok(failed(run(initiator, responder)));
  });
}

test('XXpsk3: a different pre-shared key fails the handshake at the last message', () => {
  const { initiator, responder } = sides('XXpsk3', { psk: key(8) });
  assert.ok(failed(run(initiator, responder)));
});

test('IK: an initiator holding another key for the responder fails at the first message', () => {
  const { initiator, responder } = sides('IK', { remoteStatic: x25519.getPublicKey(key(5)) });
  assert.ok(failed(run(initiator, responder)));
});

test('a low-order ephemeral key from the peer fails the handshake', () => {
  const { responder } = sides('XX');
  const error = (() => {
    try {
      responder.readMessage(new Uint8Array(32));
      return responder.writeMessage(new Uint8Array(0));
    } catch (e) {
      return e;
    }
  })();
  assert.ok(failed(error), String(error));
});

test('a short or oversized handshake message is refused with its code', () => {
  assert.ok(failed(captured(() => sides('XX').responder.readMessage(new Uint8Array(31)))));
  const huge = captured(() => sides('XX').responder.readMessage(new Uint8Array(65536)));
  assert.ok(isCertsyncError(huge) && huge.code === 'frame-too-large');
});

test('caller mistakes are TypeErrors: short keys, writing out of turn, missing IK key', () => {
  assert.throws(() => sides('XX', { staticSecret: new Uint8Array(31) }), TypeError);
  assert.throws(() => sides('XX').responder.writeMessage(new Uint8Array(0)), TypeError);
  assert.throws(() => sides('IK', { remoteStatic: undefined }), TypeError);
  assert.throws(() => sides('XX').initiator.split(), TypeError);
});

function captured(fn: () => unknown): unknown {
  try {
    fn();
    return null;
  } catch (e) {
    return e;
  }
}

test('reading arbitrary bytes as any handshake message fails only with protocol errors', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('XX', 'XXpsk3', 'IK'),
      fc.boolean(),
      fc.uint8Array({ maxLength: 200 }),
      (pattern, second, bytes) => {
        const { initiator, responder } = sides(pattern);
        if (second) responder.readMessage(initiator.writeMessage(new Uint8Array(0)));
        const reader = second ? initiator : responder;
        const error = captured(() => reader.readMessage(bytes));
        // An XX first message is a bare key: 32 bytes or more always "read".
        if (error === null) return;
        assert.ok(isCertsyncError(error), String(error));
        assert.equal(error.code, 'handshake-failed');
      },
    ),
    { numRuns: 150 },
  );
});
