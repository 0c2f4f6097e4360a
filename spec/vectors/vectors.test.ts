import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';

import { isCertsyncError } from '../../protocol/errors.ts';
import { MESSAGES, type Message } from '../../protocol/messages/catalog.ts';
import { decodeFrame, encodeMessage } from '../../protocol/messages/codec.ts';
import { fromJsonForm, type Json } from '../../protocol/messages/json-form.ts';
import { bytesOf, hexOf } from '../../protocol/wire/hex.ts';
import { DEFAULT_LIMITS } from '../../protocol/wire/limits.ts';
import { assertSameContent } from '../../protocol/testing/store-assertions.ts';
import {
  buildReconcileSide,
  buildSide,
  parseReconcileSession,
  parseSession,
} from './session-script.ts';

const read = (name: string) =>
  JSON.parse(readFileSync(new URL(name, import.meta.url), 'utf8')) as Json;

interface MessageVectors {
  valid: { name: string; hex: string; value: Json }[];
  invalid: { hex: string; error: string; why: string }[];
  ignorable: { hex: string }[];
}

const vectors = read('./messages.json') as unknown as MessageVectors;

test('every message type has a vector', () => {
  const covered = new Set(vectors.valid.map((v) => (v.value as { type: string }).type));
  assert.deepEqual([...covered].sort(), Object.keys(MESSAGES).sort());
});

test('each valid vector decodes to its value and its value encodes to its hex', () => {
  for (const v of vectors.valid) {
    const value = fromJsonForm(v.value) as Message;
    const decoded = decodeFrame(bytesOf(v.hex), DEFAULT_LIMITS);
    assert.equal(decoded.kind, 'message', v.name);
    assert.deepEqual(decoded.kind === 'message' && decoded.message, value, v.name);
    assert.equal(hexOf(encodeMessage(1, value, DEFAULT_LIMITS)), v.hex, v.name);
  }
});

test('each invalid vector is rejected with its error code', () => {
  for (const v of vectors.invalid) {
    assert.throws(
      () => decodeFrame(bytesOf(v.hex), DEFAULT_LIMITS),
      (e: unknown) => isCertsyncError(e) && e.code === v.error,
      v.why,
    );
  }
  for (const v of vectors.ignorable) {
    assert.equal(decodeFrame(bytesOf(v.hex), DEFAULT_LIMITS).kind, 'ignored');
  }
});

test('the recorded session replays: each side sends exactly the recorded frames', () => {
  const { stores, steps } = parseSession(read('./session-transfer.json'));
  for (const name of ['a', 'b'] as const) {
    const { side } = buildSide(name, stores[name]);
    const own = steps.filter((s) => s.side === name);
    assert.ok(own.length > 5);
    own.forEach((s, i) => {
      side.feed(s.event);
      assert.deepEqual(side.outbox.splice(0).map(hexOf), s.sends, `${name} step ${i}`);
    });
    assert.equal(side.state.phase, 'closed');
    assert.equal(side.seen('close').at(-1)?.error, null);
  }
});

test('the recorded reconcile session replays, and both stores end with the same records', () => {
  const { stores, steps } = parseReconcileSession(read('./session-reconcile.json'));
  const built = {
    a: buildReconcileSide('a', stores.a),
    b: buildReconcileSide('b', stores.b),
  };
  for (const name of ['a', 'b'] as const) {
    const { side } = built[name];
    steps
      .filter((s) => s.side === name)
      .forEach((s, i) => {
        side.feed(s.event);
        assert.deepEqual(side.outbox.splice(0).map(hexOf), s.sends, `${name} step ${i}`);
      });
    assert.equal(side.seen('reconciled').length, 1);
    assert.equal(side.state.phase, 'closed');
  }
  assertSameContent(built.a.store, built.b.store);
});
