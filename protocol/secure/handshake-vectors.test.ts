/**
 * The handshake test vectors of spec/vectors/handshake.json: from fixed keys, nonces and
 * hellos, every frame of each handshake mode, the pairing code, and the first sealed records
 * including a key rotation. This test rebuilds every vector from its inputs and compares
 * byte for byte; `CERTSYNC_WRITE_VECTORS=1` rewrites the file instead (after a deliberate
 * change to the protocol, never to make a test pass).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { encodeHandshakeFrame, patternOf } from './frames.ts';
import type { HandshakeMode } from './frames.ts';
import { HandshakeState } from './handshake.ts';
import { publicKeyOf } from './noise.ts';
import {
  commitToNonce,
  formatPairingSecret,
  pairingCode,
  pskFromPairingSecret,
} from './pairing.ts';
import { buildPrologue } from './prologue.ts';
import { RECORD, TransportCipher } from './transport.ts';
import type { RecordType } from './transport.ts';

const FILE = new URL('../../spec/vectors/handshake.json', import.meta.url);

interface Inputs {
  mode: HandshakeMode;
  initiatorStatic: string;
  responderStatic: string;
  initiatorEphemeral: string;
  responderEphemeral: string;
  initiatorHello: string;
  responderHello: string;
  agreement: string;
  initiatorNonce?: string;
  responderNonce?: string;
  pairingSecret?: string;
  rekey: { records: number; bytes: number };
  maxFrame: number;
}

interface Expected {
  prologue: string;
  handshakeFrames: { from: 'initiator' | 'responder'; hex: string }[];
  handshakeHash: string;
  pairingCode?: string;
  records: { from: 'initiator' | 'responder'; type: number; body: string; hex: string }[];
}

const seq = (start: number) => bytesToHex(Uint8Array.from({ length: 32 }, (_, i) => start + i));
const text = (s: string) => bytesToHex(new TextEncoder().encode(s));

function inputsFor(mode: HandshakeMode, preHandshakeFrames = true): Inputs {
  const frames = preHandshakeFrames
    ? {
        // Any bytes: the secure layer hashes pre-handshake frames as they travelled.
        initiatorHello: text('initiator hello, versions 1..3'),
        responderHello: text('responder hello, versions 1..2'),
        agreement: text('version 2'),
      }
    : { initiatorHello: '', responderHello: '', agreement: '' };
  return {
    mode,
    initiatorStatic: seq(0x01),
    responderStatic: seq(0x41),
    initiatorEphemeral: seq(0x81),
    responderEphemeral: seq(0xc1),
    ...frames,
    ...(mode === 'pair' ? { initiatorNonce: seq(0x11), responderNonce: seq(0x51) } : {}),
    ...(mode === 'pair-secret'
      ? { pairingSecret: formatPairingSecret(Uint8Array.from({ length: 16 }, (_, i) => i)) }
      : {}),
    rekey: { records: 2, bytes: 1 << 20 },
    maxFrame: 4096,
  };
}

/** Runs one handshake and three records each way from the inputs alone. */
function build(inputs: Inputs): Expected {
  const prologue = buildPrologue({
    initiatorHello: hexToBytes(inputs.initiatorHello),
    responderHello: hexToBytes(inputs.responderHello),
    agreement: hexToBytes(inputs.agreement),
  });
  const responderStatic = hexToBytes(inputs.responderStatic);
  const psk = inputs.pairingSecret ? { psk: pskFromPairingSecret(inputs.pairingSecret) } : {};
  const pattern = patternOf(inputs.mode);
  const initiator = new HandshakeState({
    pattern,
    initiator: true,
    prologue,
    staticSecret: hexToBytes(inputs.initiatorStatic),
    ephemeralSecret: hexToBytes(inputs.initiatorEphemeral),
    ...(pattern === 'IK' ? { remoteStatic: publicKeyOf(responderStatic) } : {}),
    ...psk,
  });
  const responder = new HandshakeState({
    pattern,
    initiator: false,
    prologue,
    staticSecret: responderStatic,
    ephemeralSecret: hexToBytes(inputs.responderEphemeral),
    ...psk,
  });

  const empty = new Uint8Array(0);
  const payloads: Uint8Array[] =
    inputs.mode === 'pair'
      ? [
          empty,
          commitToNonce(hexToBytes(inputs.responderNonce as string)),
          hexToBytes(inputs.initiatorNonce as string),
        ]
      : [empty, empty, empty];
  const handshakeFrames: Expected['handshakeFrames'] = [];
  let writer = initiator;
  let reader = responder;
  for (let i = 0; !writer.isComplete; i++) {
    const message = writer.writeMessage(payloads[i] as Uint8Array);
    assert.deepEqual(reader.readMessage(message), payloads[i]);
    const from = writer === initiator ? 'initiator' : 'responder';
    handshakeFrames.push({ from, hex: bytesToHex(encodeHandshakeFrame(inputs.mode, message)) });
    [writer, reader] = [reader, writer];
  }
  assert.deepEqual(initiator.handshakeHash, responder.handshakeHash);

  const a = new TransportCipher(initiator.split(), inputs.maxFrame, inputs.rekey);
  const b = new TransportCipher(responder.split(), inputs.maxFrame, inputs.rekey);
  const records: Expected['records'] = [];
  const seal = (from: 'initiator' | 'responder', type: RecordType, body: Uint8Array) => {
    const [sender, receiver] = from === 'initiator' ? [a, b] : [b, a];
    const frame = sender.seal(type, body);
    const opened = receiver.open(frame);
    assert.equal(opened.type, type);
    assert.deepEqual(opened.body, body);
    records.push({ from, type, body: bytesToHex(body), hex: bytesToHex(frame) });
  };
  if (inputs.mode === 'pair') {
    seal('responder', RECORD.pairReveal, hexToBytes(inputs.responderNonce as string));
    seal('initiator', RECORD.pairVerdict, Uint8Array.of(1));
    seal('responder', RECORD.pairVerdict, Uint8Array.of(1));
  }
  // Three data records each way: the third is sealed under the rotated key (bound: 2).
  for (const i of [0, 1, 2]) {
    seal('initiator', RECORD.data, new TextEncoder().encode(`frame ${i} from the initiator`));
    seal('responder', RECORD.data, new TextEncoder().encode(`frame ${i} from the responder`));
  }
  seal('initiator', RECORD.close, empty);

  return {
    prologue: bytesToHex(prologue),
    handshakeFrames,
    handshakeHash: bytesToHex(initiator.handshakeHash),
    ...(inputs.mode === 'pair'
      ? {
          pairingCode: pairingCode(
            initiator.handshakeHash,
            hexToBytes(inputs.initiatorNonce as string),
            hexToBytes(inputs.responderNonce as string),
          ),
        }
      : {}),
    records,
  };
}

const MODES: HandshakeMode[] = ['pair', 'pair-secret', 'session-ik', 'session-xx'];

test('the handshake vectors in spec/vectors/handshake.json match this implementation', () => {
  const vectors = MODES.map((mode) => {
    const inputs = inputsFor(mode);
    return { name: `${mode} (${patternOf(mode)})`, inputs, expected: build(inputs) };
  });
  // Nothing sent before the handshake: the prologue's frames are empty.
  const bare = inputsFor('session-ik', false);
  vectors.push({ name: 'session-ik (IK), empty prologue', inputs: bare, expected: build(bare) });
  if (process.env.CERTSYNC_WRITE_VECTORS === '1') {
    const doc = {
      description:
        'certsync session handshakes from fixed keys (spec/session.md, "Test vectors"). ' +
        'All byte strings are hex. Frames are as sent on the link.',
      vectors,
    };
    writeFileSync(FILE, `${JSON.stringify(doc, null, 2)}\n`);
  }
  const stored = JSON.parse(readFileSync(FILE, 'utf8')) as {
    vectors: { name: string; inputs: Inputs; expected: Expected }[];
  };
  assert.equal(stored.vectors.length, MODES.length + 1);
  for (const vector of stored.vectors) {
    assert.deepEqual(build(vector.inputs), vector.expected, vector.name);
  }
});
