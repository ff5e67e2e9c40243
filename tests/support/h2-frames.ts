// A tiny HTTP/2 frame builder and reader for attack tests (RFC 9113 §4.1 frame layout,
// RFC 7541 HPACK literals without Huffman). Deliberately minimal: it writes what a
// hostile client would, and reads back frame types and GOAWAY/RST_STREAM codes.

import { connect, type Socket } from 'node:net';

export const FrameType = {
  DATA: 0,
  HEADERS: 1,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;
export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Buffer = Buffer.alloc(0),
): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([h, payload]);
}

/** HPACK integer with an N-bit prefix (RFC 7541 §5.1). */
export function hpackInt(value: number, prefixBits: number, firstByteFlags: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([firstByteFlags | value]);
  const out = [firstByteFlags | max];
  let v = value - max;
  while (v >= 128) {
    out.push((v % 128) + 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

function hpackString(s: string): Buffer {
  const b = Buffer.from(s, 'latin1');
  return Buffer.concat([hpackInt(b.length, 7, 0), b]);
}

/** Literal header field without indexing, new name (RFC 7541 §6.2.2). */
export function literal(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x00]), hpackString(name), hpackString(value)]);
}

/** Literal header field with incremental indexing, new name (§6.2.1): enters the dynamic table. */
export function literalIndexed(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x40]), hpackString(name), hpackString(value)]);
}

/** Indexed header field (§6.1); 62 is the newest dynamic-table entry. */
export function indexed(index: number): Buffer {
  return hpackInt(index, 7, 0x80);
}

/** A GET request head block: :method GET, :scheme http, :path, :authority. */
export function requestBlock(path: string, authority = 'test'): Buffer {
  return Buffer.concat([
    Buffer.from([0x82, 0x86]), // :method GET, :scheme http (static table 2 and 6)
    Buffer.concat([hpackInt(4, 4, 0x00), hpackString(path)]), // :path, name index 4
    Buffer.concat([hpackInt(1, 4, 0x00), hpackString(authority)]), // :authority, name index 1
  ]);
}

export interface ReceivedFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** A raw HTTP/2 client connection: writes bytes, parses the frames the server sends. */
export class RawH2Connection {
  readonly socket: Socket;
  readonly frames: ReceivedFrame[] = [];
  closed = false;
  readonly closedPromise: Promise<void>;
  private buf = Buffer.alloc(0);

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('error', () => {});
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.closedPromise = new Promise((r) =>
      this.socket.on('close', () => {
        this.closed = true;
        r();
      }),
    );
  }

  /** Sends the preface and an empty SETTINGS frame. */
  start(): void {
    this.socket.write(Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0)]));
  }

  /** Writes, ignoring a connection the server already closed. Resolves when flushed or closed. */
  write(data: Buffer): Promise<void> {
    if (this.closed || this.socket.destroyed) return Promise.resolve();
    return new Promise((r) => {
      const ok = this.socket.write(data, () => r());
      if (!ok) this.socket.once('close', () => r());
    });
  }

  goaway(): { lastStreamId: number; code: number } | null {
    const f = this.frames.find((x) => x.type === FrameType.GOAWAY);
    if (f === undefined) return null;
    return { lastStreamId: f.payload.readUInt32BE(0) & 0x7fffffff, code: f.payload.readUInt32BE(4) };
  }

  rstCodes(streamId: number): number[] {
    return this.frames
      .filter((f) => f.type === FrameType.RST_STREAM && f.streamId === streamId)
      .map((f) => f.payload.readUInt32BE(0));
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    while (this.buf.length >= 9) {
      const len = this.buf.readUIntBE(0, 3);
      if (this.buf.length < 9 + len) break;
      this.frames.push({
        type: this.buf[3],
        flags: this.buf[4],
        streamId: this.buf.readUInt32BE(5) & 0x7fffffff,
        payload: this.buf.subarray(9, 9 + len),
      });
      this.buf = this.buf.subarray(9 + len);
    }
  }
}
