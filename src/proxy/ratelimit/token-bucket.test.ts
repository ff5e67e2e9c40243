// The token bucket on a manual clock: starts full, refills on interval boundaries, never
// above max_tokens, and the time to the next fill.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createManualClock } from '../upstream/testing/manual-clock.js';
import { TokenBucket } from './token-bucket.js';

test('starts full, empties, refills tokens_per_fill per fill_interval up to max_tokens', () => {
  const clock = createManualClock();
  const b = new TokenBucket({ maxTokens: 3, tokensPerFill: 2, fillIntervalMs: 1000 }, clock);
  assert.deepEqual([b.consume(), b.consume(), b.consume(), b.consume()], [true, true, true, false]);
  clock.advance(999);
  assert.equal(b.consume(), false, 'no fill before the interval');
  assert.equal(b.msUntilFill(), 1);
  clock.advance(1);
  assert.equal(b.remaining(), 2);
  clock.advance(5000);
  assert.equal(b.remaining(), 3, 'capped at max_tokens');
  clock.advance(500);
  assert.equal(b.msUntilFill(), 500, 'fills stay on the boundaries counted from the start');
});
