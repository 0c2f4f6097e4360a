/**
 * Small schema combinators for message payloads: each schema checks a decoded CBOR value
 * into a typed value, encodes it back, and names its own CDDL (spec/messages.cddl is
 * generated from them, so the spec and the checks cannot drift apart).
 *
 * Records are maps with small integer keys (spec/protocol.md, "Unknown fields"): an unknown
 * key that is zero or positive is ignored; an unknown negative key marks a field the sender
 * requires the receiver to understand, so the message is rejected.
 */

import { CertsyncError } from '../errors.ts';
import type { CborKey, CborValue } from '../wire/cbor.ts';

/** What a schema accepts, for generators and documentation. */
export type SchemaShape =
  | { readonly kind: 'uint'; readonly min: number; readonly max: number }
  | { readonly kind: 'int' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'bytes'; readonly min: number; readonly max: number }
  | { readonly kind: 'text'; readonly max: number; readonly oneOf?: readonly string[] }
  | { readonly kind: 'enum'; readonly values: Readonly<Record<string, number>> }
  | { readonly kind: 'array'; readonly of: Schema<unknown>; readonly max: number }
  | { readonly kind: 'tuple'; readonly of: readonly Schema<unknown>[] }
  | { readonly kind: 'nullable'; readonly of: Schema<unknown> }
  | {
      readonly kind: 'record';
      readonly name: string;
      readonly fields: readonly FieldInfo[];
      readonly check?: (value: never) => boolean;
    };

/** One field of a record, as generators and the CDDL writer see it. */
export interface FieldInfo {
  readonly prop: string;
  readonly key: number;
  readonly optional: boolean;
  readonly schema: Schema<unknown>;
  readonly doc: string;
}

/** A payload schema. `decode` throws only `CertsyncError('malformed-message')`. */
export interface Schema<T> {
  readonly shape: SchemaShape;
  /** The CDDL type expression (a rule name for records). */
  readonly cddl: string;
  decode(value: CborValue, path: string): T;
  encode(value: T): CborValue;
}

function malformed(path: string, expected: string, value: CborValue): never {
  const got =
    value instanceof Uint8Array
      ? `${value.length} bytes`
      : value instanceof Map
        ? 'a map'
        : Array.isArray(value)
          ? `an array of ${value.length}`
          : JSON.stringify(value);
  throw new CertsyncError('malformed-message', `${path}: expected ${expected}, got ${got}`);
}

/** An unsigned integer from `min` to `max` (at most 2^53 − 1). */
export function uint(max: number = Number.MAX_SAFE_INTEGER, min = 0): Schema<number> {
  return {
    shape: { kind: 'uint', min, max },
    cddl: max === Number.MAX_SAFE_INTEGER && min === 0 ? 'uint' : `${min}..${max}`,
    decode: (v, path) =>
      typeof v === 'number' && v >= min && v <= max ? v : malformed(path, `${min}..${max}`, v),
    encode: (v) => v,
  };
}

/** A signed integer within ±(2^53 − 1), such as a time that may precede 1970. */
export const int: Schema<number> = {
  shape: { kind: 'int' },
  cddl: 'int',
  decode: (v, path) => (typeof v === 'number' ? v : malformed(path, 'an integer', v)),
  encode: (v) => v,
};

/** true or false. */
export const bool: Schema<boolean> = {
  shape: { kind: 'bool' },
  cddl: 'bool',
  decode: (v, path) => (typeof v === 'boolean' ? v : malformed(path, 'a boolean', v)),
  encode: (v) => v,
};

/** A byte string of `min` to `max` bytes; the decoded value never aliases the frame. */
export function bytes(min: number, max: number): Schema<Uint8Array> {
  return {
    shape: { kind: 'bytes', min, max },
    cddl: min === max ? `bstr .size ${min}` : `bstr .size (${min}..${max})`,
    decode: (v, path) =>
      v instanceof Uint8Array && v.length >= min && v.length <= max
        ? v
        : malformed(path, `a byte string of ${min}..${max} bytes`, v),
    encode: (v) => v,
  };
}

/** A text string of at most `max` UTF-8 bytes. */
export function text(max: number): Schema<string> {
  return {
    shape: { kind: 'text', max },
    cddl: `tstr .size (0..${max})`,
    decode: (v, path) =>
      typeof v === 'string' && utf8Length(v) <= max
        ? v
        : malformed(path, `text of at most ${max} bytes`, v),
    encode: (v) => v,
  };
}

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

/** A name from a closed set, sent as its integer code; an unknown code is malformed. */
export function enumOf<N extends string>(
  values: Readonly<Record<N, number>>,
): Schema<N> & { readonly values: Readonly<Record<N, number>> } {
  const byCode = new Map<number, N>();
  for (const name of Object.keys(values) as N[]) byCode.set(values[name], name);
  const codes = [...byCode.keys()].sort((a, b) => a - b);
  return {
    values,
    shape: { kind: 'enum', values },
    cddl: codes.map((c) => `${c}`).join(' / '),
    decode: (v, path) => {
      const name = typeof v === 'number' ? byCode.get(v) : undefined;
      return name ?? malformed(path, `one of ${codes.join(', ')}`, v);
    },
    encode: (v) => values[v],
  };
}

/** An array of at most `max` elements of one schema. */
export function arrayOf<T>(of: Schema<T>, max: number): Schema<T[]> {
  return {
    shape: { kind: 'array', of: of as Schema<unknown>, max },
    cddl: `[0*${max} ${of.cddl}]`,
    decode: (v, path) => {
      if (!Array.isArray(v) || v.length > max) malformed(path, `an array of 0..${max}`, v);
      return (v as readonly CborValue[]).map((e, i) => of.decode(e, `${path}[${i}]`));
    },
    encode: (v) => v.map((e) => of.encode(e)),
  };
}

/** A fixed-length array whose elements have their own schemas. */
export function tuple<A, B>(a: Schema<A>, b: Schema<B>): Schema<[A, B]> {
  return {
    shape: { kind: 'tuple', of: [a, b] as Schema<unknown>[] },
    cddl: `[${a.cddl}, ${b.cddl}]`,
    decode: (v, path) => {
      if (!Array.isArray(v) || v.length !== 2) malformed(path, 'an array of 2', v);
      const [x, y] = v as readonly CborValue[];
      return [a.decode(x as CborValue, `${path}[0]`), b.decode(y as CborValue, `${path}[1]`)];
    },
    encode: ([x, y]) => [a.encode(x), b.encode(y)],
  };
}

/** A value of `of`, or null. */
export function nullable<T>(of: Schema<T>): Schema<T | null> {
  return {
    shape: { kind: 'nullable', of: of as Schema<unknown> },
    cddl: `${of.cddl} / null`,
    decode: (v, path) => (v === null ? null : of.decode(v, path)),
    encode: (v) => (v === null ? null : of.encode(v)),
  };
}

/** A field of a record: its map key, schema, whether it may be absent, and what it means. */
export interface Field<T, Optional extends boolean> {
  readonly key: number;
  readonly schema: Schema<T>;
  readonly optional: Optional;
  readonly doc: string;
}

/** A field that must be present. */
export function req<T>(key: number, schema: Schema<T>, doc: string): Field<T, false> {
  return { key, schema, optional: false, doc };
}

/** A field that may be absent. */
export function opt<T>(key: number, schema: Schema<T>, doc: string): Field<T, true> {
  return { key, schema, optional: true, doc };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- variance-free field bound
type AnyField = Field<any, boolean>;

/** The typed value of a record with fields `F`. */
export type RecordValue<F extends Record<string, AnyField>> = {
  -readonly [K in keyof F as F[K]['optional'] extends false ? K : never]: F[K] extends Field<
    infer T,
    boolean
  >
    ? T
    : never;
} & {
  -readonly [K in keyof F as F[K]['optional'] extends true ? K : never]?: F[K] extends Field<
    infer T,
    boolean
  >
    ? T
    : never;
};

/** A record schema with its fields, for the catalog and the CDDL writer. */
export interface RecordSchema<T> extends Schema<T> {
  readonly name: string;
  readonly fields: readonly FieldInfo[];
  /** A rule across fields that decoding also enforces, in words and as a check. */
  readonly rule?: { readonly doc: string; check(value: T): boolean };
}

/**
 * A map with integer keys, one per field. Output objects are built from the field list,
 * never from the input's keys, so no input key can reach an object's prototype.
 *
 * @throws RangeError at definition time for duplicate or negative keys
 */
export function record<F extends Record<string, AnyField>>(
  name: string,
  fields: F,
  rule?: { readonly doc: string; check(value: RecordValue<F>): boolean },
): RecordSchema<RecordValue<F>> {
  const infos: FieldInfo[] = Object.entries(fields).map(([prop, f]) => ({
    prop,
    key: f.key,
    optional: f.optional,
    schema: f.schema as Schema<unknown>,
    doc: f.doc,
  }));
  const keys = new Set(infos.map((f) => f.key));
  if (keys.size !== infos.length || infos.some((f) => f.key < 0)) {
    throw new RangeError(`expected distinct non-negative keys in ${name}, got a clash`);
  }
  return {
    name,
    fields: infos,
    ...(rule ? { rule } : {}),
    shape: { kind: 'record', name, fields: infos, ...(rule ? { check: rule.check } : {}) },
    cddl: name,
    decode: (v, path) => {
      if (!(v instanceof Map)) return malformed(path, `a ${name} map`, v);
      const map = v as ReadonlyMap<CborKey, CborValue>;
      for (const k of map.keys()) {
        if (typeof k === 'number' && k < 0 && !keys.has(k)) {
          throw new CertsyncError(
            'malformed-message',
            `${path}: field ${k} must be understood and is not known to this version`,
          );
        }
      }
      const out: Record<string, unknown> = {};
      for (const f of infos) {
        const raw = map.get(f.key);
        if (raw === undefined) {
          if (!f.optional) {
            throw new CertsyncError('malformed-message', `${path}.${f.prop}: missing`);
          }
          continue;
        }
        out[f.prop] = f.schema.decode(raw, `${path}.${f.prop}`);
      }
      if (rule && !rule.check(out as RecordValue<F>)) {
        throw new CertsyncError('malformed-message', `${path}: ${rule.doc}`);
      }
      return out as RecordValue<F>;
    },
    encode: (value) => {
      const out = new Map<CborKey, CborValue>();
      const obj = value as Record<string, unknown>;
      for (const f of infos) {
        const v = obj[f.prop];
        if (v === undefined) {
          if (!f.optional) throw new TypeError(`expected ${name}.${f.prop}, got undefined`);
          continue;
        }
        out.set(f.key, f.schema.encode(v));
      }
      return out;
    },
  };
}
