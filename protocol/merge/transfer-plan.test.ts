import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { recordKey } from './entry.ts';
import { planTransfer, type TransferMode, type TransferPlan } from './transfer-plan.ts';
import { planCase, PLAN_NOW, type PlanCase } from '../testing/facts-arbitraries.ts';

const mode = fc.constantFrom<TransferMode>('add', 'update', 'replace-all');

function liveAfter(c: PlanCase, plan: TransferPlan): Set<string> {
  const live = new Set(c.receiver.entries.map((e) => recordKey(e.head)));
  for (const h of [...plan.purge, ...plan.evict]) live.delete(recordKey(h));
  for (const r of plan.replace) {
    live.delete(recordKey(r.victim));
    live.add(recordKey(r.incoming));
  }
  for (const h of plan.store) live.add(recordKey(h));
  return live;
}

test('capacity is never exceeded by a transfer plan, in any mode and either direction', () => {
  fc.assert(
    fc.property(mode, planCase, (m, c) => {
      const plan = planTransfer(m, c.selection, c.receiver, c.senderHolds, PLAN_NOW);
      const cap = c.receiver.capacity;
      const live = liveAfter(c, plan);
      if (cap !== null) assert.ok(live.size <= cap, `${live.size} live over capacity ${cap}`);
      // Removals run before stores, so no intermediate state is over capacity either.
      const afterRemovals = c.receiver.entries.length - plan.purge.length - plan.evict.length;
      if (cap !== null) assert.ok(afterRemovals + plan.store.length <= cap);
    }),
    { numRuns: 300 },
  );
});

test('no last copy is lost: a plan offers the sender every entry only the receiver holds before removing it', () => {
  fc.assert(
    fc.property(mode, planCase, (m, c) => {
      const plan = planTransfer(m, c.selection, c.receiver, c.senderHolds, PLAN_NOW);
      const offered = new Set(plan.offerFirst.map(recordKey));
      const removed = [...plan.purge, ...plan.evict, ...plan.replace.map((r) => r.victim)];
      for (const h of removed) {
        const k = recordKey(h);
        if (!c.senderHolds.has(k)) assert.ok(offered.has(k), `${k} removed without an offer`);
      }
    }),
    { numRuns: 300 },
  );
});

test('every selected entry is stored, replaces one, or is refused with a reason', () => {
  fc.assert(
    fc.property(mode, planCase, (m, c) => {
      const plan = planTransfer(m, c.selection, c.receiver, c.senderHolds, PLAN_NOW);
      const accounted = [
        ...plan.store,
        ...plan.replace.map((r) => r.incoming),
        ...plan.refused.map((r) => r.head),
      ].map(recordKey);
      assert.deepEqual(accounted.sort(), c.selection.map((s) => recordKey(s.head)).sort());
      for (const r of plan.refused) {
        if (r.code === 'overflow-alert') assert.equal(c.receiver.policy, 'alert');
      }
    }),
    { numRuns: 300 },
  );
});

test('replace-all leaves the receiver holding the selection only', () => {
  fc.assert(
    fc.property(planCase, (c) => {
      const plan = planTransfer('replace-all', c.selection, c.receiver, c.senderHolds, PLAN_NOW);
      const selected = new Set(c.selection.map((s) => recordKey(s.head)));
      for (const k of liveAfter(c, plan)) assert.ok(selected.has(k), `${k} left behind`);
      if (c.receiver.capacity === null) {
        assert.equal(liveAfter(c, plan).size, selected.size);
      }
    }),
    { numRuns: 300 },
  );
});

test('add removes nothing but lru victims', () => {
  fc.assert(
    fc.property(planCase, (c) => {
      const plan = planTransfer('add', c.selection, c.receiver, c.senderHolds, PLAN_NOW);
      assert.equal(plan.purge.length, 0);
      assert.equal(plan.replace.length, 0);
      if (c.receiver.policy !== 'lru') assert.equal(plan.evict.length, 0);
    }),
    { numRuns: 200 },
  );
});

test('update replaces a certificate of the same subject or e-mail, an expired one first, never a pinned one', () => {
  fc.assert(
    fc.property(planCase, (c) => {
      const plan = planTransfer('update', c.selection, c.receiver, c.senderHolds, PLAN_NOW);
      const byKey = new Map(c.receiver.entries.map((e) => [recordKey(e.head), e]));
      const sel = new Map(c.selection.map((s) => [recordKey(s.head), s]));
      for (const r of plan.replace) {
        const victim = byKey.get(recordKey(r.victim));
        const incoming = sel.get(recordKey(r.incoming));
        assert.ok(victim !== undefined && incoming !== undefined);
        assert.equal(victim.pinned, false);
        const mails = new Set(incoming.emails.map((x) => x.toLowerCase()));
        assert.ok(
          victim.subject === incoming.subject ||
            victim.emails.some((x) => mails.has(x.toLowerCase())),
        );
        if (victim.notAfter >= PLAN_NOW) {
          const expiredMatch = c.receiver.entries.some(
            (e) =>
              e.notAfter < PLAN_NOW &&
              !e.pinned &&
              e.head.kind === incoming.head.kind &&
              e.subject === incoming.subject &&
              !plan.replace.some((x) => recordKey(x.victim) === recordKey(e.head)) &&
              !plan.evict.some((x) => recordKey(x) === recordKey(e.head)) &&
              !sel.has(recordKey(e.head)),
          );
          assert.ok(!expiredMatch, 'an expired match was passed over');
        }
      }
    }),
    { numRuns: 300 },
  );
});
