/**
 * Fuzz part `fuzz-wire`: the protocol's decoders of peer bytes. The strict CBOR decoder,
 * whole frames (envelope and message catalog), reconciliation payloads, the store digest in
 * hello, handshake frames, a Noise XX handshake reading a damaged second message, and
 * sealed session records. Every rejection must be a CertsyncError with a code other than
 * `internal` (which the codec uses for "a decoder threw something it should not have").
 */
import { isCertsyncError } from '../../protocol/errors.ts';
import { decodeFrame } from '../../protocol/messages/codec.ts';
import { decodeReconcileMessage, decodeStoreDigest } from '../../protocol/reconcile/messages.ts';
import {
  decodeHandshakeFrame,
  encodeAbortFrame,
  encodeHandshakeFrame,
} from '../../protocol/secure/frames.ts';
import { HandshakeState } from '../../protocol/secure/handshake.ts';
import { CipherState } from '../../protocol/secure/noise.ts';
import { RECORD, TransportCipher } from '../../protocol/secure/transport.ts';
import { decodeCbor } from '../../protocol/wire/cbor.ts';
import { DEFAULT_LIMITS } from '../../protocol/wire/limits.ts';
import { runFuzz, type FuzzTarget } from './fuzz-harness.ts';
import type { PartContext, PartResult } from './part.ts';
import { catalogFrames, reconcileFrames } from './seed-frames.ts';

const L = DEFAULT_LIMITS;

/** A rejection the protocol owns: a CertsyncError that is not the decoder's own bug. */
export function isProtocolRejection(err: unknown): boolean {
  return isCertsyncError(err) && err.code !== 'internal';
}

const key = (byte: number) => new Uint8Array(32).fill(byte);
const prologue = new TextEncoder().encode('certsync soak');

function xxSides() {
  const initiator = new HandshakeState({
    pattern: 'XX',
    initiator: true,
    prologue,
    staticSecret: key(1),
    ephemeralSecret: key(3),
  });
  const responder = new HandshakeState({
    pattern: 'XX',
    initiator: false,
    prologue,
    staticSecret: key(2),
    ephemeralSecret: key(4),
  });
  return { initiator, responder };
}

function freshCipher(): TransportCipher {
  const send = new CipherState();
  const receive = new CipherState();
  send.initializeKey(key(5));
  receive.initializeKey(key(5));
  return new TransportCipher({ send, receive }, 65_535);
}

/** The targets of this part. */
export function wireTargets(seed: number): FuzzTarget[] {
  const reconcile = reconcileFrames().map((f) => f.frame);
  const frames = [...catalogFrames(seed, 300), ...reconcile];
  const { initiator, responder } = xxSides();
  const message1 = initiator.writeMessage(new Uint8Array(0));
  responder.readMessage(message1);
  const message2 = responder.writeMessage(Uint8Array.of(1, 2, 3));
  const records = [RECORD.data, RECORD.close, RECORD.pairVerdict].flatMap((type) =>
    [0, 1, 200].map((n) => freshCipher().seal(type, new Uint8Array(n).fill(n & 0xff))),
  );
  const digests = reconcile.flatMap((f) => {
    const d = decodeFrame(f, L);
    if (d.kind !== 'message' || d.message.type !== 'hello') return [];
    const digest = d.message.summary.digest;
    return digest.length > 0 ? [digest] : [];
  });
  return [
    {
      name: 'cbor',
      seeds: frames,
      run: (b) => void decodeCbor(b, L),
      accepts: isProtocolRejection,
    },
    {
      name: 'frame',
      seeds: frames,
      weight: 2,
      run: (b) => void decodeFrame(b, L),
      accepts: isProtocolRejection,
    },
    {
      name: 'reconcile-payload',
      seeds: reconcile,
      weight: 2,
      run: (b) => {
        const d = decodeFrame(b, L);
        if (d.kind === 'reconcile') decodeReconcileMessage(d.code, d.payload);
      },
      accepts: isProtocolRejection,
    },
    {
      name: 'store-digest',
      seeds: digests.length > 0 ? digests : [new Uint8Array(0)],
      weight: 0.3,
      run: (b) => void decodeStoreDigest(b),
      accepts: isProtocolRejection,
    },
    {
      name: 'handshake-frame',
      seeds: [
        encodeHandshakeFrame('session-xx', message1),
        encodeHandshakeFrame('pair-secret', message2),
        encodeAbortFrame('not-paired'),
      ],
      weight: 0.5,
      run: (b) => void decodeHandshakeFrame(b),
      accepts: isProtocolRejection,
    },
    {
      name: 'handshake-message',
      seeds: [message2],
      weight: 0.05,
      run: (b) => {
        const sides = xxSides();
        sides.initiator.writeMessage(new Uint8Array(0));
        sides.initiator.readMessage(b);
      },
      accepts: isProtocolRejection,
    },
    {
      name: 'session-record',
      seeds: records,
      weight: 0.3,
      run: (b) => void freshCipher().open(b),
      accepts: isProtocolRejection,
    },
  ];
}

/** Runs the part with its share of the fuzz budget. */
export function fuzzWire(ctx: PartContext, inputs: number, seconds: number): Promise<PartResult> {
  return runFuzz('fuzz-wire', wireTargets(ctx.seed), ctx, inputs, seconds);
}
