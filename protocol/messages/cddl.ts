/**
 * Writes the catalog as CDDL (RFC 8610). spec/messages.cddl is this function's output; a
 * test keeps the two equal, so the published schema is the one the decoder enforces.
 */

import { ERROR_CODES } from '../errors.ts';
import { MESSAGES, RECONCILE_TYPES, type MessageName } from './catalog.ts';
import type { FieldInfo, RecordSchema, Schema } from './schema.ts';

function collectRecords(schema: Schema<unknown>, out: Map<string, RecordSchema<unknown>>): void {
  const s = schema.shape;
  if (s.kind === 'record') {
    if (out.has(s.name)) return;
    for (const f of s.fields) collectRecords(f.schema, out);
    out.set(s.name, schema as RecordSchema<unknown>);
  } else if (s.kind === 'array' || s.kind === 'nullable') {
    collectRecords(s.of, out);
  } else if (s.kind === 'tuple') {
    for (const e of s.of) collectRecords(e, out);
  }
}

function enumComment(schema: Schema<unknown>): string {
  const s = schema.shape.kind === 'array' ? schema.shape.of.shape : schema.shape;
  if (s.kind !== 'enum') return '';
  const names = Object.entries(s.values)
    .sort((a, b) => a[1] - b[1])
    .map(([n, c]) => `${c} ${n}`);
  return ` (${names.join(', ')})`;
}

function fieldLine(f: FieldInfo): string {
  const head = `  ${f.optional ? '? ' : ''}${f.key}: ${f.schema.cddl},`;
  return `${head.padEnd(44)} ; ${f.prop}: ${f.doc}${enumComment(f.schema)}`;
}

function recordRule(r: RecordSchema<unknown>): string {
  const lines = r.fields.map((f) => fieldLine(f));
  const rule = r.rule ? [`; Rule: ${r.rule.doc}.`] : [];
  return [...rule, `${r.name} = {`, ...lines, '  * uint => any,', '}'].join('\n');
}

/** The CDDL of every message, record and envelope of protocol version 1. */
export function catalogCddl(): string {
  const names = Object.keys(MESSAGES) as MessageName[];
  const records = new Map<string, RecordSchema<unknown>>();
  for (const n of names) collectRecords(MESSAGES[n].schema as Schema<unknown>, records);
  const messageRules = names.map((n) => {
    const code = MESSAGES[n].code;
    return `${`msg-${n}`.padEnd(20)} = [version, ${String(code).padStart(2)}, ${n}]`;
  });
  const payloadNames = new Set(names as string[]);
  const shared = [...records.values()].filter((r) => !payloadNames.has(r.name));
  const payloads = names.map((n) => records.get(n) as RecordSchema<unknown>);
  return [
    '; certsync protocol version 1: every message (spec/protocol.md, "Messages").',
    '; Generated from protocol/messages/catalog.ts; a test keeps this file equal to it.',
    '; Every frame is one `frame`, encoded deterministically (spec/protocol.md, "CBOR rules").',
    '; Unknown non-negative keys are ignored; unknown negative keys are rejected.',
    '',
    'frame = ' + names.map((n) => `msg-${n}`).join(' /\n        ') + ' /',
    '        msg-reconcile / msg-extension',
    '',
    'version = 1..65535',
    ...messageRules,
    `msg-reconcile        = [version, ${RECONCILE_TYPES.first}..${RECONCILE_TYPES.last}, ` +
      '{ * int => any }]  ; spec/reconcile.md',
    'msg-extension        = [version, 128..65535, { * int => any }]  ; skipped if unknown',
    '',
    '; Payloads.',
    '',
    ...payloads.flatMap((r) => [recordRule(r), '']),
    '; Shared records.',
    '',
    ...shared.flatMap((r) => [recordRule(r), '']),
    'error-code = known-code / tstr .size (0..64)  ; an unknown code is read as "internal"',
    'known-code = ' +
      Object.keys(ERROR_CODES)
        .map((c) => `"${c}"`)
        .join(' /\n             '),
    '',
  ].join('\n');
}

/** The error code table of spec/protocol.md, "Error codes" (a test keeps the two equal). */
export function errorCodeTable(): string {
  const rows = Object.entries(ERROR_CODES).map(([code, text]) => `| \`${code}\` | ${text} |`);
  return ['| code | meaning |', '| --- | --- |', ...rows].join('\n');
}

/** The message type table of spec/protocol.md, "Messages" (a test keeps the two equal). */
export function messageTypeTable(): string {
  const rows = (Object.keys(MESSAGES) as MessageName[]).map(
    (n) => `| ${MESSAGES[n].code} | \`${n}\` |`,
  );
  return ['| type | message |', '| --- | --- |', ...rows].join('\n');
}
