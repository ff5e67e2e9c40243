// Drain state shared by a listener's connections. When a listener drains (SIGTERM,
// /drain_listeners, or a config reload that replaced it), every connection is told
// once: HTTP/1 connections answer their next response with `connection: close` and
// close when idle; TCP connections are left to finish. `whenIdle` resolves when the
// last connection is gone, so shutdown can wait for in-flight work.

/**
 * How long a draining connection with no request in progress stays open before it is
 * closed: a request the peer already sent (or is sending) still gets its answer, with
 * `connection: close`, instead of a reset.
 */
export const DRAIN_IDLE_GRACE_MS = 1000;

export interface Drainable {
  /** Called once when draining starts. */
  onDrain(): void;
  /** Ends the connection now (drain deadline passed). */
  forceClose(): void;
}

export class DrainSignal {
  private isDraining = false;
  private readonly members = new Set<Drainable>();
  private waiters: Array<() => void> = [];

  get draining(): boolean {
    return this.isDraining;
  }

  get activeCount(): number {
    return this.members.size;
  }

  add(member: Drainable): void {
    this.members.add(member);
    if (this.isDraining) member.onDrain();
  }

  delete(member: Drainable): void {
    if (!this.members.delete(member)) return;
    if (this.members.size === 0 && this.waiters.length > 0) {
      const w = this.waiters;
      this.waiters = [];
      for (const fn of w) fn();
    }
  }

  /** Starts draining (idempotent). */
  start(): void {
    if (this.isDraining) return;
    this.isDraining = true;
    for (const m of [...this.members]) m.onDrain();
  }

  /** Resolves when no member is left. */
  whenIdle(): Promise<void> {
    if (this.members.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Closes every remaining member (after the drain deadline). */
  forceCloseAll(): void {
    for (const m of [...this.members]) m.forceClose();
  }
}
