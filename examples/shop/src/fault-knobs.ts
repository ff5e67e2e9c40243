// The failure knobs every shop service has for the tour: FAIL_RATE and DELAY_MS.
// Failures are counter-based, not random, so a test (and a person counting curl
// output) sees exactly the configured fraction: with FAIL_RATE=0.5 every second
// request fails, with 0.25 every fourth, with 1 all of them.

import { setTimeout as sleep } from 'node:timers/promises';

export interface FaultKnobs {
  /** Counts one request; true when this one should fail. */
  nextShouldFail(): boolean;
  /** Waits DELAY_MS (resolves at once when it is 0). */
  delay(): Promise<void>;
}

export function createFaultKnobs(options: { failRate: number; delayMs: number }): FaultKnobs {
  const { failRate, delayMs } = options;
  let seen = 0;
  let failed = 0;
  return {
    nextShouldFail() {
      seen++;
      // Fail whenever the failures so far fall behind seen × rate; the epsilon keeps
      // 0.29 × 100 (28.999999999999996 in floating point) from skipping a failure.
      if (failed + 1 <= seen * failRate + 1e-9) {
        failed++;
        return true;
      }
      return false;
    },
    delay() {
      return delayMs > 0 ? sleep(delayMs) : Promise.resolve();
    },
  };
}
