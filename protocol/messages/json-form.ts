/**
 * The JSON form of decoded messages used by spec/vectors/ and conformance adapters: plain
 * JSON, with every byte string written as `{ "hex": "<lower-case hex>" }`.
 */

import { bytesOf, hexOf } from '../wire/hex.ts';

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * The JSON form of a decoded value (objects, arrays, numbers, strings, booleans, bytes).
 *
 * @throws TypeError for a value with no JSON form (undefined inside an array, a function)
 */
export function toJsonForm(value: unknown): Json {
  if (value instanceof Uint8Array) return { hex: hexOf(value) };
  if (Array.isArray(value)) return value.map(toJsonForm);
  if (value === null || ['boolean', 'number', 'string'].includes(typeof value)) {
    return value as Json;
  }
  if (typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJsonForm(v);
    return out;
  }
  throw new TypeError(`expected a value with a JSON form, got ${typeof value}`);
}

/** The decoded value of a JSON form: `{ "hex": ... }` objects become Uint8Arrays. */
export function fromJsonForm(json: Json): unknown {
  if (Array.isArray(json)) return json.map(fromJsonForm);
  if (json !== null && typeof json === 'object') {
    const keys = Object.keys(json);
    if (keys.length === 1 && keys[0] === 'hex' && typeof json.hex === 'string') {
      return bytesOf(json.hex);
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = fromJsonForm(json[k] as Json);
    return out;
  }
  return json;
}
