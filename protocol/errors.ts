/**
 * The one error type of certsync's protocol and store layers.
 *
 * Every failure that a peer, a file or a user can cause is a {@link CertsyncError} whose
 * `code` comes from the closed set {@link ERROR_CODES}. The same strings are sent on the
 * wire in `error` messages (spec/protocol.md, "Error codes") and select the CLI's exit
 * status through {@link exitStatusFor}. Caller mistakes (a wrong argument type in code
 * that uses the library) stay `TypeError` / `RangeError`.
 */

/** Stable error codes, grouped by where they arise. Never renumber or rename one. */
export const ERROR_CODES = {
  // Input from files, users and peers.
  'bad-input': 'malformed or unreadable input',
  'bad-certificate': 'not a well-formed X.509 certificate',
  'bad-crl': 'not a well-formed certificate revocation list',
  'bad-mail': 'not a signed S/MIME message, or its signature carries no certificates',
  'not-found': 'no such certificate, CRL, contact or peer',
  // Store.
  'store-unreadable': 'the store file cannot be opened or is not a certsync store',
  'store-locked': 'another process holds the store',
  'store-too-new': 'the store was written by a newer schema',
  'store-full': 'the store is at capacity and its policy refuses new certificates',
  'overflow-alert': 'the store is at capacity; a victim must be chosen or the transfer aborted',
  // Wire protocol.
  'frame-too-large': 'a frame or message is over the size limit',
  'limit-exceeded': 'a message is over a count, depth or length limit',
  'malformed-message': 'a message does not decode or does not match its schema',
  'unknown-message': 'a message type this version does not know and must not ignore',
  'unexpected-message': 'a message is not allowed in the current session state',
  'no-common-version': 'the two sides share no protocol version',
  'sketch-undecodable': 'a reconciliation sketch could not be decoded within its budget',
  // Session security.
  'handshake-failed': 'the handshake did not complete or did not verify',
  'not-paired': 'the peer is not paired; only pairing is allowed',
  'peer-key-mismatch': 'a paired peer presented a different identity key',
  'decrypt-failed': 'a frame was altered, replayed or reordered',
  'pairing-rejected': 'the pairing code was not confirmed',
  // Links and sessions.
  'link-closed': 'the link closed before the session ended',
  'link-error': 'the link failed',
  timeout: 'the peer did not answer in time',
  aborted: 'the user or the peer aborted',
  // Validity.
  'invalid-certificate': 'the certificate did not pass validation',
  internal: 'an internal error; please report it',
  // Session security, added later (appended so that earlier exit statuses stay).
  'private-key-refused':
    'a private key is sent only to a paired peer, in the encrypted session, on request for it',
} as const;

/** A stable error code from the closed set. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Brand so that errors from another copy of this module are still recognised. */
const BRAND = Symbol.for('certsync.error');

/** A protocol or store failure with a stable code; `cause` keeps the underlying error. */
export class CertsyncError extends Error {
  readonly code: ErrorCode;
  readonly [BRAND] = true;

  /**
   * @param code one of {@link ERROR_CODES}
   * @param message a sentence for a person: names the item and what was wrong with it
   * @param options `cause`: the error this one translates, if any
   */
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CertsyncError';
    this.code = code;
  }
}

/** True for any {@link CertsyncError}, including one from another copy of this module. */
export function isCertsyncError(value: unknown): value is CertsyncError {
  return typeof value === 'object' && value !== null && BRAND in value;
}

/** True when `code` is a member of the closed set (used when reading codes off the wire). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/**
 * The CLI's exit status for an error code. 0 is success, 1 an unexpected failure, 2 a usage
 * mistake; every code gets its own status from 10 up, in the order of {@link ERROR_CODES}.
 */
export function exitStatusFor(code: ErrorCode): number {
  return 10 + Object.keys(ERROR_CODES).indexOf(code);
}
