/**
 * SecureLink: runs certsync's handshake over a {@link Link} and returns a {@link Link} that
 * carries the encrypted, mutually authenticated session (spec/session.md).
 *
 * The initiator calls {@link connectSecure} with what it wants (a session with a paired peer,
 * or a pairing); the responder calls {@link acceptSecure}, saying whether it accepts a pairing
 * now. Both sides first exchange their hellos in the clear and pass the exact frames as
 * `hellos`: they are bound into the prologue, so a relay that altered a version list or a
 * capability makes the handshake fail (spec/session.md, "Prologue").
 */
import { CertsyncError, isCertsyncError } from '../../protocol/errors.ts';
import type { ErrorCode } from '../../protocol/errors.ts';
import { identityFingerprint } from '../../protocol/secure/fingerprint.ts';
import {
  decodeHandshakeFrame,
  encodeAbortFrame,
  encodeHandshakeFrame,
  isPairingMode,
  patternOf,
} from '../../protocol/secure/frames.ts';
import type { HandshakeMode } from '../../protocol/secure/frames.ts';
import { HandshakeState } from '../../protocol/secure/handshake.ts';
import {
  PAIRING_NONCE_LENGTH,
  checkReveal,
  commitToNonce,
  pairingCode,
  pskFromPairingSecret,
} from '../../protocol/secure/pairing.ts';
import { buildPrologue } from '../../protocol/secure/prologue.ts';
import type { PrologueInput } from '../../protocol/secure/prologue.ts';
import { RECORD, TransportCipher } from '../../protocol/secure/transport.ts';
import type { RekeyBound, SessionRecord } from '../../protocol/secure/transport.ts';
import { silentLogger } from '../../transports/link.ts';
import type { Link, Logger } from '../../transports/link.ts';
import { systemRandom } from './identity.ts';
import type { Identity, RandomSource } from './identity.ts';
import { sameIdentityKey } from './peer-book.ts';
import type { PeerBook, PeerRecord } from './peer-book.ts';
import { SecureSessionLink } from './secure-session-link.ts';
import type { SecureSession } from './secure-session-link.ts';

export type { SecureSession } from './secure-session-link.ts';

/**
 * Shows the six-digit code to the user with the peer's fingerprint and resolves with the
 * user's answer: true only when the code on the other screen is the same.
 */
export type ConfirmCode = (code: string, peerFingerprint: string) => Promise<boolean>;

/** What both sides pass. */
export interface SecureLinkOptions {
  readonly link: Link;
  readonly identity: Identity;
  readonly peers: PeerBook;
  /**
   * The hello frames exchanged in the clear before the handshake, bound into its prologue
   * (spec/session.md, "Prologue"). Absent: nothing was sent before the handshake.
   */
  readonly hellos?: PrologueInput;
  /** Ephemeral keys and pairing nonces come from here; the system's randomness by default. */
  readonly random?: RandomSource;
  /** Rekey bound; both sides must use the same. Tests pass small ones. */
  readonly rekey?: RekeyBound;
  /** Time of a pairing, in ms since 1970; `Date.now` by default. */
  readonly now?: () => number;
  readonly logger?: Logger;
}

/** What the initiator wants from this connection. */
export type InitiatorIntent =
  /** A session with a paired peer; `peer` names the one expected (then IK is tried first). */
  | { readonly kind: 'session'; readonly peer?: string }
  /** Pairing by numeric comparison; the new peer is stored as `name` once both confirm. */
  | { readonly kind: 'pair'; readonly name: string; readonly confirm: ConfirmCode }
  /** Pairing with a one-time secret given to both sides. */
  | { readonly kind: 'pair-secret'; readonly name: string; readonly secret: string };

/** Whether, and how, a responder accepts a pairing on this connection. */
export type ResponderPairing =
  | { readonly kind: 'pair'; readonly name: string; readonly confirm: ConfirmCode }
  | { readonly kind: 'pair-secret'; readonly name: string; readonly secret: string };

const EMPTY = new Uint8Array(0);

/** One side's handshake over one link: frame I/O, refusal and the shared pairing steps. */
class Handshaker {
  readonly link: Link;
  readonly identity: Identity;
  readonly peers: PeerBook;
  readonly prologue: Uint8Array;
  readonly random: RandomSource;
  readonly rekey: RekeyBound | undefined;
  readonly now: () => number;
  readonly log: Logger;
  /** Set when the peer told us why it ends the session: we do not answer an abort. */
  peerAborted = false;

  constructor(options: SecureLinkOptions) {
    this.link = options.link;
    this.identity = options.identity;
    this.peers = options.peers;
    this.prologue = buildPrologue(
      options.hellos ?? { initiatorHello: EMPTY, responderHello: EMPTY },
    );
    this.random = options.random ?? systemRandom;
    this.rekey = options.rekey;
    this.now = options.now ?? Date.now;
    this.log = options.logger ?? silentLogger;
  }

  handshake(mode: HandshakeMode, initiator: boolean, extra: Partial<HandshakeInit> = {}) {
    return new HandshakeState({
      pattern: patternOf(mode),
      initiator,
      prologue: this.prologue,
      staticSecret: this.identity.x25519SecretKey,
      staticPublic: this.identity.x25519PublicKey,
      ephemeralSecret: this.random(32),
      ...extra,
    });
  }

  async send(mode: HandshakeMode, message: Uint8Array): Promise<void> {
    await this.link.send(encodeHandshakeFrame(mode, message));
  }

  /** The next handshake frame; an abort from the peer becomes its error. */
  async receive(): Promise<{ mode: HandshakeMode; message: Uint8Array }> {
    const frame = await this.link.receive();
    if (frame === null) {
      throw new CertsyncError('link-closed', 'the peer closed the link during the handshake');
    }
    const decoded = decodeHandshakeFrame(frame);
    if (decoded.kind === 'abort') throw this.aborted(decoded.code);
    return decoded;
  }

  /** Reads one handshake frame of the given mode and lets `state` read its message. */
  async read(state: HandshakeState, mode: HandshakeMode): Promise<Uint8Array> {
    const next = await this.receive();
    if (next.mode !== mode) {
      throw new CertsyncError('unexpected-message', `a ${next.mode} frame in a ${mode} handshake`);
    }
    return state.readMessage(next.message);
  }

  aborted(code: ErrorCode): CertsyncError {
    this.peerAborted = true;
    return new CertsyncError(code, `the peer ended the handshake: ${code}`);
  }

  /** Opens the first records after the handshake; the peer may still send a plain abort. */
  async receiveRecord(transport: TransportCipher): Promise<SessionRecord> {
    const frame = await this.link.receive();
    if (frame === null) throw new CertsyncError('link-closed', 'the peer closed the link');
    try {
      return transport.open(frame);
    } catch (error) {
      let abort: ReturnType<typeof decodeHandshakeFrame> | undefined;
      try {
        abort = decodeHandshakeFrame(frame);
      } catch {
        throw error;
      }
      if (abort.kind === 'abort') throw this.aborted(abort.code);
      throw error;
    }
  }

  /**
   * The user-visible part of a pairing, after the handshake: reveal and compare the code
   * (or, with a secret, confirm the key), exchange verdicts, store the peer if both agree.
   */
  async pair(
    transport: TransportCipher,
    state: HandshakeState,
    request: ResponderPairing,
    nonces: { initiator?: Uint8Array; responder?: Uint8Array; commitment?: Uint8Array },
  ): Promise<PeerRecord> {
    const remote = state.remoteStatic as Uint8Array;
    const fingerprint = identityFingerprint(remote);
    let accepted = true;
    if (request.kind === 'pair') {
      let responderNonce = nonces.responder;
      if (state.initiator) {
        const reveal = await this.receiveRecord(transport);
        if (reveal.type !== RECORD.pairReveal) {
          throw new CertsyncError('unexpected-message', 'expected the pairing nonce');
        }
        checkReveal(nonces.commitment as Uint8Array, reveal.body);
        responderNonce = reveal.body.slice();
      } else {
        await this.link.send(transport.seal(RECORD.pairReveal, responderNonce));
      }
      const code = pairingCode(
        state.handshakeHash,
        nonces.initiator as Uint8Array,
        responderNonce as Uint8Array,
      );
      this.log.info(`pairing code ${code} for peer ${fingerprint}`);
      accepted = (await request.confirm(code, fingerprint)) === true;
    }

    const holder = this.peers.findByName(request.name);
    const clash = holder !== undefined && !sameIdentityKey(holder.publicKey, remote);
    await this.link.send(
      transport.seal(RECORD.pairVerdict, Uint8Array.of(accepted && !clash ? 1 : 0)),
    );
    const verdict = await this.receiveRecord(transport);
    if (verdict.type !== RECORD.pairVerdict || verdict.body.length !== 1) {
      throw new CertsyncError('unexpected-message', 'expected the peer’s pairing verdict');
    }
    if (clash) {
      throw new CertsyncError(
        'peer-key-mismatch',
        `the name '${request.name}' belongs to another paired key; remove it or pick another name`,
      );
    }
    if (!accepted || verdict.body[0] !== 1) {
      throw new CertsyncError('pairing-rejected', `pairing with ${fingerprint} was not confirmed`);
    }
    const record: PeerRecord = { name: request.name, publicKey: remote, pairedAt: this.now() };
    this.peers.add(record);
    return record;
  }

  transport(state: HandshakeState): TransportCipher {
    return new TransportCipher(state.split(), this.link.maxFrameSize, this.rekey);
  }

  /** Ends a failed handshake: tells the peer why (unless it told us), closes the link. */
  async fail(error: unknown): Promise<never> {
    if (isCertsyncError(error) && !this.peerAborted) {
      await this.link.send(encodeAbortFrame(error.code)).catch(() => undefined);
    }
    this.log.warn(`handshake failed: ${error instanceof Error ? error.message : String(error)}`);
    await this.link.close().catch(() => undefined);
    throw error;
  }
}

type HandshakeInit = { remoteStatic: Uint8Array; psk: Uint8Array };

function paired(peers: PeerBook, key: Uint8Array): PeerRecord {
  const peer = peers.findByKey(key);
  if (peer) return peer;
  throw new CertsyncError(
    'not-paired',
    `peer ${identityFingerprint(key)} is not paired; only pairing is allowed`,
  );
}

function expectEmpty(payload: Uint8Array): void {
  if (payload.length !== 0) {
    throw new CertsyncError('handshake-failed', 'a handshake payload must be empty here');
  }
}

/**
 * Opens a session as the initiator (the side that connected).
 *
 * A session with a named peer tries `IK` first; if the responder cannot open it, one `XX`
 * follows on the same link and the responder's key is compared with the stored one.
 *
 * @throws CertsyncError `not-found` (no peer of that name), `not-paired` (the responder is not
 *   paired, or does not know us), `peer-key-mismatch` (the named peer presented another key),
 *   `handshake-failed` (tampering, a downgraded hello, a wrong pairing secret),
 *   `pairing-rejected`, `link-closed`; LinkError when the link fails. The link is closed.
 */
export async function connectSecure(
  options: SecureLinkOptions & { readonly intent: InitiatorIntent },
): Promise<SecureSession> {
  const hs = new Handshaker(options);
  const intent = options.intent;
  try {
    if (intent.kind === 'session') {
      const expected =
        intent.peer === undefined ? undefined : options.peers.findByName(intent.peer);
      if (intent.peer !== undefined && expected === undefined) {
        throw new CertsyncError('not-found', `no paired peer named '${intent.peer}'`);
      }
      if (expected !== undefined) {
        const state = hs.handshake('session-ik', true, { remoteStatic: expected.publicKey });
        await hs.send('session-ik', state.writeMessage(EMPTY));
        const first = await hs.receive().catch((error: unknown) => {
          // The responder could not open our IK message (new key, or tampering): try XX.
          if (isCertsyncError(error) && error.code === 'handshake-failed' && hs.peerAborted) {
            hs.peerAborted = false;
            return null;
          }
          throw error;
        });
        if (first !== null) {
          if (first.mode !== 'session-ik') {
            throw new CertsyncError('unexpected-message', `a ${first.mode} frame answered IK`);
          }
          expectEmpty(state.readMessage(first.message));
          return new SecureSessionLink(hs.link, hs.transport(state), expected, {
            mode: 'session-ik',
            handshakeHash: state.handshakeHash,
            newlyPaired: false,
            logger: hs.log,
          });
        }
      }
      const state = hs.handshake('session-xx', true);
      await hs.send('session-xx', state.writeMessage(EMPTY));
      expectEmpty(await hs.read(state, 'session-xx'));
      const remote = state.remoteStatic as Uint8Array;
      if (expected !== undefined && !sameIdentityKey(expected.publicKey, remote)) {
        throw new CertsyncError(
          'peer-key-mismatch',
          `peer '${expected.name}' presented key ${identityFingerprint(remote)}, ` +
            `not its paired key ${identityFingerprint(expected.publicKey)}`,
        );
      }
      const peer = paired(options.peers, remote);
      await hs.send('session-xx', state.writeMessage(EMPTY));
      return new SecureSessionLink(hs.link, hs.transport(state), peer, {
        mode: 'session-xx',
        handshakeHash: state.handshakeHash,
        newlyPaired: false,
        logger: hs.log,
      });
    }

    const mode: HandshakeMode = intent.kind;
    const psk = intent.kind === 'pair-secret' ? pskFromPairingSecret(intent.secret) : undefined;
    const state = hs.handshake(mode, true, psk ? { psk } : {});
    await hs.send(mode, state.writeMessage(EMPTY));
    const commitment = await hs.read(state, mode);
    const initiatorNonce = mode === 'pair' ? hs.random(PAIRING_NONCE_LENGTH) : undefined;
    if (mode === 'pair' && commitment.length !== PAIRING_NONCE_LENGTH) {
      throw new CertsyncError('handshake-failed', 'the pairing commitment is malformed');
    }
    if (mode === 'pair-secret') expectEmpty(commitment);
    await hs.send(mode, state.writeMessage(initiatorNonce ?? EMPTY));
    const transport = hs.transport(state);
    const peer = await hs.pair(transport, state, intent, { initiator: initiatorNonce, commitment });
    return new SecureSessionLink(hs.link, transport, peer, {
      mode,
      handshakeHash: state.handshakeHash,
      newlyPaired: true,
      logger: hs.log,
    });
  } catch (error) {
    return hs.fail(error);
  }
}

/**
 * Opens a session as the responder (the side that waited). Paired peers get a session;
 * an unpaired peer only gets to pair, and only when `pairing` says so.
 *
 * @throws CertsyncError `not-paired`, `pairing-rejected` (a pairing not accepted now, or not
 *   confirmed), `handshake-failed`, `peer-key-mismatch`, `link-closed`, `unexpected-message`;
 *   LinkError when the link fails. The link is closed.
 */
export async function acceptSecure(
  options: SecureLinkOptions & { readonly pairing?: ResponderPairing },
): Promise<SecureSession> {
  const hs = new Handshaker(options);
  try {
    let first = await hs.receive();
    if (first.mode === 'session-ik') {
      const state = hs.handshake('session-ik', false);
      let payload: Uint8Array | null = null;
      try {
        payload = state.readMessage(first.message);
      } catch (error) {
        if (!isCertsyncError(error) || error.code !== 'handshake-failed') throw error;
        // Tell the initiator, and give it one XX attempt to find out who we are.
        await hs.link.send(encodeAbortFrame('handshake-failed'));
        first = await hs.receive();
        if (first.mode !== 'session-xx') {
          throw new CertsyncError('unexpected-message', `a ${first.mode} frame after IK failed`);
        }
      }
      if (payload !== null) {
        expectEmpty(payload);
        const peer = paired(options.peers, state.remoteStatic as Uint8Array);
        await hs.send('session-ik', state.writeMessage(EMPTY));
        return new SecureSessionLink(hs.link, hs.transport(state), peer, {
          mode: 'session-ik',
          handshakeHash: state.handshakeHash,
          newlyPaired: false,
          logger: hs.log,
        });
      }
    }

    const mode = first.mode;
    const pairing = options.pairing;
    if (isPairingMode(mode) && (pairing === undefined || pairing.kind !== mode)) {
      throw new CertsyncError('pairing-rejected', `this side does not accept a ${mode} now`);
    }
    const psk = pairing?.kind === 'pair-secret' ? pskFromPairingSecret(pairing.secret) : undefined;
    const state = hs.handshake(mode, false, mode === 'pair-secret' && psk ? { psk } : {});
    expectEmpty(state.readMessage(first.message));
    const responderNonce = mode === 'pair' ? hs.random(PAIRING_NONCE_LENGTH) : undefined;
    await hs.send(mode, state.writeMessage(responderNonce ? commitToNonce(responderNonce) : EMPTY));
    const third = await hs.read(state, mode);
    const remote = state.remoteStatic as Uint8Array;
    const transport = hs.transport(state);

    if (mode === 'session-xx') {
      expectEmpty(third);
      const peer = paired(options.peers, remote);
      return new SecureSessionLink(hs.link, transport, peer, {
        mode,
        handshakeHash: state.handshakeHash,
        newlyPaired: false,
        logger: hs.log,
      });
    }
    if (mode === 'pair' && third.length !== PAIRING_NONCE_LENGTH) {
      throw new CertsyncError('handshake-failed', "the initiator's pairing nonce is malformed");
    }
    if (mode === 'pair-secret') expectEmpty(third);
    const peer = await hs.pair(transport, state, pairing as ResponderPairing, {
      initiator: mode === 'pair' ? third.slice() : undefined,
      responder: responderNonce,
    });
    return new SecureSessionLink(hs.link, transport, peer, {
      mode,
      handshakeHash: state.handshakeHash,
      newlyPaired: true,
      logger: hs.log,
    });
  } catch (error) {
    return hs.fail(error);
  }
}
