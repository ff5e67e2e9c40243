// The HTTP/2 frame layer: frames cut correctly at any read boundary, the preface and frame
// size checks, HEADERS/CONTINUATION and DATA splitting, and a small server built from the
// frame layer and HPACK that node:http2's client talks to (requests with and without
// bodies, a response split over DATA frames with trailers, PING and SETTINGS ACKs).

import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { describe, it } from 'node:test';
import type { HeaderList } from '../http/headers.js';
import {
  CONNECTION_PREFACE,
  FLAG_ACK,
  FLAG_END_HEADERS,
  FLAG_END_STREAM,
  FRAME_CONTINUATION,
  FRAME_DATA,
  FRAME_HEADERS,
  FRAME_PING,
  FRAME_SETTINGS,
  FRAME_SIZE_ERROR,
  type FrameHandler,
  FrameReader,
  FrameWriter,
  PROTOCOL_ERROR,
} from './frames.js';
import { HpackDecoder } from './hpack/decoder.js';
import { encodeHeaderBlock, headerBlockBound } from './hpack/encoder.js';
import { startFrameServer } from './testing/frame-server.js';

interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: string;
}

function collect(reader: FrameReader, chunks: Buffer[]): Frame[] {
  const frames: Frame[] = [];
  const handler = {
    onFrame(type: number, flags: number, stream: number, payload: Buffer, start: number, end: number) {
      frames.push({ type, flags, stream, payload: payload.toString('latin1', start, end) });
    },
  };
  for (const c of chunks) assert.equal(reader.push(c, handler), null);
  return frames;
}

function sampleFrames(): Buffer {
  const w = new FrameWriter(64);
  w.settings([
    [3, 100],
    [4, 65535],
  ]);
  w.ping(false, Buffer.from('12345678'), 0);
  const block = Buffer.from('h'.repeat(40));
  w.headers(1, block, 0, block.length, false);
  const body = Buffer.from('d'.repeat(50));
  w.data(1, body, 0, body.length, true);
  w.windowUpdate(0, 1000);
  w.rstStream(3, 8);
  w.goaway(1, 0, 'bye');
  return w.take()!;
}

describe('FrameReader', () => {
  it('cuts the same frames whatever the read boundaries', () => {
    const bytes = Buffer.concat([CONNECTION_PREFACE, sampleFrames()]);
    const whole = collect(new FrameReader(true), [bytes]);
    assert.deepEqual(
      whole.map((f) => f.type),
      [4, 6, 1, 0, 8, 3, 7],
    );
    const oneByOne = collect(
      new FrameReader(true),
      [...bytes].map((b) => Buffer.from([b])),
    );
    assert.deepEqual(oneByOne, whole);
    const inThrees = [];
    for (let i = 0; i < bytes.length; i += 3) inThrees.push(bytes.subarray(i, i + 3));
    assert.deepEqual(collect(new FrameReader(true), inThrees), whole);
  });

  it('refuses a connection that does not start with the preface, as soon as it differs', () => {
    const noop = { onFrame() {} };
    assert.equal(new FrameReader(true).push(Buffer.from('GET / HTTP/1.1\r\n'), noop)?.code, PROTOCOL_ERROR);
    const r = new FrameReader(true);
    assert.equal(r.push(CONNECTION_PREFACE.subarray(0, 10), noop), null, 'a partial preface waits');
    assert.equal(r.push(Buffer.from('X'), noop)?.code, PROTOCOL_ERROR);
  });

  it('refuses a frame larger than the advertised SETTINGS_MAX_FRAME_SIZE', () => {
    const r = new FrameReader(false);
    r.maxFrameSize = 100;
    const err = r.push(Buffer.from([0, 0, 101, 0, 0, 0, 0, 0, 1]), { onFrame() {} });
    assert.equal(err?.code, FRAME_SIZE_ERROR);
    assert.match(err!.message, /101 bytes exceeds SETTINGS_MAX_FRAME_SIZE 100/);
  });
});

describe('FrameWriter', () => {
  it('splits a header block into HEADERS and CONTINUATION, and DATA at the peer maximum', () => {
    const w = new FrameWriter();
    w.maxFrameSize = 16;
    const block = Buffer.from('b'.repeat(40));
    w.headers(5, block, 0, block.length, true);
    const body = Buffer.from('x'.repeat(33));
    w.data(5, body, 0, body.length, true);
    const frames = collect(new FrameReader(false), [w.take()!]);
    assert.deepEqual(
      frames.map((f) => [f.type, f.flags, f.payload.length]),
      [
        [FRAME_HEADERS, FLAG_END_STREAM, 16],
        [FRAME_CONTINUATION, 0, 16],
        [FRAME_CONTINUATION, FLAG_END_HEADERS, 8],
        [FRAME_DATA, 0, 16],
        [FRAME_DATA, 0, 16],
        [FRAME_DATA, FLAG_END_STREAM, 1],
      ],
    );
    assert.equal(w.take(), null, 'nothing queued after take()');
  });
});

/** One connection of a small server made of the frame layer and HPACK; answers each request. */
function miniConnection(writer: FrameWriter): FrameHandler {
  const hpack = new HpackDecoder({ maxTableSize: 4096, maxHeaderListSize: 65536 });
  const requests = new Map<number, { headers: HeaderList; bodyBytes: number }>();
  const respond = (stream: number): void => {
    const req = requests.get(stream)!;
    requests.delete(stream);
    const path = req.headers[req.headers.indexOf(':path') + 1];
    const size = path === '/big' ? 40_000 : 5;
    const head: HeaderList = [':status', '200', 'x-request-body', String(req.bodyBytes)];
    const block = Buffer.alloc(headerBlockBound(head));
    writer.headers(stream, block, 0, encodeHeaderBlock(head, block, 0), false);
    const body = Buffer.alloc(size, 0x62);
    writer.data(stream, body, 0, body.length, false);
    const trailers: HeaderList = ['grpc-status', '0'];
    const tblock = Buffer.alloc(headerBlockBound(trailers));
    writer.headers(stream, tblock, 0, encodeHeaderBlock(trailers, tblock, 0), true);
  };
  return {
    onFrame(type: number, flags: number, stream: number, payload: Buffer, start: number, end: number) {
      if (type === FRAME_SETTINGS && (flags & FLAG_ACK) === 0) writer.settingsAck();
      else if (type === FRAME_PING && (flags & FLAG_ACK) === 0) writer.ping(true, payload, start);
      else if (type === FRAME_HEADERS) {
        assert.equal(flags & FLAG_END_HEADERS, FLAG_END_HEADERS);
        const headers: HeaderList = [];
        hpack.decode(payload, start, end, headers);
        requests.set(stream, { headers, bodyBytes: 0 });
        if (flags & FLAG_END_STREAM) respond(stream);
      } else if (type === FRAME_DATA) {
        requests.get(stream)!.bodyBytes += end - start;
        if (end > start) {
          writer.windowUpdate(0, end - start);
          writer.windowUpdate(stream, end - start);
        }
        if (flags & FLAG_END_STREAM) respond(stream);
      }
    },
  };
}

describe('the frame layer with node:http2', () => {
  it('serves GET and POST with bodies, DATA split over frames, trailers, PING and SETTINGS', async () => {
    const server = await startFrameServer(miniConnection);
    const client = http2.connect(server.url);
    try {
      const call = (path: string, body: Buffer | null) =>
        new Promise<{
          headers: http2.IncomingHttpHeaders;
          bytes: number;
          trailers: http2.IncomingHttpHeaders;
        }>((resolve, reject) => {
          const req = client.request({ ':method': body === null ? 'GET' : 'POST', ':path': path });
          let headers: http2.IncomingHttpHeaders = {};
          let bytes = 0;
          req.on('response', (h) => {
            headers = h;
          });
          req.on('data', (c: Buffer) => {
            bytes += c.length;
          });
          req.on('trailers', (trailers) => resolve({ headers, bytes, trailers }));
          req.on('error', reject);
          req.end(body ?? undefined);
        });
      const big = await call('/big', null);
      assert.equal(big.headers[':status'], 200);
      assert.equal(big.bytes, 40_000, 'a body larger than one frame');
      assert.equal(big.trailers['grpc-status'], '0');
      const post = await call('/echo', Buffer.alloc(50_000, 0x61));
      assert.equal(post.headers['x-request-body'], '50000');
      const many = await Promise.all(Array.from({ length: 20 }, (_, i) => call(`/n/${i}`, null)));
      assert.ok(many.every((r) => r.bytes === 5));
      const rtt = await new Promise<number>((resolve, reject) =>
        client.ping((err, duration) => (err ? reject(err) : resolve(duration))),
      );
      assert.ok(rtt >= 0);
    } finally {
      client.close();
      server.close();
    }
  });
});
