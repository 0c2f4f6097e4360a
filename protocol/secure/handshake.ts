/**
 * Noise handshake state (Noise revision 34, section 5.3) for the three patterns certsync
 * uses (spec/session.md, "Handshakes"):
 *
 * - `XX`: first contact. Both static keys travel encrypted; nothing is known in advance.
 * - `XXpsk3`: first contact with a one-time pairing secret mixed in as a pre-shared key.
 * - `IK`: a paired initiator that already knows the responder's static key; one round trip.
 *
 * Pure: the static key, the ephemeral key and the pre-shared key are given by the caller.
 */
import { CertsyncError } from '../errors.ts';
import {
  KEY_LENGTH,
  MAX_NOISE_MESSAGE,
  SymmetricState,
  TAG_LENGTH,
  describe,
  dh,
  publicKeyOf,
} from './noise.ts';
import type { CipherState } from './noise.ts';

/** The handshake patterns certsync speaks. */
export type PatternName = 'XX' | 'XXpsk3' | 'IK';

type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss' | 'psk';

interface Pattern {
  /** `<- s` pre-message: the initiator knows the responder's static key (section 7.1). */
  readonly responderStaticKnown: boolean;
  readonly messages: readonly (readonly Token[])[];
}

// Noise revision 34, sections 7.5 (XX, IK) and 9.4 (XXpsk3).
const PATTERNS: Readonly<Record<PatternName, Pattern>> = Object.freeze({
  XX: { responderStaticKnown: false, messages: [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']] },
  XXpsk3: {
    responderStaticKnown: false,
    messages: [['e'], ['e', 'ee', 's', 'es'], ['s', 'se', 'psk']],
  },
  IK: {
    responderStaticKnown: true,
    messages: [
      ['e', 'es', 's', 'ss'],
      ['e', 'ee', 'se'],
    ],
  },
});

/** The full Noise protocol name of a pattern, hashed first into every transcript. */
export function protocolName(pattern: PatternName): string {
  return `Noise_${pattern}_25519_ChaChaPoly_SHA256`;
}

/** Everything a handshake needs; all secrets are chosen by the caller. */
export interface HandshakeOptions {
  readonly pattern: PatternName;
  readonly initiator: boolean;
  /** Bytes both sides must agree on; certsync puts both hellos here (see prologue.ts). */
  readonly prologue: Uint8Array;
  /** This side's long-term X25519 secret key. */
  readonly staticSecret: Uint8Array;
  /**
   * Its public key, when the caller has it at hand (saves one scalar multiplication). It
   * must belong to `staticSecret`; a wrong one only makes the handshake fail.
   */
  readonly staticPublic?: Uint8Array;
  /** A fresh X25519 secret key, never used twice. */
  readonly ephemeralSecret: Uint8Array;
  /** `IK` initiator only: the responder's static public key, as stored at pairing. */
  readonly remoteStatic?: Uint8Array;
  /** `XXpsk3` only: the 32-byte pre-shared key derived from the pairing secret. */
  readonly psk?: Uint8Array;
}

function checkKey(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== KEY_LENGTH) {
    throw new TypeError(`expected ${what} of 32 bytes, got ${describe(value)}`);
  }
  return value;
}

function fail(message: string): CertsyncError {
  return new CertsyncError('handshake-failed', message);
}

/** One side of one handshake. Use once: write and read messages in the pattern's order. */
export class HandshakeState {
  readonly pattern: PatternName;
  readonly initiator: boolean;
  readonly #symmetric: SymmetricState;
  readonly #pattern: Pattern;
  readonly #s: Uint8Array;
  readonly #sPublic: Uint8Array;
  readonly #e: Uint8Array;
  readonly #ePublic: Uint8Array;
  readonly #psk: Uint8Array | null;
  #rs: Uint8Array | null;
  #re: Uint8Array | null = null;
  #step = 0;

  /**
   * @throws TypeError when a key has the wrong length, or a key the pattern needs is missing
   */
  constructor(options: HandshakeOptions) {
    const pattern = PATTERNS[options.pattern];
    if (pattern === undefined) {
      throw new TypeError(`expected pattern XX, XXpsk3 or IK, got ${String(options.pattern)}`);
    }
    this.pattern = options.pattern;
    this.#pattern = pattern;
    this.initiator = options.initiator;
    this.#s = checkKey(options.staticSecret, 'a static secret key');
    this.#sPublic =
      options.staticPublic === undefined
        ? publicKeyOf(this.#s)
        : checkKey(options.staticPublic, 'a static public key');
    this.#e = checkKey(options.ephemeralSecret, 'an ephemeral secret key');
    this.#ePublic = publicKeyOf(this.#e);
    const usesPsk = options.pattern === 'XXpsk3';
    this.#psk = usesPsk ? checkKey(options.psk, 'a pre-shared key') : null;
    this.#rs = null;
    if (pattern.responderStaticKnown && options.initiator) {
      this.#rs = checkKey(options.remoteStatic, "the responder's static public key");
    }

    this.#symmetric = new SymmetricState(protocolName(options.pattern));
    this.#symmetric.mixHash(options.prologue);
    if (pattern.responderStaticKnown) {
      this.#symmetric.mixHash(options.initiator ? (this.#rs as Uint8Array) : this.#sPublic);
    }
  }

  /** True once every message of the pattern was written or read. */
  get isComplete(): boolean {
    return this.#step === this.#pattern.messages.length;
  }

  /** True when the next message is this side's to write. */
  get isMyTurn(): boolean {
    return !this.isComplete && this.#step % 2 === (this.initiator ? 0 : 1);
  }

  /** The peer's static public key once it is known (read, or given for `IK`). */
  get remoteStatic(): Uint8Array | null {
    return this.#rs === null ? null : this.#rs.slice();
  }

  /** The transcript hash so far; after completion, unique to this session (section 11.2). */
  get handshakeHash(): Uint8Array {
    return this.#symmetric.handshakeHash;
  }

  /**
   * Writes the next handshake message carrying `payload` (encrypted once a key exists).
   * @throws TypeError when it is not this side's turn or the message would exceed 65535 bytes
   */
  writeMessage(payload: Uint8Array): Uint8Array {
    if (!this.isMyTurn) throw new TypeError('expected to read a handshake message, got a write');
    const parts: Uint8Array[] = [];
    for (const token of this.#tokens()) {
      if (token === 'e') {
        parts.push(this.#ePublic);
        this.#symmetric.mixHash(this.#ePublic);
        if (this.#psk !== null) this.#symmetric.mixKey(this.#ePublic);
      } else if (token === 's') {
        parts.push(this.#symmetric.encryptAndHash(this.#sPublic));
      } else {
        this.#mixToken(token);
      }
    }
    parts.push(this.#symmetric.encryptAndHash(payload));
    this.#step++;
    const message = concat(parts);
    if (message.length > MAX_NOISE_MESSAGE) {
      throw new TypeError(`expected a handshake message of at most 65535 bytes, got more`);
    }
    return message;
  }

  /**
   * Reads the peer's next handshake message and returns its payload.
   * @throws CertsyncError `handshake-failed` when the message is short, does not verify, or
   *   carries a low-order key; `frame-too-large` when it exceeds 65535 bytes
   * @throws TypeError when it is not the peer's turn
   */
  readMessage(message: Uint8Array): Uint8Array {
    if (this.isComplete || this.isMyTurn) {
      throw new TypeError('expected to write a handshake message, got a read');
    }
    if (message.length > MAX_NOISE_MESSAGE) {
      throw new CertsyncError('frame-too-large', `handshake message of ${message.length} bytes`);
    }
    let at = 0;
    const take = (n: number): Uint8Array => {
      if (message.length - at < n) throw fail('handshake message is truncated');
      const part = message.subarray(at, at + n);
      at += n;
      return part;
    };
    for (const token of this.#tokens()) {
      if (token === 'e') {
        this.#re = take(KEY_LENGTH).slice();
        this.#symmetric.mixHash(this.#re);
        if (this.#psk !== null) this.#symmetric.mixKey(this.#re);
      } else if (token === 's') {
        const length = KEY_LENGTH + (this.#symmetric.cipher.hasKey() ? TAG_LENGTH : 0);
        const rs = this.#symmetric.decryptAndHash(take(length));
        if (rs === null) throw fail("the peer's static key does not verify");
        this.#rs = rs.slice();
      } else {
        this.#mixToken(token);
      }
    }
    const payload = this.#symmetric.decryptAndHash(message.subarray(at));
    if (payload === null) throw fail('handshake payload does not verify (transcripts differ)');
    this.#step++;
    return payload;
  }

  /**
   * The two transport ciphers, once the handshake is complete.
   * @throws TypeError before completion
   */
  split(): { send: CipherState; receive: CipherState } {
    if (!this.isComplete) throw new TypeError('expected a complete handshake, got one in progress');
    const [c1, c2] = this.#symmetric.split();
    return this.initiator ? { send: c1, receive: c2 } : { send: c2, receive: c1 };
  }

  #tokens(): readonly Token[] {
    return this.#pattern.messages[this.#step] ?? [];
  }

  /** The DH tokens and `psk` (section 5.3): the same on both sides, mirrored by role. */
  #mixToken(token: Exclude<Token, 'e' | 's'>): void {
    if (token === 'psk') {
      this.#symmetric.mixKeyAndHash(this.#psk as Uint8Array);
      return;
    }
    // The first letter names the initiator's key, the second the responder's.
    const local = token[this.initiator ? 0 : 1];
    const remote = token[this.initiator ? 1 : 0];
    const secret = local === 'e' ? this.#e : this.#s;
    const peer = remote === 'e' ? this.#re : this.#rs;
    if (peer === null) {
      throw fail(`the peer's ${remote === 'e' ? 'ephemeral' : 'static'} key is not known yet`);
    }
    const shared = dh(secret, peer);
    if (shared === null) throw fail('the peer sent a low-order public key');
    this.#symmetric.mixKey(shared);
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
