// Tests for proto Duration parsing edge cases.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration } from './duration.js';

function ms(v: unknown): number {
  const r = parseDuration(v);
  if (!r.ok) return assert.fail(`expected ${JSON.stringify(v)} to parse: ${r.error}`);
  return r.ms;
}
function error(v: unknown): string {
  const r = parseDuration(v);
  if (r.ok) return assert.fail(`expected ${JSON.stringify(v)} to be rejected, got ${r.ms}`);
  return r.error;
}

test('proto JSON duration strings', () => {
  assert.equal(ms('5s'), 5000);
  assert.equal(ms('0s'), 0);
  assert.equal(ms('0.25s'), 250);
  assert.equal(ms('1.5s'), 1500);
  assert.equal(ms('0.000001s'), 0.001);
  assert.equal(ms('1.000000001s'), 1000.000001);
  assert.equal(ms('315576000000s'), 315576000000000);
});

test('the {seconds, nanos} form, with int64 strings', () => {
  assert.equal(ms({ seconds: 2, nanos: 500000000 }), 2500);
  assert.equal(ms({ seconds: '3' }), 3000);
  assert.equal(ms({ nanos: 1000000 }), 1);
  assert.equal(ms({}), 0);
});

test('rejected forms say how to write a duration', () => {
  assert.match(error('5ms'), /"0\.005s" for 5 ms/);
  assert.match(error('1m'), /"60s" for 1 minute/);
  assert.match(error(5), /"5s", not a bare number/);
  assert.match(error('-1s'), /negative/);
  assert.match(error('1.0000000001s'), /not a duration/);
  assert.match(error('.5s'), /not a duration/);
  assert.match(error('5'), /not a duration/);
  assert.match(error(' 5s'), /not a duration/);
  assert.match(error('315576000001s'), /longer than/);
  assert.match(error({ seconds: 1, nanos: 1e9 }), /nanos/);
  assert.match(error({ seconds: -1 }), /negative/);
  assert.match(error({ seconds: 1.5 }), /integer/);
  assert.match(error({ minutes: 1 }), /only 'seconds' and 'nanos'/);
  assert.match(error(true), /expected a duration/);
  assert.match(error(null), /expected a duration/);
});
