// HTTP/1.1 socket I/O through the C addon (native/socket-io.c, docs/native-core.md stage 2).
// A NativeSocket wraps a plain net.Socket: Node keeps the socket for its addresses, its
// connect and its close; the addon reads and writes its bytes. It offers the part of the
// net.Socket API Weft's HTTP/1.1 connections use (StreamSocket), with the same meaning:
//
// - reads: through readSocket() (socket-read.ts), in turn batches (upstream lane first) as
//   the JavaScript path has them; 'end' on the peer's FIN, after the bytes before it;
// - writes: write() returns false over the high-water mark and 'drain' follows; cork() and
//   writes made while the addon hands over a batch wait and leave in one send;
// - end(): our FIN once the bytes are out, then 'finish'; with allowHalfOpen false the
//   peer's FIN ends our side too, and a socket both ended and finished is destroyed, as
//   Node's autoDestroy does;
// - errors: a failed read or write destroys the socket with a Node-shaped error
//   (`read ECONNRESET`, code, errno, syscall); 'error' and 'close' are Node's own.
//
// Which sockets go native is the caller's choice (codec-select.ts downstream,
// upstream/connect.ts's nativeHttp1Connect for the HTTP/1.1 pools): plain TCP only. TLS stays on Node's TLSWrap.

import { EventEmitter } from 'node:events';
import type * as net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { loadAddon } from '../../core/native-addon.js';
import { readingHandle, socketFd, stopNodeReading } from './native-relay.js';
import type { ReadLane } from './read-lane.js';

/**
 * The part of net.Socket Weft's HTTP/1.1 connections and the upstream pool use. A
 * net.Socket is one; so is a NativeSocket.
 */
export interface StreamSocket extends EventEmitter {
  /** Whether the peer's FIN leaves our side open (else our FIN follows it). */
  allowHalfOpen: boolean;
  readonly destroyed: boolean;
  readonly writableLength: number;
  readonly writableNeedDrain: boolean;
  readonly writableFinished: boolean;
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
  write(data: Uint8Array): boolean;
  write(data: string, encoding: 'latin1'): boolean;
  cork(): void;
  uncork(): void;
  pause(): this;
  resume(): this;
  isPaused(): boolean;
  end(): this;
  destroy(error?: Error): this;
  setNoDelay(noDelay?: boolean): this;
}

/** A stream inside the addon: opaque, passed back to it. */
type StreamHandle = { readonly __stream: unique symbol };

interface SocketIoAddon {
  init(dispatch: (kind: number, id: number, a: number, b: number, turn: Buffer | null) => void): void;
  open(fd: number, id: number, lane: number): StreamHandle;
  readStart(stream: StreamHandle): void;
  readStop(stream: StreamHandle): void;
  write(stream: StreamHandle, data: Uint8Array | string): boolean;
  cork(stream: StreamHandle): void;
  uncork(stream: StreamHandle): void;
  end(stream: StreamHandle): void;
  pending(stream: StreamHandle): number;
  close(stream: StreamHandle): void;
}

/** The addon's events (native/socket-io.c). */
const EVENT_DATA = 1;
const EVENT_EOF = 2;
const EVENT_DRAIN = 3;
const EVENT_FINISH = 4;
const EVENT_ERROR = 5;
/** EVENT_ERROR's b: which call failed. */
const SYSCALLS = ['', 'read', 'write'];

/**
 * The addon, ready to adopt sockets, or why it is not there. Once per process (the addon
 * keeps one dispatcher per thread): the composition root calls it and passes the result on.
 */
export function loadNativeSocketIo(): { io: NativeSocketIo } | { io: null; reason: string } {
  const load = loadAddon<SocketIoAddon>('socket-io');
  return load.addon === null ? { io: null, reason: load.reason } : { io: new NativeSocketIo(load.addon) };
}

/** Reads this large that share the turn's buffer with others get their own copy. */
const OWN_COPY_BYTES = 16 * 1024;

/**
 * A read's bytes in the turn's buffer: a view, so a turn of small reads costs one buffer.
 * A large read shared with others is copied, so that a consumer keeping it (a request body
 * waiting for its upstream) does not keep the whole turn's reads alive with it.
 */
function chunkOf(turn: Buffer, a: number, b: number): Buffer {
  if (b - a === turn.length) return turn;
  const view = turn.subarray(a, b);
  return b - a >= OWN_COPY_BYTES ? Buffer.from(view) : view;
}

/** The process's native socket I/O: adopts sockets and routes the addon's events to them. */
export class NativeSocketIo {
  /** Adopted sockets by id (the addon's events name them by id); freed ids are reused. */
  private readonly sockets: (NativeSocket | undefined)[] = [];
  private readonly freeIds: number[] = [];

  constructor(readonly addon: SocketIoAddon) {
    addon.init(this.dispatch);
  }

  /** Sockets adopted and not yet closed. */
  get openCount(): number {
    return this.sockets.length - this.freeIds.length;
  }

  /**
   * Moves a plain socket's I/O here: at once when connected, else on 'connect'. The socket's
   * own allowHalfOpen carries over. Returns null (and leaves the socket alone) for a socket
   * the addon cannot take: a TLS socket, one without a file descriptor.
   */
  adopt(socket: net.Socket, lane: ReadLane): NativeSocket | null {
    if ((socket as { encrypted?: boolean }).encrypted === true) return null;
    if (!socket.connecting && (socketFd(socket) < 0 || readingHandle(socket) === null)) return null;
    const id = this.freeIds.pop() ?? this.sockets.length;
    const native = new NativeSocket(this, socket, id, lane);
    this.sockets[id] = native;
    return native;
  }

  /** Called by a socket once its stream is closed: its id may be reused. */
  release(id: number): void {
    this.sockets[id] = undefined;
    this.freeIds.push(id);
  }

  private readonly dispatch = (kind: number, id: number, a: number, b: number, turn: Buffer | null): void => {
    const socket = this.sockets[id];
    if (socket === undefined) return;
    if (kind === EVENT_DATA) socket.onNativeData(chunkOf(turn!, a, b));
    else if (kind === EVENT_EOF) socket.onNativeEof();
    else if (kind === EVENT_DRAIN) socket.onNativeDrain();
    else if (kind === EVENT_FINISH) socket.onNativeFinish();
    else if (kind === EVENT_ERROR) socket.onNativeError(a, SYSCALLS[b] ?? 'io');
  };
}

/** A plain TCP socket whose bytes the addon reads and writes (see the header). */
export class NativeSocket extends EventEmitter implements StreamSocket {
  private stream: StreamHandle | null = null;
  private reader: ((chunk: Buffer) => void) | null = null;
  private paused = false;
  /** Bytes Node had read before the adoption: handed to the reader first. */
  private early: Buffer[] | null = null;
  /** Writes made before the stream opened (a connecting socket), and the corks. */
  private beforeOpen: Array<Uint8Array | string> | null = null;
  private corks = 0;
  private endCalled = false;
  private peerEnded = false;
  private finished = false;
  private needDrain = false;
  private released = false;
  /** Whether the peer's FIN leaves our side open; the adopted socket's setting to start with. */
  allowHalfOpen: boolean;

  constructor(
    private readonly io: NativeSocketIo,
    readonly net: net.Socket,
    private readonly id: number,
    private readonly lane: ReadLane,
  ) {
    super();
    this.allowHalfOpen = net.allowHalfOpen;
    // Node must not start reading on connect (it does unless the socket is paused).
    net.pause();
    if (net.connecting) net.once('connect', this.open);
    else this.open();
    net.on('connect', (...args: unknown[]) => this.emit('connect', ...args));
    net.on('error', (err: Error) => this.emit('error', err));
    net.on('close', (hadError: boolean) => {
      this.closeStream();
      this.emit('close', hadError);
    });
  }

  get destroyed(): boolean {
    return this.net.destroyed;
  }
  get remoteAddress(): string | undefined {
    return this.net.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.net.remotePort;
  }
  get localAddress(): string | undefined {
    return this.net.localAddress;
  }
  get localPort(): number | undefined {
    return this.net.localPort;
  }
  get writableLength(): number {
    if (this.stream !== null) return this.io.addon.pending(this.stream);
    let n = 0;
    for (const piece of this.beforeOpen ?? []) n += piece.length;
    return n;
  }
  get writableNeedDrain(): boolean {
    return this.needDrain;
  }
  get writableFinished(): boolean {
    return this.finished;
  }

  /** Starts delivering the socket's bytes to `onData` (readSocket() calls this). */
  startReading(onData: (chunk: Buffer) => void): void {
    this.reader = onData;
    // Bytes Node had read go first, but after the caller's own set-up (it may still feed
    // bytes it read itself).
    if (this.early !== null) process.nextTick(this.deliverEarly);
    this.updateReading();
  }

  write(data: Uint8Array): boolean;
  write(data: string, encoding: 'latin1'): boolean;
  write(data: Uint8Array | string, _encoding?: 'latin1'): boolean {
    if (this.stream === null) {
      if (this.endCalled || this.net.destroyed) return false;
      (this.beforeOpen ??= []).push(data);
      return true;
    }
    const ok = this.io.addon.write(this.stream, data);
    if (!ok) this.needDrain = true;
    return ok;
  }

  cork(): void {
    if (this.stream !== null) this.io.addon.cork(this.stream);
    else this.corks++;
  }

  uncork(): void {
    if (this.stream !== null) this.io.addon.uncork(this.stream);
    else if (this.corks > 0) this.corks--;
  }

  pause(): this {
    this.paused = true;
    this.updateReading();
    return this;
  }

  resume(): this {
    this.paused = false;
    if (this.early !== null && this.reader !== null) this.deliverEarly();
    this.updateReading();
    return this;
  }

  isPaused(): boolean {
    return this.paused;
  }

  end(): this {
    if (this.endCalled) return this;
    this.endCalled = true;
    if (this.stream !== null) this.io.addon.end(this.stream);
    return this;
  }

  destroy(error?: Error): this {
    this.closeStream();
    this.net.destroy(error);
    return this;
  }

  setNoDelay(noDelay?: boolean): this {
    this.net.setNoDelay(noDelay);
    return this;
  }

  // --- from the addon (NativeSocketIo.dispatch) ---

  onNativeData(chunk: Buffer): void {
    if (this.reader !== null) this.reader(chunk);
    else this.emit('data', chunk);
  }

  onNativeEof(): void {
    this.peerEnded = true;
    this.emit('end');
    if (!this.allowHalfOpen) this.end();
    this.destroyWhenDone();
  }

  onNativeDrain(): void {
    this.needDrain = false;
    this.emit('drain');
  }

  onNativeFinish(): void {
    this.finished = true;
    this.emit('finish');
    this.destroyWhenDone();
  }

  onNativeError(errno: number, syscall: string): void {
    const code = getSystemErrorName(-errno);
    const err = Object.assign(new Error(`${syscall} ${code}`), { code, errno: -errno, syscall });
    this.destroy(err);
  }

  // --- internals ---

  /** Takes the socket's I/O over from Node (once connected). */
  private readonly open = (): void => {
    const net = this.net;
    if (net.destroyed) return;
    const handle = readingHandle(net);
    const fd = socketFd(net);
    if (handle === null || fd < 0) {
      net.destroy(new Error('native socket I/O: the connected socket has no file descriptor'));
      return;
    }
    // What Node has buffered first (read() may restart Node's reading), then Node stops.
    for (let chunk = net.read() as Buffer | null; chunk !== null; chunk = net.read()) {
      (this.early ??= []).push(chunk);
    }
    stopNodeReading(handle);
    let stream: StreamHandle;
    try {
      stream = this.io.addon.open(fd, this.id, this.lane);
    } catch (err) {
      net.destroy(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.stream = stream;
    const addon = this.io.addon;
    // The corks and writes made while connecting, in order: the writes leave in one send
    // (or wait for the caller's own uncork).
    for (; this.corks > 0; this.corks--) addon.cork(stream);
    const queued = this.beforeOpen;
    this.beforeOpen = null;
    if (queued !== null) {
      addon.cork(stream);
      for (const piece of queued) if (!addon.write(stream, piece)) this.needDrain = true;
      addon.uncork(stream);
    }
    if (this.endCalled) addon.end(stream);
    if (this.early !== null && this.reader !== null) process.nextTick(this.deliverEarly);
    this.updateReading();
  };

  private readonly deliverEarly = (): void => {
    const early = this.early;
    if (early === null || this.paused || this.reader === null || this.net.destroyed) return;
    this.early = null;
    for (const chunk of early) this.onNativeData(chunk);
  };

  private updateReading(): void {
    const stream = this.stream;
    if (stream === null) return;
    if (this.reader !== null && !this.paused && !this.peerEnded) this.io.addon.readStart(stream);
    else this.io.addon.readStop(stream);
  }

  /** Node's autoDestroy: both directions done. */
  private destroyWhenDone(): void {
    if (this.peerEnded && this.finished && !this.net.destroyed) this.destroy();
  }

  private closeStream(): void {
    if (this.released) return;
    this.released = true;
    if (this.stream !== null) this.io.addon.close(this.stream);
    this.io.release(this.id);
  }
}
