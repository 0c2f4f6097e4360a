import assert from 'node:assert/strict';
import test from 'node:test';

import {
  CertsyncError,
  ERROR_CODES,
  exitStatusFor,
  isCertsyncError,
  isErrorCode,
} from './errors.ts';

test('every error code has its own exit status above the reserved ones', () => {
  const statuses = Object.keys(ERROR_CODES).map((c) =>
    exitStatusFor(c as keyof typeof ERROR_CODES),
  );
  assert.equal(new Set(statuses).size, statuses.length);
  assert.ok(statuses.every((s) => s >= 10 && s < 126));
});

test('errors are recognised by brand and keep their cause', () => {
  const cause = new Error('disk');
  const err = new CertsyncError('store-locked', 'store.db is locked', { cause });
  assert.ok(isCertsyncError(err));
  assert.equal(err.cause, cause);
  assert.ok(!isCertsyncError(new Error('x')));
  assert.ok(isErrorCode('timeout'));
  assert.ok(!isErrorCode('toString'));
});
