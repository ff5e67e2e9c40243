// One downstream HTTP/1.1 connection: drives the request parser from the socket,
// runs one ActiveStream at a time (pipelined requests wait, in order — RFC 9112 §9.3.2),
// writes responses with keep-alive and chunked framing, applies backpressure both ways,
// and takes part in draining. After an accepted upgrade or CONNECT (upgrade.ts) the
// connection is a tunnel: its socket's events go to the tunnel (one null check per read).
//
// Timers per connection, never per request: the route timeout and the stream idle timeout
// are each one lazily re-armed timer shared by the keep-alive requests; the connection's
// idle timeout and max_connection_duration (after which the connection is drained:
// `connection: close` on the response in flight, or closed at once when idle).
//
// Socket handlers are bound once per connection, never per request.

import type { Socket } from 'node:net';
import { formatAddress, plainIp } from '../../core/address.js';
import type { Timer } from '../../core/clock.js';
import { type HttpParseError, type RequestHead, RequestParser } from '../http1/request-parser.js';
import { type BodyFraming, CHUNK_END, CRLF, chunkHeader, responseHeadBytes } from '../http1/serialize.js';
import { DRAIN_IDLE_GRACE_MS, type Drainable } from '../listener/drain.js';
import type { NativeSocket, StreamSocket } from '../network/native-socket.js';
import { holdWritesForTurn, READ_LANE_DOWNSTREAM, readSocket } from '../network/socket-read.js';
import { type DownstreamTlsInfo, downstreamTlsInfo } from '../tls/connection-info.js';
import { ActiveStream } from './active-stream.js';
import type { HcmRuntime } from './connection-manager.js';
import { type HeaderList, truncateList } from './headers.js';
import type { DownstreamStreamCodec } from './stream-codec.js';
import type { TunnelDownstream, TunnelSink } from './upgrade.js';

const CONTINUE_100 = 'HTTP/1.1 100 Continue\r\n\r\n';
const FRAMING_NONE: BodyFraming = { kind: 'none' };
/** Batched writes up to this size are copied into one buffer; larger ones are written as they are. */
const MAX_COALESCE_BYTES = 16 * 1024;

export class Http1ServerConnection implements Drainable, DownstreamStreamCodec {
  readonly httpVersion = 1;
  /** A net.Socket, or a NativeSocket when the addon does its I/O (plain TCP). */
  readonly socket: StreamSocket;
  readonly rt: HcmRuntime;
  readonly id: number;
  readonly remoteAddress: string;
  readonly remoteIp: string;
  readonly localAddress: string;
  /** TLS facts when the connection is a TLSSocket (for the access log and x-forwarded-proto). */
  readonly tls: DownstreamTlsInfo | null;
  private headersTimer: Timer | null = null;
  private readonly parser: RequestParser;
  private stream: ActiveStream | null = null;
  /** Input not consumed while the parser is paused behind an active stream. */
  private pendingInput: Buffer | null = null;
  /** Close the connection once the current response is written. */
  closeAfterResponse = false;
  private closed = false;
  private peerEnded = false;
  private lastActivity: number;
  /** The connection idle timer (HCM idle_timeout), re-armed from onIdleCheck; null = none. */
  private idleTimer: Timer | null = null;
  /** After close(): destroys a socket whose peer never reads; cancelled once it has closed. */
  private closeTimer: Timer | null = null;
  /** Monotonic ms when the current stream's route timeout expires; 0 = none. */
  private streamDeadline = 0;
  /** The deadline timer, armed lazily: it fires at `deadlineTimerAt` and re-checks. */
  private deadlineTimer: Timer | null = null;
  private deadlineTimerAt = 0;
  /** The stream idle timer (lazily re-armed, like the deadline timer) and when it fires. */
  private streamIdleTimer: Timer | null = null;
  private streamIdleTimerAt = 0;
  /** max_connection_duration, then drain_timeout for the response in flight; null = none. */
  private maxDurationTimer: Timer | null = null;
  private batchDepth = 0;
  private readonly batch: Array<string | Buffer> = [];
  private batchBytes = 0;
  /** Set once the connection is a tunnel (upgrade or CONNECT): its bytes go there. */
  private tunnel: TunnelSink | null = null;

  /** `initial`: bytes already read from the socket (while sniffing for the HTTP/2 preface). */
  constructor(socket: Socket | NativeSocket, rt: HcmRuntime, initial: Buffer | null = null) {
    this.socket = socket;
    this.rt = rt;
    this.id = rt.nextConnectionId();
    this.remoteIp = plainIp(socket.remoteAddress ?? '');
    this.remoteAddress = formatAddress(this.remoteIp, socket.remotePort ?? 0);
    this.localAddress = formatAddress(plainIp(socket.localAddress ?? ''), socket.localPort ?? 0);
    this.tls = downstreamTlsInfo(socket);
    this.parser = new RequestParser(this, rt.limits);
    this.lastActivity = rt.clock.monotonic();

    const s = rt.stats;
    s.cxTotal.value++;
    s.cxActive.value++;
    s.cxHttp1Total.value++;

    socket.setNoDelay(true);
    const onData = (d: Buffer): void => this.onData(d);
    readSocket(socket, READ_LANE_DOWNSTREAM, onData);
    socket.on('end', () => this.onEnd());
    socket.on('close', (hadError: boolean) => this.onClose(hadError));
    socket.on('error', () => {}); // 'close' follows; the stream learns of it there
    socket.on('drain', () => {
      if (this.tunnel !== null) this.tunnel.downstreamDrained();
      else this.stream?.onDownstreamDrain();
    });

    rt.drain.add(this);
    this.armIdleTimer();
    const maxDuration = rt.config.maxConnectionDurationMs;
    if (maxDuration !== undefined) this.maxDurationTimer = rt.clock.setTimer(maxDuration, this.onMaxDuration);
    if (initial !== null) this.onData(initial);
  }

  // --- RequestHandler (called by the parser) -------------------------------------------

  onRequestHead(head: RequestHead): void {
    this.lastActivity = this.rt.clock.monotonic();
    if (this.headersTimer !== null) {
      this.headersTimer.cancel();
      this.headersTimer = null;
    }
    const stream = new ActiveStream(this, head);
    this.stream = stream;
    stream.start();
  }

  onBody(chunk: Buffer): void {
    this.stream?.onRequestBody(chunk);
  }

  onRequestTrailers(trailers: HeaderList): void {
    this.stream?.onRequestTrailers(trailers);
  }

  onMessageComplete(): boolean {
    const stream = this.stream;
    if (stream !== null) stream.onRequestComplete();
    // Pause behind a stream that is still answering: pipelined requests wait their turn.
    return this.stream !== null || this.closed;
  }

  // --- socket events ----------------------------------------------------------------------

  private onData(data: Buffer): void {
    this.rt.stats.cxRxBytes.value += data.length;
    if (this.tunnel !== null) {
      this.tunnel.fromDownstream(data);
      return;
    }
    if (this.closed) return;
    if (this.pendingInput !== null) {
      this.pendingInput = Buffer.concat([this.pendingInput, data]);
      this.socket.pause();
      return;
    }
    this.feed(data);
  }

  private feed(data: Buffer): void {
    const parser = this.parser;
    this.batchWrites();
    const n = parser.execute(data);
    this.flush();
    if (parser.error !== null) {
      this.onParseError(parser.error);
      return;
    }
    if (n < data.length && !this.closed) {
      this.pendingInput = data.subarray(n);
      this.socket.pause();
    } else if (this.stream === null && !this.closed && this.rt.config.requestHeadersTimeoutMs !== null) {
      // Part of a request head arrived: the rest must come within request_headers_timeout.
      this.armHeadersTimer(this.rt.config.requestHeadersTimeoutMs);
    }
  }

  private armHeadersTimer(timeoutMs: number): void {
    if (this.headersTimer !== null) return;
    this.headersTimer = this.rt.clock.setTimer(timeoutMs, () => {
      this.headersTimer = null;
      if (this.stream !== null || this.closed) return;
      this.rt.stats.rqTimeout.value++;
      const s = new ActiveStream(this, null);
      this.stream = s;
      s.startConnectionError(408, 'request headers timeout', 0, 'request_header_timeout');
    });
  }

  private onParseError(err: HttpParseError): void {
    this.rt.stats.cxProtocolError.value++;
    const stream = this.stream;
    if (stream !== null) {
      // Framing broke inside a request body: the stream cannot complete.
      stream.onDownstreamProtocolError(err);
      return;
    }
    // Error before or inside a request head: answer with a local reply and close.
    const s = new ActiveStream(this, null);
    this.stream = s;
    s.startProtocolError(err);
  }

  private onEnd(): void {
    this.peerEnded = true;
    if (this.tunnel !== null) {
      this.tunnel.downstreamEnded();
      return;
    }
    const err = this.parser.finish();
    if (this.stream !== null) {
      if (err !== null) this.stream.onDownstreamProtocolError(err);
      else this.closeAfterResponse = true;
      return;
    }
    this.close();
  }

  private onClose(hadError: boolean): void {
    this.closed = true;
    if (this.headersTimer !== null) this.headersTimer.cancel();
    if (this.deadlineTimer !== null) this.deadlineTimer.cancel();
    if (this.tunnel !== null) this.tunnel.downstreamClosed(hadError);
    if (this.streamIdleTimer !== null) this.streamIdleTimer.cancel();
    if (this.maxDurationTimer !== null) this.maxDurationTimer.cancel();
    // Pending timers hold the connection (and its socket and parser) until they fire: the
    // idle timeout's is an hour by default.
    if (this.idleTimer !== null) this.idleTimer.cancel();
    if (this.closeTimer !== null) this.closeTimer.cancel();
    const stream = this.stream;
    if (stream !== null) stream.onDownstreamReset();
    this.stream = null;
    this.rt.stats.cxActive.value--;
    this.rt.stats.cxDestroy.value++;
    this.rt.drain.delete(this);
  }

  // --- called by the stream ------------------------------------------------------------

  write100Continue(): void {
    this.out(CONTINUE_100);
  }

  /** Writes the response head; adds `connection: close` when this response ends the connection. */
  writeResponseHead(status: number, headers: HeaderList, framing: BodyFraming, keepAlive: boolean): void {
    if (!keepAlive || this.peerEnded || this.rt.drain.draining) {
      if (this.rt.drain.draining && keepAlive && !this.closeAfterResponse) this.rt.stats.cxDrainClose.value++;
      this.closeAfterResponse = true;
    }
    if (this.closeAfterResponse) headers.push('connection', 'close');
    const head = responseHeadBytes(status, headers, framing, 1);
    this.rt.stats.cxTxBytes.value += head.length;
    this.out(head);
  }

  /** Writes body bytes; returns false when the socket buffer is full (wait for drain). */
  writeBody(chunk: Buffer, chunked: boolean): boolean {
    this.rt.stats.cxTxBytes.value += chunk.length;
    if (chunked) {
      if (chunk.length === 0) return true;
      this.out(chunkHeader(chunk.length));
      this.out(chunk);
      return this.out(CRLF);
    }
    return this.out(chunk);
  }

  writeResponseTrailers(_trailers: HeaderList): void {
    // HTTP/1.1 response trailers are dropped (Envoy does not forward them on HTTP/1 by default).
  }

  endBody(chunked: boolean): void {
    if (chunked) this.out(CHUNK_END);
  }

  /**
   * Starts collecting writes: everything written until `flush()` goes out in one write
   * (one syscall for a response head and its body), which matters on the hot path.
   */
  batchWrites(): void {
    this.batchDepth++;
  }

  /** Ends a batch (batches nest); writes what was collected; false when the socket buffer is full. */
  flush(): boolean {
    if (this.batchDepth > 0) this.batchDepth--;
    if (this.batchDepth > 0) return true;
    const batch = this.batch;
    const n = batch.length;
    if (n === 0) return true;
    const socket = this.socket;
    holdWritesForTurn(socket);
    let ok: boolean;
    if (n === 1) {
      const piece = batch[0];
      ok = typeof piece === 'string' ? socket.write(piece, 'latin1') : socket.write(piece);
    } else if (this.batchBytes <= MAX_COALESCE_BYTES) {
      const buf = Buffer.allocUnsafe(this.batchBytes);
      let off = 0;
      for (let i = 0; i < n; i++) {
        const piece = batch[i];
        off += typeof piece === 'string' ? buf.write(piece, off, 'latin1') : piece.copy(buf, off);
      }
      ok = socket.write(buf);
    } else {
      socket.cork();
      for (let i = 0; i < n; i++) {
        const piece = batch[i];
        if (typeof piece === 'string') socket.write(piece, 'latin1');
        else socket.write(piece);
      }
      socket.uncork();
      ok = !socket.writableNeedDrain;
    }
    truncateList(batch, 0);
    this.batchBytes = 0;
    return ok;
  }

  private out(piece: string | Buffer): boolean {
    if (this.batchDepth > 0) {
      this.batch.push(piece);
      this.batchBytes += piece.length;
      return true;
    }
    holdWritesForTurn(this.socket);
    return typeof piece === 'string' ? this.socket.write(piece, 'latin1') : this.socket.write(piece);
  }

  /**
   * Arms the current stream's route timeout. One timer per connection serves every
   * request on it: it is only re-armed when it would fire too late, and when it fires
   * early (the stream it was armed for is done) it re-checks, so a keep-alive request
   * costs no timer of its own.
   */
  setStreamDeadline(timeoutMs: number): void {
    const at = this.rt.clock.monotonic() + timeoutMs;
    this.streamDeadline = at;
    if (this.deadlineTimer !== null) {
      if (this.deadlineTimerAt <= at) return;
      this.deadlineTimer.cancel();
    }
    this.armDeadlineTimer(at, timeoutMs);
  }

  clearStreamDeadline(): void {
    this.streamDeadline = 0;
  }

  private armDeadlineTimer(at: number, inMs: number): void {
    this.deadlineTimerAt = at;
    this.deadlineTimer = this.rt.clock.setTimer(inMs, this.onDeadlineTimer);
  }

  private readonly onDeadlineTimer = (): void => {
    this.deadlineTimer = null;
    const deadline = this.streamDeadline;
    if (this.closed || deadline === 0) return;
    const left = deadline - this.rt.clock.monotonic();
    if (left > 0) {
      this.armDeadlineTimer(deadline, left);
      return;
    }
    this.streamDeadline = 0;
    this.stream?.onRouteTimeout();
  };

  /**
   * Upgrade / CONNECT (upgrade.ts): writes the switching response head (101, or 200 to
   * CONNECT; no framing, no `connection: close`) and hands the socket's events to `sink`
   * from now on. The connection closes when the stream finishes.
   */
  startTunnel(sink: TunnelSink, status: number, headers: HeaderList): TunnelDownstream {
    const head = responseHeadBytes(status, headers, FRAMING_NONE, 1);
    this.rt.stats.cxTxBytes.value += head.length;
    this.out(head);
    this.closeAfterResponse = true;
    this.clearStreamDeadline();
    this.tunnel = sink;
    this.socket.once('finish', () => sink.downstreamFinished());
    return new Http1TunnelSide(this);
  }

  /** Tunnel bytes towards the client; false when the socket buffer is full. */
  writeTunnel(chunk: Buffer): boolean {
    this.rt.stats.cxTxBytes.value += chunk.length;
    return this.out(chunk);
  }

  /** Bytes read after the request head while the parser waited (they belong to the tunnel). */
  takePendingInput(): Buffer | null {
    const pending = this.pendingInput;
    this.pendingInput = null;
    return pending;
  }

  armStreamIdleTimer(timeoutMs: number): void {
    const at = this.rt.clock.monotonic() + timeoutMs;
    if (this.streamIdleTimer !== null) {
      // A timer that fires earlier re-checks and re-arms; only a later one is replaced.
      if (this.streamIdleTimerAt <= at) return;
      this.streamIdleTimer.cancel();
    }
    this.streamIdleTimerAt = at;
    this.streamIdleTimer = this.rt.clock.setTimer(timeoutMs, this.onStreamIdleTimer);
  }

  private readonly onStreamIdleTimer = (): void => {
    this.streamIdleTimer = null;
    const stream = this.stream;
    if (this.closed || stream === null) return;
    const left = stream.onStreamIdleTimer();
    if (left > 0 && this.stream === stream && !this.closed) this.armStreamIdleTimer(left);
  };

  /**
   * max_connection_duration passed (Envoy): an idle connection is closed now; one with a
   * request in flight answers it with `connection: close` (or closes after it when the
   * head is out already) and is reset if it is not done within drain_timeout.
   */
  private readonly onMaxDuration = (): void => {
    this.maxDurationTimer = null;
    if (this.closed) return;
    this.rt.stats.cxMaxDurationReached.value++;
    if (this.stream === null) {
      this.close();
      return;
    }
    this.closeAfterResponse = true;
    this.maxDurationTimer = this.rt.clock.setTimer(this.rt.config.drainTimeoutMs, this.onMaxDurationDrained);
  };

  private readonly onMaxDurationDrained = (): void => {
    this.maxDurationTimer = null;
    if (!this.closed) this.reset();
  };

  /** Stops reading from downstream (request-body backpressure). */
  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    if (!this.closed && this.pendingInput === null) this.socket.resume();
  }

  /** The current stream finished (response written, request read or abandoned). */
  onStreamDone(stream: unknown): void {
    if (this.stream !== stream) return;
    this.stream = null;
    this.lastActivity = this.rt.clock.monotonic();
    if (this.closeAfterResponse) {
      this.close();
      return;
    }
    if (this.parser.paused) {
      this.parser.resume();
      const pending = this.pendingInput;
      if (pending !== null) {
        this.pendingInput = null;
        this.feed(pending);
      }
      if (this.pendingInput === null && !this.closed) this.socket.resume();
    }
    if (this.rt.drain.draining && this.stream === null) this.armDrainIdleTimer();
  }

  /** Ends the connection gracefully after pending writes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.batchDepth = 0;
    this.flush();
    this.socket.end();
    // Keep reading (and dropping) what the peer still sends: closing with unread bytes
    // would make the kernel answer with a reset that can destroy our response in flight.
    this.pendingInput = null;
    this.socket.resume();
    // A peer that never reads must not hold the socket forever.
    this.closeTimer = this.rt.clock.setTimer(this.rt.config.drainTimeoutMs, this.onCloseTimer);
  }

  private readonly onCloseTimer = (): void => {
    this.closeTimer = null;
    this.socket.destroy();
  };

  /** Aborts the connection now (a response cannot be completed). */
  reset(): void {
    this.closed = true;
    this.socket.destroy();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // --- Drainable --------------------------------------------------------------------------

  onDrain(): void {
    if (this.stream === null) this.armDrainIdleTimer();
  }

  forceClose(): void {
    this.reset();
  }

  // --- timers -----------------------------------------------------------------------------

  /** One timer per connection for the idle timeout, re-armed lazily (no per-request timers). */
  private armIdleTimer(): void {
    const timeout = this.rt.config.idleTimeoutMs;
    if (timeout !== null) this.idleTimer = this.rt.clock.setTimer(timeout, this.onIdleCheck);
  }

  /** Closes a connection idle for idle_timeout; otherwise checks again when it could be. */
  private readonly onIdleCheck = (): void => {
    this.idleTimer = null;
    const timeout = this.rt.config.idleTimeoutMs;
    if (this.closed || timeout === null) return;
    const idleFor = this.rt.clock.monotonic() - this.lastActivity;
    if (this.stream === null && idleFor >= timeout) {
      this.rt.stats.cxIdleTimeout.value++;
      this.close();
      return;
    }
    this.idleTimer = this.rt.clock.setTimer(
      Math.max(1, timeout - (this.stream === null ? idleFor : 0)),
      this.onIdleCheck,
    );
  };

  private armDrainIdleTimer(): void {
    this.rt.clock.setTimer(DRAIN_IDLE_GRACE_MS, () => {
      if (this.stream === null && !this.closed) {
        this.rt.stats.cxDrainClose.value++;
        this.close();
      }
    });
  }
}

/** The downstream side of a tunnel: the connection's socket, writes through its batching. */
class Http1TunnelSide implements TunnelDownstream {
  constructor(private readonly conn: Http1ServerConnection) {}
  write(chunk: Buffer): boolean {
    return this.conn.writeTunnel(chunk);
  }
  pause(): void {
    this.conn.socket.pause();
  }
  resume(): void {
    if (!this.conn.isClosed) this.conn.socket.resume();
  }
  end(): void {
    this.conn.socket.end();
  }
  destroy(): void {
    this.conn.reset();
  }
  get writableFinished(): boolean {
    return this.conn.socket.writableFinished;
  }
  takePending(): Buffer | null {
    return this.conn.takePendingInput();
  }
}
