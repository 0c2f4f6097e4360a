/**
 * Handshakes the runner plays step by step (spec/session.md 5 to 8), for the cases that
 * must send what an honest client never sends: a low-order ephemeral key, a payload where
 * none belongs, a frame of another mode, a record of an unknown type, a pairing nonce that
 * does not match its commitment. Built on the Noise primitives of protocol/secure, which
 * node/keys/handshake-vectors-independent.test.ts checks against a second implementation.
 */
import { randomBytes } from 'node:crypto';
import { CertsyncError } from '../../protocol/errors.ts';
import {
  decodeHandshakeFrame,
  encodeHandshakeFrame,
  type HandshakeMode,
} from '../../protocol/secure/frames.ts';
import { HandshakeState } from '../../protocol/secure/handshake.ts';
import { commitToNonce } from '../../protocol/secure/pairing.ts';
import { buildPrologue } from '../../protocol/secure/prologue.ts';
import { RECORD, TransportCipher, type RecordType } from '../../protocol/secure/transport.ts';
import { connectTcpLink, type TcpLink } from '../../transports/tcp.ts';
import type { Identity } from '../../node/keys/identity.ts';
import { frameOf, runnerHello, withTimeout } from './wire-peer.ts';

/** A TCP connection whose hellos were exchanged in the clear; nothing else happened yet. */
export interface RawStart {
  readonly raw: TcpLink;
  readonly mine: Uint8Array;
  readonly theirs: Uint8Array;
}

/** Connects and exchanges hellos (spec/session.md 1, step 1). */
export async function rawConnect(port: number, linkFrame = 65_535): Promise<RawStart> {
  const raw = await connectTcpLink(port, { maxFrameSize: linkFrame });
  const mine = frameOf(runnerHello());
  await raw.send(mine);
  const theirs = await withTimeout(raw.receive(), 10_000, 'no hello from the implementation');
  if (theirs === null) throw new CertsyncError('link-closed', 'closed before its hello');
  return { raw, mine, theirs };
}

/** The next raw frame, decoded as a handshake-phase frame; `closed` when the link ended. */
export async function nextHandshakeFrame(raw: TcpLink, ms = 5_000) {
  const f = await withTimeout(raw.receive(), ms, 'no handshake frame').catch(() => null);
  if (f === null) return 'closed' as const;
  return decodeHandshakeFrame(f);
}

/** An open session the runner can seal any record into. */
export interface RawSession {
  readonly raw: TcpLink;
  readonly transport: TransportCipher;
  /** The responder's static key as the handshake showed it. */
  readonly remoteStatic: Uint8Array;
  /** The responder's ephemeral key (the first 32 bytes of XX message 2). */
  readonly remoteEphemeral: Uint8Array;
  /** Seals one record of any type (also ones spec/session.md 8 does not define). */
  seal(type: number, body?: Uint8Array): Promise<void>;
}

/** What to do differently in a `session-xx` handshake the runner starts. */
export interface XxOptions {
  /** A non-empty payload in message 1 (session.md 5: handshake-failed). */
  readonly payload1?: Uint8Array;
  /** The mode byte of message 3, when a case changes it mid-handshake. */
  readonly mode3?: HandshakeMode;
}

/**
 * Runs `session-xx` as initiator (spec/session.md 6.2) over a started connection.
 *
 * @throws CertsyncError `handshake-failed` when message 2 does not verify; the abort's
 *   code when the implementation aborts
 */
export async function xxInitiate(
  start: RawStart,
  identity: Identity,
  o: XxOptions = {},
): Promise<RawSession> {
  const { raw } = start;
  const hs = new HandshakeState({
    pattern: 'XX',
    initiator: true,
    prologue: buildPrologue({ initiatorHello: start.mine, responderHello: start.theirs }),
    staticSecret: identity.x25519SecretKey,
    staticPublic: identity.x25519PublicKey,
    ephemeralSecret: randomBytes(32),
  });
  await raw.send(
    encodeHandshakeFrame('session-xx', hs.writeMessage(o.payload1 ?? new Uint8Array(0))),
  );
  const second = await nextHandshakeFrame(raw);
  if (second === 'closed') throw new CertsyncError('link-closed', 'closed in the handshake');
  if (second.kind === 'abort') throw new CertsyncError(second.code, `aborted: ${second.code}`);
  const remoteEphemeral = second.message.slice(0, 32);
  hs.readMessage(second.message);
  await raw.send(encodeHandshakeFrame(o.mode3 ?? 'session-xx', hs.writeMessage(new Uint8Array(0))));
  const transport = new TransportCipher(hs.split(), 65_535);
  return {
    raw,
    transport,
    remoteStatic: hs.remoteStatic as Uint8Array,
    remoteEphemeral,
    seal: (type, body) => raw.send(transport.seal(type as RecordType, body)),
  };
}

/**
 * Plays the responder of a `pair` handshake (spec/session.md 7.1) that reveals a nonce
 * other than the one it committed to. The implementation, as initiator, must fail.
 *
 * @returns the frame the implementation sent after the reveal (its abort), or `closed`
 */
export async function pairWithBadReveal(
  raw: TcpLink,
  hellos: { initiator: Uint8Array; responder: Uint8Array },
  identity: Identity,
) {
  const hs = new HandshakeState({
    pattern: 'XX',
    initiator: false,
    prologue: buildPrologue({ initiatorHello: hellos.initiator, responderHello: hellos.responder }),
    staticSecret: identity.x25519SecretKey,
    staticPublic: identity.x25519PublicKey,
    ephemeralSecret: randomBytes(32),
  });
  const first = await nextHandshakeFrame(raw);
  if (first === 'closed' || first.kind !== 'handshake' || first.mode !== 'pair') {
    throw new Error('expected a pair handshake from the implementation');
  }
  hs.readMessage(first.message);
  const nonce = randomBytes(32);
  await raw.send(encodeHandshakeFrame('pair', hs.writeMessage(commitToNonce(nonce))));
  const third = await nextHandshakeFrame(raw);
  if (third === 'closed' || third.kind !== 'handshake') throw new Error('expected message 3');
  hs.readMessage(third.message);
  const transport = new TransportCipher(hs.split(), 65_535);
  const other = Uint8Array.from(nonce, (b, i) => (i === 0 ? b ^ 1 : b));
  await raw.send(transport.seal(RECORD.pairReveal, other));
  return withTimeout(raw.receive(), 5_000, 'no answer to the reveal').catch(() => null);
}
