// The push debouncer on a manual clock: quiet period, the max-delay cap, flush and cancel.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createManualClock } from '../proxy/upstream/testing/manual-clock.js';
import { createPushDebouncer } from './push-debouncer.js';

function setup() {
  const clock = createManualClock();
  const pushes: number[][] = [];
  const debouncer = createPushDebouncer<number>(clock, { quietMs: 100, maxMs: 300 }, (d) => pushes.push(d));
  return { clock, pushes, debouncer };
}

describe('push debouncer', () => {
  it('pushes once, with every detail, after the quiet period', () => {
    const { clock, pushes, debouncer } = setup();
    debouncer.trigger(1);
    clock.advance(50);
    debouncer.trigger(2);
    clock.advance(99);
    assert.deepEqual(pushes, []);
    clock.advance(1);
    assert.deepEqual(pushes, [[1, 2]]);
    assert.equal(debouncer.pending, false);
  });

  it('never waits longer than maxMs after the first change of a burst', () => {
    const { clock, pushes, debouncer } = setup();
    for (let i = 0; i < 10; i++) {
      debouncer.trigger(i);
      clock.advance(50);
    }
    // Changes every 50 ms: the quiet period never elapses, the 300 ms cap does.
    assert.deepEqual(pushes, [[0, 1, 2, 3, 4, 5]]);
    clock.advance(100);
    assert.deepEqual(pushes[1], [6, 7, 8, 9]);
  });

  it('flush pushes now; cancel drops', () => {
    const { clock, pushes, debouncer } = setup();
    debouncer.trigger(1);
    debouncer.flush();
    assert.deepEqual(pushes, [[1]]);
    debouncer.trigger(2);
    debouncer.cancel();
    clock.advance(1000);
    assert.deepEqual(pushes, [[1]]);
    assert.equal(clock.pendingTimers, 0);
  });
});
