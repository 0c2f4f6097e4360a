import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCertsyncError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';
import { MESSAGES } from '../messages/catalog.ts';
import type { MessageName } from '../messages/catalog.ts';
import {
  checkPeerMayRequest,
  checkPrivateKeyAcceptance,
  checkPrivateKeyRelease,
} from './policy.ts';
import type { PrivateKeyContext } from './policy.ts';

function outcome(fn: () => void): ErrorCode | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (error) {
    assert.ok(isCertsyncError(error), String(error));
    return error.code;
  }
}

const control: readonly MessageName[] = ['hello', 'goodbye', 'error'];

test('an unpaired peer is refused every message of the catalog but session control', () => {
  const names = Object.keys(MESSAGES) as MessageName[];
  assert.ok(names.length > control.length, 'the catalog has store messages');
  for (const name of names) {
    const expected = control.includes(name) ? 'ok' : 'not-paired';
    assert.equal(
      outcome(() => checkPeerMayRequest('unpaired', name)),
      expected,
      name,
    );
    assert.equal(
      outcome(() => checkPeerMayRequest('paired', name)),
      'ok',
      name,
    );
  }
  // Reconciliation messages and types a later version adds are refused too (allow-list).
  for (const other of ['reconcile', 'type-99', '']) {
    assert.equal(
      outcome(() => checkPeerMayRequest('unpaired', other)),
      'not-paired',
    );
  }
});

const session: PrivateKeyContext = { encrypted: true, standing: 'paired', exportAllowed: true };

test('a private key is released only in the session, to a paired peer, asked for by name', () => {
  const cases: [string, PrivateKeyContext, readonly string[] | undefined, ErrorCode | 'ok'][] = [
    ['explicit request for this key', session, ['k1'], 'ok'],
    ['pull by filter', session, undefined, 'private-key-refused'],
    ['request for several keys', session, ['k1', 'k2'], 'private-key-refused'],
    ['request for another key', session, ['k2'], 'private-key-refused'],
    [
      'outside the encrypted session',
      { ...session, encrypted: false },
      ['k1'],
      'private-key-refused',
    ],
    ['export turned off', { ...session, exportAllowed: false }, ['k1'], 'private-key-refused'],
    ['unpaired peer', { ...session, standing: 'unpaired' }, ['k1'], 'not-paired'],
  ];
  for (const [name, context, ids, expected] of cases) {
    assert.equal(
      outcome(() => checkPrivateKeyRelease(context, ids, 'k1')),
      expected,
      name,
    );
  }
});

test('a received private key is stored only when this side asked for exactly that key', () => {
  const ctx = { encrypted: true, standing: 'paired' } as const;
  assert.equal(
    outcome(() => checkPrivateKeyAcceptance(ctx, 'k1', 'k1')),
    'ok',
  );
  assert.equal(
    outcome(() => checkPrivateKeyAcceptance(ctx, null, 'k1')),
    'private-key-refused',
  );
  assert.equal(
    outcome(() => checkPrivateKeyAcceptance(ctx, 'k2', 'k1')),
    'private-key-refused',
  );
  const plain = { encrypted: false, standing: 'paired' } as const;
  assert.equal(
    outcome(() => checkPrivateKeyAcceptance(plain, 'k1', 'k1')),
    'private-key-refused',
  );
});
