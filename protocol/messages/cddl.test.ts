import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';

import { catalogCddl } from './cddl.ts';

test('spec/messages.cddl is exactly the CDDL of the catalog the decoder enforces', () => {
  const published = readFileSync(new URL('../../spec/messages.cddl', import.meta.url), 'utf8');
  assert.equal(published, catalogCddl());
});
