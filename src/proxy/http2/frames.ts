// HTTP/2 framing (RFC 9113 §4, §6): the frame layer of Weft's own HTTP/2 codec. A
// FrameReader checks the client connection preface and cuts the byte stream into frames
// (frames split across reads are reassembled; frames over the advertised SETTINGS_MAX_FRAME_SIZE
// are a FRAME_SIZE_ERROR). A FrameWriter appends frames to one output batch, so that all
// frames produced while handling one read leave in one socket write; HEADERS blocks and
// DATA larger than the peer's maximum frame size are split. Stream states, flow control and
// HPACK sit above this layer.

export const FRAME_HEADER_BYTES = 9;
/** RFC 9113 §3.4. */
export const CONNECTION_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** SETTINGS_MAX_FRAME_SIZE's initial value and lower bound (RFC 9113 §6.5.2). */
export const DEFAULT_MAX_FRAME_SIZE = 16_384;
export const MAX_ALLOWED_FRAME_SIZE = 16_777_215;

// Frame types (RFC 9113 §6).
export const FRAME_DATA = 0x0;
export const FRAME_HEADERS = 0x1;
export const FRAME_PRIORITY = 0x2;
export const FRAME_RST_STREAM = 0x3;
export const FRAME_SETTINGS = 0x4;
export const FRAME_PUSH_PROMISE = 0x5;
export const FRAME_PING = 0x6;
export const FRAME_GOAWAY = 0x7;
export const FRAME_WINDOW_UPDATE = 0x8;
export const FRAME_CONTINUATION = 0x9;

// Flags.
export const FLAG_ACK = 0x1;
export const FLAG_END_STREAM = 0x1;
export const FLAG_END_HEADERS = 0x4;
export const FLAG_PADDED = 0x8;
export const FLAG_PRIORITY = 0x20;

// Error codes (RFC 9113 §7).
export const NO_ERROR = 0x0;
export const PROTOCOL_ERROR = 0x1;
export const INTERNAL_ERROR = 0x2;
export const FLOW_CONTROL_ERROR = 0x3;
export const SETTINGS_TIMEOUT = 0x4;
export const STREAM_CLOSED = 0x5;
export const FRAME_SIZE_ERROR = 0x6;
export const REFUSED_STREAM = 0x7;
export const CANCEL = 0x8;
export const COMPRESSION_ERROR = 0x9;
export const CONNECT_ERROR = 0xa;
export const ENHANCE_YOUR_CALM = 0xb;
export const INADEQUATE_SECURITY = 0xc;
export const HTTP_1_1_REQUIRED = 0xd;

// Settings (RFC 9113 §6.5.2, RFC 8441 §3).
export const SETTINGS_HEADER_TABLE_SIZE = 0x1;
export const SETTINGS_ENABLE_PUSH = 0x2;
export const SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;
export const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
export const SETTINGS_MAX_FRAME_SIZE = 0x5;
export const SETTINGS_MAX_HEADER_LIST_SIZE = 0x6;
export const SETTINGS_ENABLE_CONNECT_PROTOCOL = 0x8;

/** What a FrameReader hands over: one frame's header, and its payload as payload[start, end). */
export interface FrameHandler {
  onFrame(type: number, flags: number, stream: number, payload: Buffer, start: number, end: number): void;
}

/** A connection-level failure found while reading: the GOAWAY code and why. */
export interface FramingError {
  readonly code: number;
  readonly message: string;
}

export class FrameReader {
  /** Bytes of an incomplete frame (or preface) carried over to the next read. */
  private pending: Buffer | null = null;
  private prefaceSeen: boolean;
  /** The SETTINGS_MAX_FRAME_SIZE this side advertised. */
  maxFrameSize = DEFAULT_MAX_FRAME_SIZE;

  /** `expectPreface`: a server reads the client's connection preface first. */
  constructor(expectPreface: boolean) {
    this.prefaceSeen = !expectPreface;
  }

  /**
   * Feeds bytes from the socket; calls handler.onFrame for each complete frame, in order.
   * Returns null, or the error that ends the connection (nothing is read after it).
   */
  push(chunk: Buffer, handler: FrameHandler): FramingError | null {
    let buf = chunk;
    if (this.pending !== null) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let pos = 0;
    if (!this.prefaceSeen) {
      const n = Math.min(buf.length, CONNECTION_PREFACE.length);
      if (buf.compare(CONNECTION_PREFACE, 0, n, 0, n) !== 0) {
        return { code: PROTOCOL_ERROR, message: 'the connection did not start with the HTTP/2 preface' };
      }
      if (buf.length < CONNECTION_PREFACE.length) {
        this.pending = buf;
        return null;
      }
      pos = CONNECTION_PREFACE.length;
      this.prefaceSeen = true;
    }
    const len = buf.length;
    while (len - pos >= FRAME_HEADER_BYTES) {
      const length = (buf[pos] << 16) | (buf[pos + 1] << 8) | buf[pos + 2];
      if (length > this.maxFrameSize) {
        return {
          code: FRAME_SIZE_ERROR,
          message: `frame of ${length} bytes exceeds SETTINGS_MAX_FRAME_SIZE ${this.maxFrameSize}`,
        };
      }
      const end = pos + FRAME_HEADER_BYTES + length;
      if (end > len) break;
      const stream =
        ((buf[pos + 5] & 0x7f) << 24) | (buf[pos + 6] << 16) | (buf[pos + 7] << 8) | buf[pos + 8];
      handler.onFrame(buf[pos + 3], buf[pos + 4], stream, buf, pos + FRAME_HEADER_BYTES, end);
      pos = end;
    }
    // The rest is kept as a copy: the chunk may be a view of a buffer that is reused.
    if (pos < len) this.pending = Buffer.from(buf.subarray(pos));
    return null;
  }
}

/** Frames queued for one socket write. */
export class FrameWriter {
  private buf: Buffer;
  private pos = 0;
  /** The peer's SETTINGS_MAX_FRAME_SIZE: HEADERS and DATA are split to fit it. */
  maxFrameSize = DEFAULT_MAX_FRAME_SIZE;

  constructor(initialBytes = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes queued. */
  get length(): number {
    return this.pos;
  }

  /** The queued bytes, handed over (the writer starts a new buffer); null when nothing is queued. */
  take(): Buffer | null {
    if (this.pos === 0) return null;
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(Math.max(16 * 1024, this.buf.length - this.pos));
    this.pos = 0;
    return out;
  }

  settings(entries: ReadonlyArray<readonly [number, number]>): void {
    const at = this.header(entries.length * 6, FRAME_SETTINGS, 0, 0);
    for (let i = 0; i < entries.length; i++) {
      this.buf.writeUInt16BE(entries[i][0], at + i * 6);
      this.buf.writeUInt32BE(entries[i][1], at + i * 6 + 2);
    }
  }

  settingsAck(): void {
    this.header(0, FRAME_SETTINGS, FLAG_ACK, 0);
  }

  /** A PING, or its ACK, with the 8 payload bytes src[start, start + 8). */
  ping(ack: boolean, src: Buffer, start: number): void {
    const at = this.header(8, FRAME_PING, ack ? FLAG_ACK : 0, 0);
    src.copy(this.buf, at, start, start + 8);
  }

  windowUpdate(stream: number, increment: number): void {
    const at = this.header(4, FRAME_WINDOW_UPDATE, 0, stream);
    this.buf.writeUInt32BE(increment, at);
  }

  rstStream(stream: number, code: number): void {
    const at = this.header(4, FRAME_RST_STREAM, 0, stream);
    this.buf.writeUInt32BE(code, at);
  }

  goaway(lastStream: number, code: number, debug: string): void {
    const debugBytes = Buffer.byteLength(debug, 'utf8');
    const at = this.header(8 + debugBytes, FRAME_GOAWAY, 0, 0);
    this.buf.writeUInt32BE(lastStream, at);
    this.buf.writeUInt32BE(code, at + 4);
    this.buf.write(debug, at + 8, 'utf8');
  }

  /** A header block: one HEADERS frame, then CONTINUATION frames if it is larger than a frame. */
  headers(stream: number, block: Buffer, start: number, end: number, endStream: boolean): void {
    let type = FRAME_HEADERS;
    let flags = endStream ? FLAG_END_STREAM : 0;
    let pos = start;
    do {
      const n = Math.min(end - pos, this.maxFrameSize);
      const last = pos + n === end;
      const at = this.header(n, type, last ? flags | FLAG_END_HEADERS : flags, stream);
      block.copy(this.buf, at, pos, pos + n);
      pos += n;
      type = FRAME_CONTINUATION;
      flags = 0;
    } while (pos < end);
  }

  /** DATA frames carrying src[start, end); END_STREAM on the last one when `endStream`. */
  data(stream: number, src: Buffer, start: number, end: number, endStream: boolean): void {
    let pos = start;
    do {
      const n = Math.min(end - pos, this.maxFrameSize);
      const last = pos + n === end;
      const at = this.header(n, FRAME_DATA, last && endStream ? FLAG_END_STREAM : 0, stream);
      src.copy(this.buf, at, pos, pos + n);
      pos += n;
    } while (pos < end);
  }

  /** Writes a frame header with room for `length` payload bytes; returns the payload's offset. */
  private header(length: number, type: number, flags: number, stream: number): number {
    this.reserve(FRAME_HEADER_BYTES + length);
    const b = this.buf;
    let p = this.pos;
    b[p++] = length >>> 16;
    b[p++] = (length >>> 8) & 0xff;
    b[p++] = length & 0xff;
    b[p++] = type;
    b[p++] = flags;
    b.writeUInt32BE(stream, p);
    p += 4;
    this.pos = p + length;
    return p;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}
