/**
 * Frames to messages and back: the envelope (protocol/wire/envelope.ts) plus the catalog's
 * payload schemas. spec/protocol.md, "Envelope", "Unknown types", "Unknown fields".
 */

import { CertsyncError, isCertsyncError } from '../errors.ts';
import type { CborKey, CborValue } from '../wire/cbor.ts';
import { decodeEnvelope, encodeEnvelope, isIgnorableType } from '../wire/envelope.ts';
import type { WireLimits } from '../wire/limits.ts';
import {
  MESSAGES,
  RECONCILE_TYPES,
  messageNameOf,
  type Message,
  type MessageName,
} from './catalog.ts';
import type { RecordSchema } from './schema.ts';

/** What one received frame holds. */
export type Incoming =
  /** A message of the catalog, checked against its schema. */
  | { readonly kind: 'message'; readonly version: number; readonly message: Message }
  /** A reconciliation message: its payload is checked by the reconciliation engine. */
  | {
      readonly kind: 'reconcile';
      readonly version: number;
      readonly code: number;
      readonly payload: ReadonlyMap<CborKey, CborValue>;
    }
  /** An extension type this version does not know and may skip. */
  | { readonly kind: 'ignored'; readonly version: number; readonly code: number };

function schemaOf(name: MessageName): RecordSchema<unknown> {
  return MESSAGES[name].schema as RecordSchema<unknown>;
}

/**
 * Encodes one catalog message as a frame of protocol `version`.
 *
 * @throws CertsyncError `frame-too-large` when it does not fit `limits.maxFrameBytes`
 * @throws TypeError / RangeError when `message` does not match its own type (a caller bug)
 */
export function encodeMessage(version: number, message: Message, limits: WireLimits): Uint8Array {
  const def = MESSAGES[message.type];
  const payload = schemaOf(message.type).encode(message) as ReadonlyMap<CborKey, CborValue>;
  return encodeEnvelope({ version, type: def.code, payload }, limits);
}

/**
 * Encodes a reconciliation message (its payload built by the reconciliation engine).
 *
 * @throws RangeError when `code` is outside {@link RECONCILE_TYPES}
 * @throws CertsyncError `frame-too-large` when it does not fit
 */
export function encodeReconcile(
  version: number,
  code: number,
  payload: ReadonlyMap<CborKey, CborValue>,
  limits: WireLimits,
): Uint8Array {
  if (!Number.isInteger(code) || code < RECONCILE_TYPES.first || code > RECONCILE_TYPES.last) {
    throw new RangeError(
      `expected a reconciliation type ${RECONCILE_TYPES.first}..${RECONCILE_TYPES.last}, got ${code}`,
    );
  }
  return encodeEnvelope({ version, type: code, payload }, limits);
}

/**
 * Decodes one frame. Never throws anything but a {@link CertsyncError}, whatever the bytes.
 *
 * @throws CertsyncError `frame-too-large`, `limit-exceeded`, `malformed-message` (bad CBOR,
 *   bad envelope, payload not matching its schema, unknown must-understand field), or
 *   `unknown-message` (a type below the ignorable range that this version does not know)
 */
export function decodeFrame(frame: Uint8Array, limits: WireLimits): Incoming {
  try {
    const env = decodeEnvelope(frame, limits);
    if (env.type >= RECONCILE_TYPES.first && env.type <= RECONCILE_TYPES.last) {
      return { kind: 'reconcile', version: env.version, code: env.type, payload: env.payload };
    }
    const name = messageNameOf(env.type);
    if (name === undefined) {
      if (isIgnorableType(env.type))
        return { kind: 'ignored', version: env.version, code: env.type };
      throw new CertsyncError('unknown-message', `message type ${env.type} is not known`);
    }
    const fields = schemaOf(name).decode(env.payload, name) as Record<string, unknown>;
    return {
      kind: 'message',
      version: env.version,
      message: { ...fields, type: name } as Message,
    };
  } catch (err) {
    if (isCertsyncError(err)) throw err;
    // Defence in depth: the decoders throw only CertsyncError; anything else is our bug.
    throw new CertsyncError('internal', 'decoder failed unexpectedly', { cause: err });
  }
}
