import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';

import { catalogCddl, errorCodeTable, messageTypeTable } from './cddl.ts';

const spec = (name: string) => readFileSync(new URL(`../../spec/${name}`, import.meta.url), 'utf8');

/** The table rows between `<!-- generated:NAME -->` and `<!-- /generated -->`, as cells. */
function generatedBlock(doc: string, name: string): string[][] {
  const start = doc.indexOf(`<!-- generated:${name} -->`);
  const end = doc.indexOf('<!-- /generated -->', start);
  assert.ok(start >= 0 && end > start, `block ${name} in spec/protocol.md`);
  return cells(doc.slice(doc.indexOf('\n', start) + 1, end));
}

/** Table cells, ignoring the column padding and separator row a formatter may change. */
function cells(table: string): string[][] {
  return table
    .trim()
    .split('\n')
    .filter((line) => !/^\|[\s:|-]+\|$/.test(line))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
}

test('spec/messages.cddl is exactly the CDDL of the catalog the decoder enforces', () => {
  assert.equal(spec('messages.cddl'), catalogCddl());
});

test('the error codes in spec/protocol.md are exactly ERROR_CODES', () => {
  assert.deepEqual(generatedBlock(spec('protocol.md'), 'error-codes'), cells(errorCodeTable()));
});

test('the message types in spec/protocol.md are exactly the catalog', () => {
  assert.deepEqual(generatedBlock(spec('protocol.md'), 'message-types'), cells(messageTypeTable()));
});
