// One HTTP/2 connection (RFC 9113 §5, §6) on top of frames.ts and hpack/, for either end:
// settings, PING, GOAWAY, stream states, and flow control in both directions. The server
// (server-session.ts) and the client (client-session.ts) add what differs: who opens
// streams, and what a header block means. It owns no socket: bytes come in through
// receive(), and everything it sends goes out through the `write` callback, one batch per
// receive() (and one per event-loop turn for calls made outside it), so many streams'
// frames share one socket write.
//
// Streams are numbers to the user; the session keeps their state. A broken rule of the
// connection is a GOAWAY and onClose; a broken rule of one stream is RST_STREAM and onReset.
//
// Flow control: the connection's receive window is credited as DATA arrives (each stream's
// own window bounds what it may hold), a stream's only as the user reports it consumed().
// Floods of frames that each ask for an answer (PING, SETTINGS, and frames that get a
// RST_STREAM) are bounded as nghttp2 bounds them: more than MAX_PENDING_CONTROL answers
// waiting to go out, or held up by a peer that does not read, is ENHANCE_YOUR_CALM.

import type { HeaderList } from '../http/headers.js';
import { validTrailers } from './field-rules.js';
import {
  CANCEL,
  COMPRESSION_ERROR,
  CONNECTION_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  ENHANCE_YOUR_CALM,
  FLAG_ACK,
  FLAG_END_HEADERS,
  FLAG_END_STREAM,
  FLAG_PADDED,
  FLAG_PRIORITY,
  FLOW_CONTROL_ERROR,
  FRAME_CONTINUATION,
  FRAME_DATA,
  FRAME_GOAWAY,
  FRAME_HEADERS,
  FRAME_PING,
  FRAME_PRIORITY,
  FRAME_PUSH_PROMISE,
  FRAME_RST_STREAM,
  FRAME_SETTINGS,
  FRAME_SIZE_ERROR,
  FRAME_WINDOW_UPDATE,
  type FrameHandler,
  FrameReader,
  FrameWriter,
  MAX_ALLOWED_FRAME_SIZE,
  NO_ERROR,
  PROTOCOL_ERROR,
  SETTINGS_ENABLE_PUSH,
  SETTINGS_HEADER_TABLE_SIZE,
  SETTINGS_INITIAL_WINDOW_SIZE,
  SETTINGS_MAX_CONCURRENT_STREAMS,
  SETTINGS_MAX_FRAME_SIZE,
  SETTINGS_MAX_HEADER_LIST_SIZE,
  STREAM_CLOSED,
} from './frames.js';
import { HpackDecoder, HpackError } from './hpack/decoder.js';
import { encodeHeaderBlock, headerBlockBound } from './hpack/encoder.js';

/** RFC 9113 §6.9.1: the largest flow-control window. */
const MAX_WINDOW = 2 ** 31 - 1;
/** The initial window of every stream and of the connection (RFC 9113 §6.9.2). */
const DEFAULT_WINDOW = 65_535;
/** Answers to control frames (ACKs, RST_STREAMs) that may wait for the socket at once. */
export const MAX_PENDING_CONTROL = 1000;
/** SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3). */
const SETTINGS_ENABLE_CONNECT_PROTOCOL = 8;

export interface SessionSettings {
  /** SETTINGS_MAX_CONCURRENT_STREAMS: more open requests are refused (REFUSED_STREAM). */
  readonly maxConcurrentStreams: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE: each request body's receive window. */
  readonly initialWindowSize: number;
  /** The connection's receive window (raised from 65,535 with a WINDOW_UPDATE at the start). */
  readonly connectionWindowSize: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE, enforced while decoding. */
  readonly maxHeaderListSize: number;
  /** SETTINGS_HEADER_TABLE_SIZE: the HPACK table the client may use. */
  readonly headerTableSize: number;
  /** Header block bytes one HEADERS + CONTINUATION sequence may carry (CONTINUATION flood). */
  readonly maxHeaderBlockBytes: number;
  /**
   * Streams the peer may get refused or reset for breaking the protocol before the
   * connection is closed with ENHANCE_YOUR_CALM (as nghttp2's rejected-stream and
   * invalid-frame caps do).
   */
  readonly maxStreamErrors: number;
  /** SETTINGS_ENABLE_CONNECT_PROTOCOL: extended CONNECT (`:protocol`, RFC 8441) is allowed. */
  readonly enableConnectProtocol: boolean;
}

export const DEFAULT_SESSION_SETTINGS: SessionSettings = Object.freeze({
  maxConcurrentStreams: 100,
  initialWindowSize: DEFAULT_WINDOW,
  connectionWindowSize: DEFAULT_WINDOW,
  maxHeaderListSize: 64 * 1024,
  headerTableSize: 4096,
  maxHeaderBlockBytes: 128 * 1024,
  maxStreamErrors: 100,
  enableConnectProtocol: false,
});

/** What either end hears from its session. */
export interface Http2SessionHandler {
  /** Trailers; the message ends with them. */
  onTrailers(stream: number, trailers: HeaderList): void;
  /** Body bytes; call consumed() once they are handled, to reopen the window. */
  onData(stream: number, chunk: Buffer, endStream: boolean): void;
  /** The stream ended abnormally (peer RST_STREAM, or refused here); nothing more comes for it. */
  onReset(stream: number, code: number): void;
  /** The stream is closed (both sides ended, or reset either way); its number is free. */
  onStreamClosed?(stream: number): void;
  /** Data queued for lack of window has gone out: more may be sent. */
  onWritable(stream: number): void;
  /** A queued END_STREAM (with the last data or trailers) has gone out. */
  onEndSent?(stream: number): void;
  /**
   * The connection is ending: GOAWAY sent (byPeer false; already handed to `write`, so the
   * socket may be ended here) or received.
   */
  onClose(code: number, message: string, byPeer: boolean): void;
}

export interface StreamState {
  readonly id: number;
  sendWindow: number;
  /** What the peer may still send on this stream. */
  recvWindow: number;
  /** Received body bytes the user has consumed but the peer has not been credited for. */
  unacked: number;
  remoteEnded: boolean;
  localEnded: boolean;
  responded: boolean;
  /** Response data waiting for window, and how it ends. */
  queue: Buffer[];
  queuedEnd: boolean;
  queuedTrailers: HeaderList | null;
  /** RST_STREAM NO_ERROR once the queued response is out (finish()). */
  resetAfterQueue: boolean;
  /** The message's content-length, or -1; DATA must add up to it (RFC 9113 §8.1.1). */
  declaredLength: number;
  /** The peer's (final) head has arrived: another header block is its trailers. */
  headReceived: boolean;
  /** Request body bytes received. */
  received: number;
}

export abstract class Http2Session<H extends Http2SessionHandler = Http2SessionHandler>
  implements FrameHandler
{
  private readonly reader: FrameReader;
  protected readonly writer = new FrameWriter();
  private readonly hpack: HpackDecoder;
  protected readonly streams = new Map<number, StreamState>();
  /** Streams with queued response data, in the order they blocked. */
  private readonly blocked: StreamState[] = [];
  /** The highest stream id opened (by the client). */
  protected lastStream = 0;
  private peerInitialWindow = DEFAULT_WINDOW;
  /** The peer's SETTINGS_MAX_CONCURRENT_STREAMS (no limit until it says). */
  peerMaxConcurrentStreams = Number.POSITIVE_INFINITY;
  private connSendWindow = DEFAULT_WINDOW;
  private connRecvWindow: number;
  private connUnacked = 0;
  /** A header block in progress: its stream, bytes so far and END_STREAM flag. */
  private continuing = 0;
  private headerBlock: Buffer[] = [];
  private headerBlockBytes = 0;
  private headerBlockEndStream = false;
  /** GOAWAY sent or received: no new streams; open ones may finish. */
  protected closed = false;
  /** A connection error: nothing more is read or sent. */
  private dead = false;
  /** Control answers written since the output last drained (see MAX_PENDING_CONTROL). */
  private pendingControl = 0;
  /** The last write was not taken at once (the owner calls outputDrained()). */
  private outputBlocked = false;
  /** Streams refused or reset here because of the peer (see maxStreamErrors). */
  private streamErrors = 0;
  private receiving = false;
  private flushQueued = false;
  private scratch = Buffer.allocUnsafe(1024);

  /** `write` returns false when the bytes wait in a buffer (then call outputDrained()). */
  constructor(
    private readonly write: (data: Buffer) => boolean | undefined,
    protected readonly handler: H,
    protected readonly settings: SessionSettings,
    client: boolean,
  ) {
    // The client sends the connection preface; the server reads it first (RFC 9113 §3.4).
    this.reader = new FrameReader(!client);
    if (client) this.write(CONNECTION_PREFACE);
    this.hpack = new HpackDecoder({
      maxTableSize: settings.headerTableSize,
      maxHeaderListSize: settings.maxHeaderListSize,
    });
    this.connRecvWindow = settings.connectionWindowSize;
    this.writer.settings([
      // A client's limit is on pushed streams, which it refuses anyway.
      [SETTINGS_MAX_CONCURRENT_STREAMS, client ? 0 : settings.maxConcurrentStreams],
      [SETTINGS_INITIAL_WINDOW_SIZE, settings.initialWindowSize],
      [SETTINGS_MAX_HEADER_LIST_SIZE, settings.maxHeaderListSize],
      [SETTINGS_HEADER_TABLE_SIZE, settings.headerTableSize],
      [SETTINGS_ENABLE_PUSH, 0],
      ...(!client && settings.enableConnectProtocol ? [[SETTINGS_ENABLE_CONNECT_PROTOCOL, 1] as const] : []),
    ]);
    if (settings.connectionWindowSize > DEFAULT_WINDOW)
      this.writer.windowUpdate(0, settings.connectionWindowSize - DEFAULT_WINDOW);
    this.flushSoon();
  }

  /** Open streams. */
  get activeStreams(): number {
    return this.streams.size;
  }

  /** The stream has data waiting for flow-control window (onWritable follows when it is out). */
  hasQueued(stream: number): boolean {
    const s = this.streams.get(stream);
    return s !== undefined && s.queue.length > 0;
  }

  /** The stream is open (not yet closed or reset). */
  isOpen(stream: number): boolean {
    return this.streams.has(stream);
  }

  /** The owner's buffer of written bytes has drained. */
  outputDrained(): void {
    this.outputBlocked = false;
    this.pendingControl = 0;
  }

  /** Bytes read from the connection. */
  receive(chunk: Buffer): void {
    if (this.dead) return;
    this.receiving = true;
    try {
      const err = this.reader.push(chunk, this);
      if (err !== null) this.fail(err.code, err.message);
    } catch (err) {
      if (!(err instanceof SessionError)) throw err;
      this.fail(err.code, err.message);
    } finally {
      this.receiving = false;
    }
    this.flush();
  }

  /**
   * Body bytes (`endStream` ends the message). False when they wait for flow control
   * window: send no more until onWritable(stream).
   */
  data(stream: number, chunk: Buffer, endStream: boolean): boolean {
    const s = this.streams.get(stream);
    if (s === undefined || s.localEnded) return true;
    if (s.queue.length > 0) {
      s.queue.push(chunk);
      s.queuedEnd = endStream;
      return false;
    }
    const n = Math.min(chunk.length, s.sendWindow, this.connSendWindow);
    if (n === chunk.length) {
      this.sendData(s, chunk, 0, n, endStream);
      return true;
    }
    if (n > 0) this.sendData(s, chunk, 0, n, false);
    s.queue.push(chunk.subarray(n));
    s.queuedEnd = endStream;
    this.blocked.push(s);
    return false;
  }

  /** Trailers; the message ends with them. */
  trailers(stream: number, trailers: HeaderList): void {
    const s = this.streams.get(stream);
    if (s === undefined || s.localEnded) return;
    if (s.queue.length > 0) s.queuedTrailers = trailers;
    else this.sendHeaders(s, trailers, true);
  }

  /** The user handled `bytes` of the stream's body: credit the peer when half a window is due. */
  consumed(stream: number, bytes: number): void {
    const s = this.streams.get(stream);
    if (s === undefined || s.remoteEnded) return;
    s.unacked += bytes;
    if (s.unacked >= this.settings.initialWindowSize / 2) {
      this.writer.windowUpdate(stream, s.unacked);
      s.recvWindow += s.unacked;
      s.unacked = 0;
      this.flushSoon();
    }
  }

  /** Ends a stream now with RST_STREAM (`code`, e.g. CANCEL or INTERNAL_ERROR). */
  reset(stream: number, code: number): void {
    const s = this.streams.get(stream);
    if (s === undefined) return;
    this.writer.rstStream(stream, code);
    this.close(s);
    this.flushSoon();
  }

  /**
   * Our side is complete (or queued to be) but the peer's is not: once the queued data is
   * out, RST_STREAM NO_ERROR stops the rest of it (RFC 9113 §8.1).
   */
  finish(stream: number): void {
    const s = this.streams.get(stream);
    if (s === undefined || s.remoteEnded) return;
    if (s.queue.length > 0 || s.queuedTrailers !== null) s.resetAfterQueue = true;
    else this.reset(stream, NO_ERROR);
  }

  /**
   * GOAWAY: no new streams. With NO_ERROR the open ones may finish (the owner closes the
   * connection when activeStreams is 0); with an error code nothing more is read, every
   * open stream is reset, and onClose follows.
   */
  goaway(code: number, message: string): void {
    if (code !== NO_ERROR) {
      this.fail(code, message);
      return;
    }
    if (this.closed || this.dead) return;
    this.closed = true;
    this.writer.goaway(this.lastStream, code, message);
    // Written before onClose, so that the owner may end the socket there.
    this.flush();
    this.handler.onClose(code, message, false);
  }

  // ------------------------------------------------------------------------------------
  // Incoming frames

  onFrame(type: number, flags: number, stream: number, payload: Buffer, start: number, end: number): void {
    if (this.dead) return;
    if (this.continuing !== 0 && (type !== FRAME_CONTINUATION || stream !== this.continuing)) {
      throw new SessionError(PROTOCOL_ERROR, 'a header block was interrupted by another frame');
    }
    switch (type) {
      case FRAME_DATA:
        this.onDataFrame(flags, stream, payload, start, end);
        return;
      case FRAME_HEADERS:
        this.onHeadersFrame(flags, stream, payload, start, end);
        return;
      case FRAME_CONTINUATION:
        if (this.continuing === 0) throw new SessionError(PROTOCOL_ERROR, 'CONTINUATION without HEADERS');
        this.addHeaderFragment(payload, start, end, (flags & FLAG_END_HEADERS) !== 0);
        return;
      case FRAME_PRIORITY:
        if (stream === 0) throw new SessionError(PROTOCOL_ERROR, 'PRIORITY on stream 0');
        // A stream error would be a RST_STREAM on a stream that may be idle (§5.1): the
        // connection's instead, as nghttp2 does.
        if (end - start !== 5) throw new SessionError(FRAME_SIZE_ERROR, 'PRIORITY payload is not 5 bytes');
        return;
      case FRAME_RST_STREAM:
        this.onRstStream(stream, payload, start, end);
        return;
      case FRAME_SETTINGS:
        this.onSettings(flags, stream, payload, start, end);
        return;
      case FRAME_PUSH_PROMISE:
        throw new SessionError(PROTOCOL_ERROR, 'a client must not send PUSH_PROMISE');
      case FRAME_PING:
        if (stream !== 0) throw new SessionError(PROTOCOL_ERROR, 'PING on a stream');
        if (end - start !== 8) throw new SessionError(FRAME_SIZE_ERROR, 'PING payload is not 8 bytes');
        if ((flags & FLAG_ACK) === 0) {
          this.countControl();
          this.writer.ping(true, payload, start);
        }
        return;
      case FRAME_GOAWAY:
        this.onGoaway(stream, payload, start, end);
        return;
      case FRAME_WINDOW_UPDATE:
        this.onWindowUpdate(stream, payload, start, end);
        return;
      default:
      // Unknown frame types are ignored (RFC 9113 §4.1).
    }
  }

  private onHeadersFrame(flags: number, stream: number, payload: Buffer, start: number, end: number): void {
    if (stream === 0 || stream % 2 === 0)
      throw new SessionError(PROTOCOL_ERROR, `HEADERS on stream ${stream}`);
    let from = start;
    let to = end;
    if (flags & FLAG_PADDED) {
      if (from >= to) throw new SessionError(PROTOCOL_ERROR, 'padded HEADERS without a pad length');
      to -= payload[from++];
    }
    if (flags & FLAG_PRIORITY) from += 5;
    if (from > to) throw new SessionError(PROTOCOL_ERROR, 'HEADERS padding longer than the frame');
    if (!this.streams.has(stream)) this.headersOnUnknownStream(stream);
    this.continuing = stream;
    this.headerBlock = [];
    this.headerBlockBytes = 0;
    this.headerBlockEndStream = (flags & FLAG_END_STREAM) !== 0;
    this.addHeaderFragment(payload, from, to, (flags & FLAG_END_HEADERS) !== 0);
  }

  private addHeaderFragment(payload: Buffer, start: number, end: number, last: boolean): void {
    this.headerBlockBytes += end - start;
    if (this.headerBlockBytes > this.settings.maxHeaderBlockBytes) {
      throw new SessionError(
        ENHANCE_YOUR_CALM,
        `header block over ${this.settings.maxHeaderBlockBytes} bytes`,
      );
    }
    if (last && this.headerBlock.length === 0) {
      this.onHeaderBlock(payload, start, end);
      return;
    }
    this.headerBlock.push(Buffer.from(payload.subarray(start, end)));
    if (!last) return;
    const block = Buffer.concat(this.headerBlock);
    this.headerBlock = [];
    this.onHeaderBlock(block, 0, block.length);
  }

  /** A complete header block, decoded in order so that HPACK stays in step. */
  private onHeaderBlock(block: Buffer, start: number, end: number): void {
    const id = this.continuing;
    this.continuing = 0;
    const endStream = this.headerBlockEndStream;
    const fields: HeaderList = [];
    let tooLarge = false;
    try {
      this.hpack.decode(block, start, end, fields);
    } catch (err) {
      if (!(err instanceof HpackError)) throw err;
      // The table may be out of step with the peer's unless the list was only too large.
      if (!err.tooLarge) throw new SessionError(COMPRESSION_ERROR, err.message);
      tooLarge = true;
    }
    this.onHeaderFields(id, fields, endStream, tooLarge);
  }

  /**
   * HEADERS on a stream that is not open: the server's new request, or a stream closed
   * here. Throws SessionError when that is a connection error.
   */
  protected abstract headersOnUnknownStream(stream: number): void;

  /** A decoded header block (`tooLarge`: over the header list limit, not decoded whole). */
  protected abstract onHeaderFields(
    id: number,
    fields: HeaderList,
    endStream: boolean,
    tooLarge: boolean,
  ): void;

  /** A header block on an open stream whose head has arrived: its trailers (RFC 9113 §8.1). */
  protected onTrailerFields(s: StreamState, fields: HeaderList, endStream: boolean, tooLarge: boolean): void {
    if (s.remoteEnded) throw new SessionError(STREAM_CLOSED, `HEADERS after the end of stream ${s.id}`);
    if (
      !endStream ||
      tooLarge ||
      !validTrailers(fields) ||
      (s.declaredLength >= 0 && s.received !== s.declaredLength)
    ) {
      this.streamError(s.id, PROTOCOL_ERROR);
      return;
    }
    s.remoteEnded = true;
    this.handler.onTrailers(s.id, fields);
    this.maybeClose(s);
  }

  /** A new stream's state; `remoteEnded` when the peer's side ended with its head. */
  protected openStream(
    id: number,
    remoteEnded: boolean,
    declaredLength: number,
    headReceived: boolean,
  ): StreamState {
    const s: StreamState = {
      id,
      sendWindow: this.peerInitialWindow,
      recvWindow: this.settings.initialWindowSize,
      unacked: 0,
      remoteEnded,
      localEnded: false,
      responded: false,
      queue: [],
      queuedEnd: false,
      queuedTrailers: null,
      resetAfterQueue: false,
      declaredLength,
      headReceived,
      received: 0,
    };
    this.streams.set(id, s);
    return s;
  }

  private onDataFrame(flags: number, stream: number, payload: Buffer, start: number, end: number): void {
    if (stream === 0) throw new SessionError(PROTOCOL_ERROR, 'DATA on stream 0');
    const length = end - start;
    // Flow control counts the whole payload, padding included (RFC 9113 §6.9.1).
    if (length > this.connRecvWindow)
      throw new SessionError(FLOW_CONTROL_ERROR, 'DATA beyond the connection window');
    this.connRecvWindow -= length;
    // The connection's window reopens on receipt: the streams' windows bound what is held.
    this.connUnacked += length;
    if (this.connUnacked >= this.settings.connectionWindowSize / 2) {
      this.writer.windowUpdate(0, this.connUnacked);
      this.connRecvWindow += this.connUnacked;
      this.connUnacked = 0;
    }
    let from = start;
    let to = end;
    if (flags & FLAG_PADDED) {
      if (from >= to) throw new SessionError(PROTOCOL_ERROR, 'padded DATA without a pad length');
      to -= payload[from++];
      if (from > to) throw new SessionError(PROTOCOL_ERROR, 'DATA padding longer than the frame');
    }
    const s = this.streams.get(stream);
    if (s === undefined) {
      if (stream > this.lastStream) throw new SessionError(PROTOCOL_ERROR, `DATA on idle stream ${stream}`);
      // A stream closed here (reset, refused): its bytes only counted for the connection.
      return;
    }
    if (s.remoteEnded) {
      this.streamError(stream, STREAM_CLOSED);
      return;
    }
    if (!s.headReceived) {
      // DATA before the head (a response's HEADERS): malformed (RFC 9113 §8.1).
      this.streamError(stream, PROTOCOL_ERROR);
      return;
    }
    if (length > s.recvWindow) {
      this.streamError(stream, FLOW_CONTROL_ERROR);
      return;
    }
    s.recvWindow -= length;
    const padding = length - (to - from);
    if (padding > 0) this.consumed(stream, padding);
    const endStream = (flags & FLAG_END_STREAM) !== 0;
    s.received += to - from;
    if (
      s.declaredLength >= 0 &&
      (s.received > s.declaredLength || (endStream && s.received !== s.declaredLength))
    ) {
      // The body disagrees with its content-length: malformed (RFC 9113 §8.1.1).
      this.streamError(stream, PROTOCOL_ERROR);
      return;
    }
    if (endStream) s.remoteEnded = true;
    if (to > from || endStream) this.handler.onData(stream, payload.subarray(from, to), endStream);
    this.maybeClose(s);
  }

  private onRstStream(stream: number, payload: Buffer, start: number, end: number): void {
    if (stream === 0) throw new SessionError(PROTOCOL_ERROR, 'RST_STREAM on stream 0');
    if (end - start !== 4) throw new SessionError(FRAME_SIZE_ERROR, 'RST_STREAM payload is not 4 bytes');
    if (stream > this.lastStream)
      throw new SessionError(PROTOCOL_ERROR, `RST_STREAM on idle stream ${stream}`);
    const s = this.streams.get(stream);
    if (s === undefined) return;
    this.close(s, payload.readUInt32BE(start));
  }

  private onSettings(flags: number, stream: number, payload: Buffer, start: number, end: number): void {
    if (stream !== 0) throw new SessionError(PROTOCOL_ERROR, 'SETTINGS on a stream');
    if (flags & FLAG_ACK) {
      if (end !== start) throw new SessionError(FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload');
      return;
    }
    if ((end - start) % 6 !== 0)
      throw new SessionError(FRAME_SIZE_ERROR, 'SETTINGS payload not a multiple of 6');
    for (let p = start; p < end; p += 6) {
      const id = payload.readUInt16BE(p);
      const value = payload.readUInt32BE(p + 2);
      if (id === SETTINGS_ENABLE_PUSH && value > 1) {
        throw new SessionError(PROTOCOL_ERROR, 'SETTINGS_ENABLE_PUSH must be 0 or 1');
      } else if (id === SETTINGS_INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW)
          throw new SessionError(FLOW_CONTROL_ERROR, 'SETTINGS_INITIAL_WINDOW_SIZE too large');
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const s of this.streams.values()) {
          s.sendWindow += delta;
          if (s.sendWindow > MAX_WINDOW)
            throw new SessionError(FLOW_CONTROL_ERROR, 'a stream window overflowed');
        }
      } else if (id === SETTINGS_MAX_CONCURRENT_STREAMS) {
        this.peerMaxConcurrentStreams = value;
      } else if (id === SETTINGS_MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_ALLOWED_FRAME_SIZE) {
          throw new SessionError(PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${value} out of range`);
        }
        this.writer.maxFrameSize = value;
      }
      // SETTINGS_HEADER_TABLE_SIZE is for our encoder, which keeps no dynamic table.
    }
    this.countControl();
    this.writer.settingsAck();
    this.drainBlocked();
    this.onSettingsApplied();
  }

  private onGoaway(stream: number, payload: Buffer, start: number, end: number): void {
    if (stream !== 0) throw new SessionError(PROTOCOL_ERROR, 'GOAWAY on a stream');
    if (end - start < 8) throw new SessionError(FRAME_SIZE_ERROR, 'GOAWAY payload shorter than 8 bytes');
    const code = payload.readUInt32BE(start + 4);
    // No new streams from here on, before the streams left out hear of it: a client that
    // sends one of them again at once must not be handed this session.
    const wasClosed = this.closed;
    this.closed = true;
    this.onPeerGoaway(payload.readUInt32BE(start) & 0x7fffffff);
    if (wasClosed) return;
    this.handler.onClose(code, payload.toString('utf8', start + 8, end), true);
  }

  private onWindowUpdate(stream: number, payload: Buffer, start: number, end: number): void {
    if (end - start !== 4) throw new SessionError(FRAME_SIZE_ERROR, 'WINDOW_UPDATE payload is not 4 bytes');
    const increment = payload.readUInt32BE(start) & 0x7fffffff;
    if (stream === 0) {
      if (increment === 0) throw new SessionError(PROTOCOL_ERROR, 'WINDOW_UPDATE of 0 on the connection');
      this.connSendWindow += increment;
      if (this.connSendWindow > MAX_WINDOW)
        throw new SessionError(FLOW_CONTROL_ERROR, 'connection window overflowed');
      this.drainBlocked();
      return;
    }
    const s = this.streams.get(stream);
    if (s === undefined) {
      if (stream > this.lastStream)
        throw new SessionError(PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${stream}`);
      return;
    }
    if (increment === 0) {
      this.streamError(stream, PROTOCOL_ERROR);
      return;
    }
    s.sendWindow += increment;
    if (s.sendWindow > MAX_WINDOW) {
      this.streamError(stream, FLOW_CONTROL_ERROR);
      return;
    }
    this.drainBlocked();
  }

  /** GOAWAY from the peer, with the last stream it will process: the client's retry point. */
  protected onPeerGoaway(_lastStream: number): void {}

  /** The peer's SETTINGS were applied (peerMaxConcurrentStreams may have changed). */
  protected onSettingsApplied(): void {}

  // ------------------------------------------------------------------------------------
  // Sending

  protected sendHeaders(s: StreamState, headers: HeaderList, endStream: boolean): void {
    const bound = headerBlockBound(headers);
    if (this.scratch.length < bound)
      this.scratch = Buffer.allocUnsafe(Math.max(bound, this.scratch.length * 2));
    const n = encodeHeaderBlock(headers, this.scratch, 0);
    this.writer.headers(s.id, this.scratch, 0, n, endStream);
    if (endStream) {
      s.localEnded = true;
      this.maybeClose(s);
    }
    this.flushSoon();
  }

  private sendData(s: StreamState, chunk: Buffer, start: number, end: number, endStream: boolean): void {
    const n = end - start;
    s.sendWindow -= n;
    this.connSendWindow -= n;
    this.writer.data(s.id, chunk, start, end, endStream);
    if (endStream) {
      s.localEnded = true;
      this.maybeClose(s);
    }
    this.flushSoon();
  }

  /** Sends queued response data as window allows, oldest blocked stream first. */
  private drainBlocked(): void {
    let i = 0;
    while (i < this.blocked.length && this.connSendWindow > 0) {
      const s = this.blocked[i];
      while (s.queue.length > 0 && s.sendWindow > 0 && this.connSendWindow > 0) {
        const chunk = s.queue[0];
        const n = Math.min(chunk.length, s.sendWindow, this.connSendWindow);
        const whole = n === chunk.length;
        const last = whole && s.queue.length === 1;
        this.sendData(s, chunk, 0, n, last && s.queuedEnd && s.queuedTrailers === null);
        if (whole) s.queue.shift();
        else s.queue[0] = chunk.subarray(n);
      }
      if (s.queue.length > 0) {
        i++;
        continue;
      }
      // Its last DATA may have ended the stream, and close() has then taken it off the list.
      if (this.blocked[i] === s) this.blocked.splice(i, 1);
      if (s.queuedTrailers !== null) {
        const t = s.queuedTrailers;
        s.queuedTrailers = null;
        this.sendHeaders(s, t, true);
      }
      if (s.resetAfterQueue) this.reset(s.id, NO_ERROR);
      else if (!s.localEnded) this.handler.onWritable(s.id);
      else this.handler.onEndSent?.(s.id);
    }
  }

  // ------------------------------------------------------------------------------------
  // Stream and connection ends

  protected maybeClose(s: StreamState): void {
    if (s.remoteEnded && s.localEnded) this.close(s);
  }

  /** Forgets a stream; the user hears onReset(`resetCode`) first when it ended abnormally. */
  protected close(s: StreamState, resetCode = -1): void {
    if (!this.streams.delete(s.id)) return;
    if (s.queue.length > 0) {
      const b = this.blocked.indexOf(s);
      if (b >= 0) this.blocked.splice(b, 1);
      s.queue = [];
    }
    if (resetCode >= 0) this.handler.onReset(s.id, resetCode);
    this.handler.onStreamClosed?.(s.id);
  }

  /**
   * A stream error (RFC 9113 §5.4.2): RST_STREAM, and the user hears onReset if the stream
   * was open (a refused or malformed new one never was). Counts toward maxStreamErrors.
   */
  protected streamError(stream: number, code: number): void {
    this.countControl();
    this.writer.rstStream(stream, code);
    const s = this.streams.get(stream);
    if (s !== undefined) this.close(s, code);
    this.countStreamError();
  }

  /** One more answer to a peer's frame waiting to go out (see MAX_PENDING_CONTROL). */
  private countControl(): void {
    if (++this.pendingControl > MAX_PENDING_CONTROL) {
      throw new SessionError(
        ENHANCE_YOUR_CALM,
        `more than ${MAX_PENDING_CONTROL} control answers waiting to be sent`,
      );
    }
  }

  private countStreamError(): void {
    if (++this.streamErrors > this.settings.maxStreamErrors) {
      throw new SessionError(
        ENHANCE_YOUR_CALM,
        `more than ${this.settings.maxStreamErrors} refused or broken streams`,
      );
    }
  }

  /** A connection error (RFC 9113 §5.4.1): GOAWAY with the code, every stream reset. */
  private fail(code: number, message: string): void {
    if (this.dead) return;
    this.writer.goaway(this.lastStream, code, message);
    this.closed = true;
    this.dead = true;
    // Written before the callbacks, so that the owner may end the socket in onClose.
    this.flush();
    const open = [...this.streams.keys()];
    for (const id of open) {
      const s = this.streams.get(id);
      if (s !== undefined) this.close(s, code === NO_ERROR ? CANCEL : code);
    }
    this.handler.onClose(code, message, false);
  }

  /**
   * Writes made outside receive() (responses from upstream reads) go out once per turn of
   * the event loop, after every I/O callback of the turn: the responses of many streams
   * whose upstreams answered together share one socket write.
   */
  protected flushSoon(): void {
    if (this.receiving || this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(this.flushQueuedOutput);
  }

  private readonly flushQueuedOutput = (): void => {
    this.flushQueued = false;
    this.flush();
  };

  /** Hands what is queued to `write` now (before the owner ends the socket). */
  flush(): void {
    const out = this.writer.take();
    if (out === null) return;
    if (this.write(out) === false) this.outputBlocked = true;
    else if (!this.outputBlocked) this.pendingControl = 0;
  }
}

export class SessionError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
