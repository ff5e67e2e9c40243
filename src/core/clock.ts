// Time as a dependency: production uses the real clock; tests inject a manual one so
// time-based behaviour is tested without sleeping.

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Wall-clock milliseconds since the epoch (for access-log START_TIME). */
  now(): number;
  /** Monotonic milliseconds (fractional) for durations. */
  monotonic(): number;
  /** Runs `fn` once after `ms`; the returned timer never keeps the process alive. */
  setTimer(ms: number, fn: () => void): Timer;
}

class RealTimer implements Timer {
  constructor(private readonly handle: NodeJS.Timeout) {}
  cancel(): void {
    clearTimeout(this.handle);
  }
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimer(ms, fn) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return new RealTimer(handle);
  },
};
