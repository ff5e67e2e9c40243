// Jittered exponential back-off for re-opening the ADS stream, as Envoy's gRPC mux does:
// the n-th retry waits a uniformly random time in [0, min(max, base * 2^n)) ("full
// jitter"), so many proxies that lost the same control plane do not reconnect in lock-step.
// Defaults are Envoy's for xDS streams: base 500 ms, max 30 s
// (https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/core/v3/config_source.proto#config-core-v3-apiconfigsource).
// Randomness is injected so tests can pin the delays.

export interface BackoffOptions {
  readonly baseMs?: number;
  readonly maxMs?: number;
  /** Uniform in [0, 1). */
  readonly random: () => number;
}

export interface Backoff {
  /** The delay before the next attempt; each call doubles the ceiling up to maxMs. */
  next(): number;
  /** Back to the base interval (after a stream delivered a response). */
  reset(): void;
  /** Attempts since the last reset. */
  readonly attempts: number;
}

export const DEFAULT_BACKOFF_BASE_MS = 500;
export const DEFAULT_BACKOFF_MAX_MS = 30_000;

export function createBackoff(options: BackoffOptions): Backoff {
  const base = options.baseMs ?? DEFAULT_BACKOFF_BASE_MS;
  const max = options.maxMs ?? DEFAULT_BACKOFF_MAX_MS;
  let attempts = 0;
  return {
    next() {
      // 2^attempts overflows to Infinity long after the cap applies; min() keeps it finite.
      const ceiling = Math.min(max, base * 2 ** attempts);
      attempts++;
      return Math.floor(options.random() * ceiling);
    },
    reset() {
      attempts = 0;
    },
    get attempts() {
      return attempts;
    },
  };
}
