// Relays bytes between two connected endpoints until both are closed: the one pump shared
// by the tcp_proxy filter (tcp-proxy.ts) and the HTTP tunnels of upgraded streams
// (WebSocket, CONNECT: src/proxy/http/upgrade.ts).
//
// The pump is passive: its owner attaches the socket listeners it already has and calls
// the pump's methods from them, so the pump adds no listener and no closure per chunk.
// - Backpressure: when write() on one side returns false the other side is paused until
//   that side drains, so a slow reader never makes the proxy buffer more than one
//   socket's highWaterMark plus one chunk.
// - Half-close: the end of one side's input becomes end() on the other (sockets run with
//   allowHalfOpen), so protocols that shut down their write side work.
// - Close: when one side closes completely the other is ended and destroyed once its
//   writes are flushed (Envoy's FlushWrite close); a close with an error destroys the other
//   side at once. The observer hears once when both sides are closed.

/** One side of the pump: a net.Socket fits, or an adapter over an HTTP connection. */
export interface PumpEndpoint {
  write(chunk: Buffer): boolean;
  pause(): void;
  resume(): void;
  /** Half-close: no more writes from us (FIN after the pending writes). */
  end(): void;
  destroy(): void;
  /** Everything written, including end(), has been flushed. */
  readonly writableFinished: boolean;
}

/** What the owner learns from the pump (byte counts for stats and the access log). */
export interface BytePumpObserver {
  /** `n` bytes from downstream were written upstream. */
  onDownstreamBytes(n: number): void;
  /** `n` bytes from upstream were written downstream. */
  onUpstreamBytes(n: number): void;
  /** Downstream reading was paused because the upstream is not taking more. */
  onDownstreamPaused(): void;
  onDownstreamResumed(): void;
  /** Both sides are closed; called once. */
  onPumpClosed(): void;
}

export class BytePump {
  private downstreamPaused = false;
  private upstreamPaused = false;
  downstreamClosed = false;
  upstreamClosed = false;
  private done = false;

  constructor(
    private readonly downstream: PumpEndpoint,
    private readonly upstream: PumpEndpoint,
    private readonly observer: BytePumpObserver,
  ) {}

  // --- bytes ----------------------------------------------------------------------------

  fromDownstream(chunk: Buffer): void {
    if (this.upstreamClosed) return;
    this.observer.onDownstreamBytes(chunk.length);
    if (!this.upstream.write(chunk) && !this.downstreamPaused) {
      this.downstreamPaused = true;
      this.downstream.pause();
      this.observer.onDownstreamPaused();
    }
  }

  fromUpstream(chunk: Buffer): void {
    if (this.downstreamClosed) return;
    this.observer.onUpstreamBytes(chunk.length);
    if (!this.downstream.write(chunk) && !this.upstreamPaused) {
      this.upstreamPaused = true;
      this.upstream.pause();
    }
  }

  /** The upstream's write buffer drained. */
  upstreamDrained(): void {
    if (this.downstreamPaused) {
      this.downstreamPaused = false;
      this.downstream.resume();
      this.observer.onDownstreamResumed();
    }
  }

  /** The downstream's write buffer drained. */
  downstreamDrained(): void {
    if (this.upstreamPaused) {
      this.upstreamPaused = false;
      this.upstream.resume();
    }
  }

  // --- half-close and close --------------------------------------------------------------

  /** The downstream sent FIN. */
  downstreamEnded(): void {
    if (!this.upstreamClosed) this.upstream.end();
  }

  /** The upstream sent FIN. */
  upstreamEnded(): void {
    if (!this.downstreamClosed) this.downstream.end();
  }

  /** Our writes to downstream are flushed ('finish'); if the upstream is gone, nothing more will come. */
  downstreamFinished(): void {
    if (this.upstreamClosed) this.downstream.destroy();
  }

  upstreamFinished(): void {
    if (this.downstreamClosed) this.upstream.destroy();
  }

  downstreamClosedEvent(hadError: boolean): void {
    if (this.downstreamClosed) return;
    this.downstreamClosed = true;
    if (!this.upstreamClosed) closeAfter(this.upstream, hadError);
    this.maybeDone();
  }

  upstreamClosedEvent(hadError: boolean): void {
    if (this.upstreamClosed) return;
    this.upstreamClosed = true;
    if (!this.downstreamClosed) closeAfter(this.downstream, hadError);
    this.maybeDone();
  }

  /** Tears both sides down now (idle timeout, max duration, shutdown). */
  destroyBoth(): void {
    if (!this.downstreamClosed) this.downstream.destroy();
    if (!this.upstreamClosed) this.upstream.destroy();
  }

  private maybeDone(): void {
    if (this.done || !this.downstreamClosed || !this.upstreamClosed) return;
    this.done = true;
    this.observer.onPumpClosed();
  }
}

/** The peer of a closed side: destroyed at once after an error, else flushed and ended. */
function closeAfter(other: PumpEndpoint, hadError: boolean): void {
  if (hadError || other.writableFinished) other.destroy();
  else other.end();
}
