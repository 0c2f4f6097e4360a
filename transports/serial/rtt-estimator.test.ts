import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RttEstimator } from './rtt-estimator.ts';

test('RTO follows RFC 6298: first sample sets SRTT and RTTVAR, later ones smooth, back-off doubles', () => {
  const rtt = new RttEstimator(1000, 50, 8000);
  assert.equal(rtt.rto, 1000);
  rtt.sample(100);
  // SRTT 100, RTTVAR 50: RTO = 100 + 4 * 50.
  assert.equal(rtt.rto, 300);
  rtt.sample(200);
  // RTTVAR = 0.75 * 50 + 0.25 * 100 = 62.5; SRTT = 0.875 * 100 + 0.125 * 200 = 112.5.
  assert.equal(rtt.srtt, 112.5);
  assert.equal(rtt.rto, 362.5);
  for (let i = 0; i < 10; i++) rtt.backOff();
  assert.equal(rtt.rto, 8000);
  for (let i = 0; i < 50; i++) rtt.sample(1);
  assert.equal(rtt.rto, 50, 'never below the minimum');
  assert.throws(() => new RttEstimator(10, 50, 100), RangeError);
});
