// A manual Clock for tests: time only moves when the test calls advance(), which runs
// due timers in due order. Lets timeouts be tested without sleeping.

import type { Clock, Timer } from '../../../core/clock.js';

export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, running every timer that falls due, in order. */
  advance(ms: number): void;
  /** Timers scheduled and not yet run or cancelled. */
  readonly pendingTimers: number;
}

interface ManualTimer extends Timer {
  due: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export function createManualClock(startWallMs = 1_700_000_000_000): ManualClock {
  let mono = 0;
  let seq = 0;
  let timers: ManualTimer[] = [];
  return {
    now: () => startWallMs + mono,
    monotonic: () => mono,
    setTimer(ms, fn) {
      const t: ManualTimer = {
        due: mono + Math.max(0, ms),
        seq: seq++,
        fn,
        cancelled: false,
        cancel() {
          t.cancelled = true;
        },
      };
      timers.push(t);
      return t;
    },
    advance(ms) {
      const target = mono + ms;
      for (;;) {
        timers = timers.filter((t) => !t.cancelled);
        let next: ManualTimer | null = null;
        for (const t of timers) {
          if (
            t.due <= target &&
            (next === null || t.due < next.due || (t.due === next.due && t.seq < next.seq))
          ) {
            next = t;
          }
        }
        if (next === null) break;
        mono = next.due;
        next.cancelled = true;
        next.fn();
      }
      mono = target;
    },
    get pendingTimers() {
      return timers.filter((t) => !t.cancelled).length;
    },
  };
}
