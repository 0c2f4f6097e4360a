/**
 * The conformance suite run by `npm test`: it passes against certsync through its adapter,
 * it fails against every mutant of that adapter, and every case names requirements that
 * exist. The 10,000-entry case is left to `npm run conformance` (it takes most of a minute).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allCases } from './cases/index.ts';
import { coverage, loadRequirements } from './harness/coverage.ts';
import { MUTANTS, mutantNamed } from './mutants.ts';
import { CERTSYNC_ADAPTER, runMutants, runSuite } from './runner.ts';

const cwd = process.cwd();

test('every case names at least one requirement, and only ids the index defines', () => {
  const reqs = loadRequirements(cwd);
  const names = new Set<string>();
  for (const c of allCases()) {
    assert.ok(!names.has(c.name), `case names are unique: ${c.name}`);
    names.add(c.name);
    assert.ok(c.covers.length > 0, `${c.name} names no requirement`);
    for (const id of c.covers) assert.ok(reqs[id], `${c.name}: ${id} is not in requirements.json`);
  }
});

test('coverage counts a case under the section of each requirement it names', () => {
  const rows = coverage([{ covers: ['R-VER-2'] }, { covers: ['R-XFER-6', 'R-REC-3'] }], cwd);
  const row = (s: string) => rows.find((r) => r.section.startsWith(s));
  assert.equal(row('protocol.md 5 ')?.cases, 1);
  assert.equal(row('protocol.md 8.5 ')?.cases, 1);
  assert.equal(row('protocol.md 8 ')?.cases, 1, 'a parent section counts its subsections');
  assert.equal(row('reconcile.md 10 ')?.cases, 1);
  assert.equal(row('session.md 4 ')?.cases, 0);
});

test('mutantNamed rejects a name no mutant has', () => {
  assert.throws(() => mutantNamed('no-such-mutant'), RangeError);
  assert.equal(mutantNamed(undefined).name, 'none');
});

test('the suite passes against certsync through its adapter', async () => {
  const r = await runSuite({ seed: 20_261_203, impl: CERTSYNC_ADAPTER, cwd, quick: true });
  const failures = r.cases.filter((c) => !c.passed).map((c) => `${c.name}: ${c.error}`);
  assert.deepEqual(failures, [], 'no case fails');
  assert.ok(r.passed >= 90, `expected the whole suite to run, got ${r.passed} cases`);
});

test('the suite fails against every mutant of the adapter', async (t) => {
  const outcomes = await runMutants({ seed: 20_261_203, impl: CERTSYNC_ADAPTER, cwd });
  for (const m of outcomes) t.diagnostic(`${m.mutant}: caught by ${m.caughtBy ?? 'nothing'}`);
  assert.equal(outcomes.length, MUTANTS.length);
  const survivors = outcomes.filter((m) => !m.caught).map((m) => m.mutant);
  assert.deepEqual(survivors, [], 'every mutant is caught');
});
