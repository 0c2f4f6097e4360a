/**
 * The transport phase of a certsync session (spec/session.md, "Records"): every frame on the
 * link is one Noise transport message carrying one record, `type (1 byte) || body`, sealed
 * with ChaCha20-Poly1305 under the direction's key and its message counter as nonce.
 *
 * Because the nonce is implicit, a replayed, reordered, dropped, truncated or altered frame
 * fails to decrypt, and the session ends with `decrypt-failed`. Both directions rotate their
 * key (Noise REKEY) after a bounded number of records or bytes; both sides count the same
 * frames, so they rotate at the same record without any message saying so.
 */
import { CertsyncError } from '../errors.ts';
import { MAX_NOISE_MESSAGE, TAG_LENGTH } from './noise.ts';
import type { CipherState } from './noise.ts';

/** Record types inside a sealed frame. */
export const RECORD = Object.freeze({
  /** Application bytes: one frame of the session protocol. */
  data: 0,
  /** The sender ends the session cleanly; nothing follows. */
  close: 1,
  /** Pairing: reveals the responder's committed nonce (see pairing.ts). */
  pairReveal: 2,
  /** Pairing: the user's verdict on the code, 1 = confirmed, 0 = rejected. */
  pairVerdict: 3,
} as const);

/** A record type. */
export type RecordType = (typeof RECORD)[keyof typeof RECORD];

/** Bytes a record adds to its body on the wire: the type byte and the tag. */
export const RECORD_OVERHEAD = 1 + TAG_LENGTH;

/** When each direction's key rotates: after `records` frames or `bytes` frame bytes. */
export interface RekeyBound {
  readonly records: number;
  readonly bytes: number;
}

/** The protocol's rotation bound (spec/session.md, "Rekeying"). */
export const DEFAULT_REKEY: RekeyBound = Object.freeze({ records: 4096, bytes: 16 * 1024 * 1024 });

/** A decrypted record. */
export interface SessionRecord {
  readonly type: RecordType;
  readonly body: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/** Counts one direction's traffic and rotates its key at the bound. */
class Direction {
  #records = 0;
  #bytes = 0;
  #rotations = 0;

  constructor(
    readonly cipher: CipherState,
    readonly bound: RekeyBound,
  ) {}

  get rotations(): number {
    return this.#rotations;
  }

  /** Called after each frame, sealed or opened: rotate once the bound is reached. */
  count(frameLength: number): void {
    this.#records++;
    this.#bytes += frameLength;
    if (this.#records >= this.bound.records || this.#bytes >= this.bound.bytes) {
      this.cipher.rekey();
      this.#records = 0;
      this.#bytes = 0;
      this.#rotations++;
    }
  }
}

/**
 * Seals outgoing records and opens incoming ones for one established session. After any
 * failure to open, the instance refuses all further frames: a session never recovers.
 */
export class TransportCipher {
  readonly #send: Direction;
  readonly #receive: Direction;
  readonly #maxFrame: number;
  #broken = false;

  /**
   * @param maxFrame the largest frame the link carries (at most 65535, Noise's limit)
   * @param bound when keys rotate; both sides must use the same (tests pass small ones)
   * @throws RangeError when `maxFrame` leaves no room for a record or a bound is not positive
   */
  constructor(
    ciphers: { send: CipherState; receive: CipherState },
    maxFrame: number,
    bound: RekeyBound = DEFAULT_REKEY,
  ) {
    if (!Number.isInteger(maxFrame) || maxFrame <= RECORD_OVERHEAD) {
      throw new RangeError(`expected a frame size above ${RECORD_OVERHEAD}, got ${maxFrame}`);
    }
    if (!(bound.records >= 1 && bound.bytes >= 1)) {
      throw new RangeError(`expected a positive rekey bound, got ${JSON.stringify(bound)}`);
    }
    this.#maxFrame = Math.min(maxFrame, MAX_NOISE_MESSAGE);
    this.#send = new Direction(ciphers.send, bound);
    this.#receive = new Direction(ciphers.receive, bound);
  }

  /** The largest record body that fits one frame. */
  get maxBody(): number {
    return this.#maxFrame - RECORD_OVERHEAD;
  }

  /** How many times each direction's key has rotated so far. */
  get rotations(): { send: number; receive: number } {
    return { send: this.#send.rotations, receive: this.#receive.rotations };
  }

  /**
   * Seals one record into one frame.
   * @throws RangeError when the body is larger than {@link maxBody}
   */
  seal(type: RecordType, body: Uint8Array = EMPTY): Uint8Array {
    if (body.length > this.maxBody) {
      throw new RangeError(
        `expected a record body of at most ${this.maxBody} bytes, got ${body.length}`,
      );
    }
    const plaintext = new Uint8Array(1 + body.length);
    plaintext[0] = type;
    plaintext.set(body, 1);
    const frame = this.#send.cipher.encryptWithAd(EMPTY, plaintext);
    this.#send.count(frame.length);
    return frame;
  }

  /**
   * Opens one frame from the peer.
   * @throws CertsyncError `frame-too-large` over the frame bound; `decrypt-failed` when the
   *   frame was altered, truncated, replayed, reordered, or follows an earlier failure;
   *   `malformed-message` for an unknown record type
   */
  open(frame: Uint8Array): SessionRecord {
    if (this.#broken) throw new CertsyncError('decrypt-failed', 'the session already failed');
    if (frame.length > this.#maxFrame) {
      this.#broken = true;
      throw new CertsyncError('frame-too-large', `a frame of ${frame.length} bytes`);
    }
    const plaintext = this.#receive.cipher.decryptWithAd(EMPTY, frame);
    if (plaintext === null || plaintext.length < 1) {
      this.#broken = true;
      const n = this.#receive.cipher.nonce;
      throw new CertsyncError('decrypt-failed', `frame ${n} was altered, replayed or reordered`);
    }
    this.#receive.count(frame.length);
    const type = plaintext[0] as number;
    if (type > RECORD.pairVerdict) {
      this.#broken = true;
      throw new CertsyncError('malformed-message', `unknown record type ${type}`);
    }
    return { type: type as RecordType, body: plaintext.subarray(1) };
  }
}
