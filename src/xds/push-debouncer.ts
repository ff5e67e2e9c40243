// Debounces snapshot-change notifications into pushes: a push runs once changes have been
// quiet for `quietMs`, but never later than `maxMs` after the first change of a burst, so a
// steady stream of changes cannot starve proxies (Istio's PILOT_DEBOUNCE_AFTER/_MAX idea).
// Time comes from the injected Clock, so tests drive it with a manual clock.

import type { Clock, Timer } from '../core/clock.js';

export interface PushDebouncer<T> {
  /** Records a change (`detail` is accumulated and handed to the push). */
  trigger(detail: T): void;
  /** Runs a pending push now. */
  flush(): void;
  /** Drops a pending push. */
  cancel(): void;
  readonly pending: boolean;
}

export function createPushDebouncer<T>(
  clock: Clock,
  options: { quietMs: number; maxMs: number },
  push: (details: T[]) => void,
): PushDebouncer<T> {
  let timer: Timer | undefined;
  let firstAt = 0;
  let details: T[] = [];
  const fire = (): void => {
    timer?.cancel();
    timer = undefined;
    const batch = details;
    details = [];
    push(batch);
  };
  return {
    trigger(detail) {
      const now = clock.monotonic();
      if (details.length === 0) firstAt = now;
      details.push(detail);
      timer?.cancel();
      const wait = Math.max(0, Math.min(options.quietMs, firstAt + options.maxMs - now));
      timer = clock.setTimer(wait, fire);
    },
    flush() {
      if (details.length > 0) fire();
    },
    cancel() {
      timer?.cancel();
      timer = undefined;
      details = [];
    },
    get pending() {
      return details.length > 0;
    },
  };
}
