/**
 * fast-check generators shared by the protocol's tests: CBOR subset values, and messages
 * built from the catalog's own schemas (so a new field is generated without new code).
 * Test support only; nothing outside tests imports this module.
 */

import fc from 'fast-check';

import type { CborKey, CborValue } from '../wire/cbor.ts';
import { MESSAGES, type Message, type MessageName } from './catalog.ts';
import type { Schema } from './schema.ts';

/** Any value of the CBOR subset, nested at most `depth` containers deep. */
export function cborValue(depth = 3): fc.Arbitrary<CborValue> {
  const leaf: fc.Arbitrary<CborValue> = fc.oneof(
    fc.integer({ min: -1000, max: 1000 }),
    fc.maxSafeInteger(),
    fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: -1 }),
    fc.constantFrom(23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, -24, -25, -257),
    fc.string({ maxLength: 40, unit: 'grapheme' }),
    fc.uint8Array({ maxLength: 40 }),
    fc.constantFrom<CborValue>(true, false, null),
  );
  if (depth === 0) return leaf;
  const inner = cborValue(depth - 1);
  const key: fc.Arbitrary<CborKey> = fc.oneof(
    fc.integer({ min: -30, max: 300 }),
    fc.string({ maxLength: 8 }),
  );
  return fc.oneof(
    { weight: 3, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(inner, { maxLength: 6 }) },
    {
      weight: 1,
      arbitrary: fc
        .uniqueArray(fc.tuple(key, inner), { maxLength: 6, selector: ([k]) => k })
        .map((entries) => new Map(entries)),
    },
  );
}

/** Values a schema accepts; byte strings and texts are kept short to keep runs quick. */
export function fromSchema<T>(schema: Schema<T>): fc.Arbitrary<T> {
  const s = schema.shape;
  const out = ((): fc.Arbitrary<unknown> => {
    switch (s.kind) {
      case 'uint':
        return fc.oneof(
          fc.integer({ min: s.min, max: Math.min(s.max, s.min + 1000) }),
          fc.constant(s.max),
        );
      case 'int':
        return fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.maxSafeInteger());
      case 'bool':
        return fc.boolean();
      case 'bytes':
        return fc.uint8Array({ minLength: s.min, maxLength: Math.min(s.max, s.min + 48) });
      case 'text':
        return s.oneOf
          ? fc.constantFrom(...s.oneOf)
          : fc.string({ maxLength: Math.min(Math.floor(s.max / 4), 24), unit: 'binary' });
      case 'enum':
        return fc.constantFrom(...Object.keys(s.values));
      case 'array':
        return fc.array(fromSchema(s.of), { maxLength: Math.min(s.max, 3) });
      case 'tuple':
        return fc.tuple(...s.of.map((e) => fromSchema(e)));
      case 'nullable':
        return fc.option(fromSchema(s.of), { nil: null });
      case 'record': {
        const required: Record<string, fc.Arbitrary<unknown>> = {};
        for (const f of s.fields) required[f.prop] = fromSchema(f.schema);
        const requiredKeys = s.fields.filter((f) => !f.optional).map((f) => f.prop);
        // fast-check builds null-prototype records; decoded records are plain objects.
        const check = s.check as ((v: unknown) => boolean) | undefined;
        return fc
          .record(required, { requiredKeys })
          .map((r) => ({ ...r }))
          .filter((r) => check === undefined || check(r));
      }
    }
  })();
  return out as fc.Arbitrary<T>;
}

/** A message of the given name. */
export function messageOf(name: MessageName): fc.Arbitrary<Message> {
  return fromSchema(MESSAGES[name].schema as Schema<Record<string, unknown>>).map(
    (fields) => ({ ...fields, type: name }) as Message,
  );
}

/** Any message of the catalog. */
export function anyMessage(): fc.Arbitrary<Message> {
  return fc.oneof(...(Object.keys(MESSAGES) as MessageName[]).map((n) => messageOf(n)));
}
