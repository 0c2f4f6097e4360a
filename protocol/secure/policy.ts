/**
 * The two authorisation rules of a session (spec/session.md, "Authorisation"), as pure checks
 * that the client calls before acting on a peer's request.
 *
 * 1. An unpaired peer can only pair. Its session may carry the session-control messages
 *    `hello`, `goodbye` and `error`, and nothing else: every read and every write of a store
 *    is refused with `not-paired`. The list is an allow-list, so a message type added later
 *    is refused to unpaired peers until someone decides otherwise.
 * 2. A private key (PKCS#8) leaves a client only inside the encrypted session, only to a
 *    paired peer, only when this side's setting allows it (off by default), and only as the
 *    answer to a request that names exactly that one key. A pull by filter ("all", "what I
 *    lack") or a request naming several keys never carries one. A receiver likewise accepts
 *    only the private key it asked for.
 */
import { CertsyncError } from '../errors.ts';

/** Whether the peer at the other end of a session is paired with this client. */
export type PeerStanding = 'paired' | 'unpaired';

/** Messages an unpaired peer may send: the session's own control messages. */
export const UNPAIRED_ALLOWED: readonly string[] = Object.freeze(['hello', 'goodbye', 'error']);

/**
 * Refuses any message but session control from an unpaired peer.
 * @param messageType the message's name in the catalog (spec/protocol.md, "Messages"), or
 *   any other label the caller gives a frame it could not name (always refused when unpaired)
 * @throws CertsyncError `not-paired` when the peer is not paired and the type is not allowed
 */
export function checkPeerMayRequest(standing: PeerStanding, messageType: string): void {
  if (standing === 'paired') return;
  if (UNPAIRED_ALLOWED.includes(messageType)) return;
  throw new CertsyncError(
    'not-paired',
    `an unpaired peer sent '${messageType}'; only pairing is allowed until the peer is paired`,
  );
}

/** What the sending side knows when asked for a private key. */
export interface PrivateKeyContext {
  /** True only when the request arrived inside an established encrypted session. */
  readonly encrypted: boolean;
  readonly standing: PeerStanding;
  /** This client's setting; off unless its user turned it on. */
  readonly exportAllowed: boolean;
}

/**
 * Decides whether the private key `keyId` may be sent in answer to a request.
 * @param requestedIds the ids the request named explicitly; `undefined` for a pull by filter
 * @throws CertsyncError `not-paired` for an unpaired peer; `private-key-refused` outside the
 *   encrypted session, with export off, or unless the request names exactly this one key
 */
export function checkPrivateKeyRelease(
  context: PrivateKeyContext,
  requestedIds: readonly string[] | undefined,
  keyId: string,
): void {
  if (context.standing !== 'paired') {
    throw new CertsyncError('not-paired', 'private keys are never sent to an unpaired peer');
  }
  if (!context.encrypted) {
    throw new CertsyncError('private-key-refused', 'private keys travel only in the session');
  }
  if (!context.exportAllowed) {
    throw new CertsyncError('private-key-refused', 'sending private keys is turned off here');
  }
  if (requestedIds === undefined || requestedIds.length !== 1 || requestedIds[0] !== keyId) {
    throw new CertsyncError(
      'private-key-refused',
      `private key ${keyId} is sent only on a request that names that one key`,
    );
  }
}

/**
 * Decides whether a received private key may be stored.
 * @param askedFor the one key id this side requested in this session, or `null`
 * @throws CertsyncError `private-key-refused` for a key that arrived unrequested or outside
 *   the encrypted session with a paired peer
 */
export function checkPrivateKeyAcceptance(
  context: Omit<PrivateKeyContext, 'exportAllowed'>,
  askedFor: string | null,
  keyId: string,
): void {
  if (!context.encrypted || context.standing !== 'paired' || askedFor !== keyId) {
    throw new CertsyncError(
      'private-key-refused',
      `private key ${keyId} arrived without being asked for in this session`,
    );
  }
}
