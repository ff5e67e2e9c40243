// The requests waiting for a connection (HTTP/1.1) or a stream (HTTP/2) of one pool, oldest
// first, each counted in the cluster's max_pending_requests breaker while it waits. Both
// connection pools use it; the handle a waiter gets (PendingRequest) cancels its own entry.

import type { ClusterCircuitBreakers } from './cluster-circuit-breakers.js';
import type { PendingRequest, PoolFailureReason, PoolWaiter } from './connection-pool.js';

/** A waiter's handle: `done` once it was served, failed or cancelled. */
export interface QueuedRequest extends PendingRequest {
  readonly done: boolean;
}

class PendingEntry implements QueuedRequest {
  /** Served, failed or cancelled: nothing more happens to it. */
  done = false;
  constructor(
    private readonly queue: PendingQueue,
    readonly waiter: PoolWaiter,
  ) {}
  cancel(): void {
    if (this.done) return;
    this.done = true;
    this.queue.remove(this);
  }
}

export class PendingQueue {
  private readonly entries: PendingEntry[] = [];

  constructor(private readonly cb: ClusterCircuitBreakers | null) {}

  get length(): number {
    return this.entries.length;
  }

  /** Queues a waiter already admitted (and counted) by admitPending; returns its handle. */
  push(waiter: PoolWaiter): QueuedRequest {
    const entry = new PendingEntry(this, waiter);
    this.entries.push(entry);
    return entry;
  }

  /** The oldest waiter, out of the queue and the breaker, marked done; undefined when empty. */
  take(): PoolWaiter | undefined {
    const next = this.entries.shift();
    if (next === undefined) return undefined;
    if (this.cb !== null) this.cb.pending.dec();
    next.done = true;
    return next.waiter;
  }

  /** Fails the oldest waiters until `keep` are left (the ones connecting connections will serve). */
  failBeyond(keep: number, reason: PoolFailureReason, details: string): void {
    while (this.entries.length > keep) this.take()!.onPoolFailure(reason, details);
  }

  /**
   * A connection attempt to `address` failed: fails the waiters beyond `keep` with
   * connect_timeout or connect_failure and the message every pool gives for it.
   */
  failConnectAttempt(
    keep: number,
    address: string,
    timedOut: boolean,
    connectTimeoutMs: number,
    lastError: string,
  ): void {
    if (timedOut)
      this.failBeyond(
        keep,
        'connect_timeout',
        `connect to ${address} timed out after ${connectTimeoutMs} ms`,
      );
    else
      this.failBeyond(
        keep,
        'connect_failure',
        lastError === '' ? `connection to ${address} closed` : lastError,
      );
  }

  /** Empties the queue (out of the breaker, all marked done); returns the waiters, oldest first. */
  takeAll(): PoolWaiter[] {
    const out: PoolWaiter[] = [];
    for (let w = this.take(); w !== undefined; w = this.take()) out.push(w);
    return out;
  }

  remove(entry: PendingEntry): void {
    const i = this.entries.indexOf(entry);
    if (i >= 0) {
      this.entries.splice(i, 1);
      if (this.cb !== null) this.cb.pending.dec();
    }
  }
}
