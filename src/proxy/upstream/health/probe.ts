// The contract between the health checker (scheduling, thresholds, flags, stats) and one
// kind of check (HTTP, TCP, gRPC): a probe session per host that runs one check at a time
// on its own connections (never the traffic pool) and reports how it went.

import type { Host } from '../host.js';

/** How one check ended (Envoy's HealthCheckFailureType plus success). */
export const ProbeOutcome = {
  Success: 0,
  /** The host answered, and the answer is a failure: unhealthy at once. */
  ActiveFailure: 1,
  /** An answer listed in retriable_statuses: counts toward unhealthy_threshold. */
  RetriableActiveFailure: 2,
  /** Connect failure, reset, timeout, protocol error: counts toward unhealthy_threshold. */
  NetworkFailure: 3,
} as const;
export type ProbeOutcome = (typeof ProbeOutcome)[keyof typeof ProbeOutcome];

export interface ProbeSession {
  /** Starts one check; `done` is called exactly once unless cancel() or close() comes first. */
  check(done: (outcome: ProbeOutcome, detail: string) => void): void;
  /** Abandons the check in flight (it timed out): its connection is closed. */
  cancel(): void;
  /** The host left or the checker stopped: closes every connection. */
  close(): void;
}

export type ProbeFactory = (host: Host) => ProbeSession;
