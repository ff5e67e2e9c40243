// ClientSession against node:http2's server over a real socket (many streams at once, a
// megabyte each way under flow control, trailers, 1xx heads, HEAD, a server reset), and
// against a raw frame server (a GOAWAY that refuses the streams it will not process, a
// response body longer than its content-length).

import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { HeaderList } from '../http/headers.js';
import { ClientSession } from './client-session.js';
import { FRAME_HEADERS, NO_ERROR, PROTOCOL_ERROR, REFUSED_STREAM } from './frames.js';
import { encodeHeaderBlock, headerBlockBound } from './hpack/encoder.js';
import { startFrameServer } from './testing/frame-server.js';

const MIB = 1024 * 1024;

interface Answer {
  head: HeaderList;
  informational: string[];
  body: number;
  text: string;
  trailers: HeaderList | null;
  reset: number | null;
}

/** A ClientSession on a socket to `port`; `call` sends one request and resolves with its answer. */
async function connectClient(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.on('connect', resolve));
  const answers = new Map<number, Answer>();
  const done = new Map<number, (a: Answer) => void>();
  const pending = new Map<number, Buffer[]>();
  const finish = (id: number): void => {
    const a = answers.get(id);
    if (a !== undefined) done.get(id)?.(a);
  };
  const session: ClientSession = new ClientSession((data) => socket.write(data), {
    onResponse(id, headers, endStream) {
      const a = answers.get(id)!;
      if (Number(headers[1]) < 200) a.informational.push(headers[1]);
      else a.head = headers;
      if (endStream) finish(id);
    },
    onData(id, chunk, endStream) {
      const a = answers.get(id)!;
      a.body += chunk.length;
      if (a.text.length < 100) a.text += chunk.toString('latin1');
      session.consumed(id, chunk.length);
      if (endStream) finish(id);
    },
    onTrailers(id, trailers) {
      answers.get(id)!.trailers = trailers;
      finish(id);
    },
    onReset(id, code) {
      answers.get(id)!.reset = code;
      finish(id);
    },
    onWritable(id) {
      const rest = pending.get(id);
      if (rest === undefined) return;
      pending.delete(id);
      send(id, rest);
    },
    onClose() {},
  });
  const send = (id: number, chunks: Buffer[]): void => {
    for (let i = 0; i < chunks.length; i++) {
      if (!session.data(id, chunks[i], i === chunks.length - 1)) {
        pending.set(id, chunks.slice(i + 1));
        return;
      }
    }
  };
  socket.on('data', (d: Buffer) => session.receive(d));
  socket.on('drain', () => session.outputDrained());
  const call = (method: string, path: string, body: Buffer | null = null): Promise<Answer> => {
    const fields: HeaderList = [':method', method, ':scheme', 'http', ':path', path, ':authority', 'a'];
    const id = session.request(fields, body === null);
    answers.set(id, { head: [], informational: [], body: 0, text: '', trailers: null, reset: null });
    const p = new Promise<Answer>((resolve) => done.set(id, resolve));
    if (body !== null) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < body.length; at += 16_384) chunks.push(body.subarray(at, at + 16_384));
      send(id, chunks);
    }
    return p;
  };
  return { session, socket, call };
}

const header = (list: HeaderList, name: string): string | undefined => {
  const i = list.indexOf(name);
  return i >= 0 && i % 2 === 0 ? list[i + 1] : undefined;
};

describe('ClientSession with node:http2', () => {
  let server: http2.Http2Server;
  let port: number;
  const sessions: http2.ServerHttp2Session[] = [];

  before(async () => {
    server = http2.createServer();
    server.on('session', (s) => sessions.push(s));
    server.on('stream', (stream, headers) => {
      stream.on('error', () => {});
      const path = headers[':path'];
      if (path === '/reset') {
        stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
        return;
      }
      if (path === '/hold') return;
      if (path === '/big') {
        stream.respond({ ':status': 200 });
        stream.end(Buffer.alloc(MIB, 7));
        return;
      }
      if (path === '/early') stream.additionalHeaders({ ':status': 103, link: '</a>' });
      if (headers[':method'] === 'HEAD') {
        stream.respond({ ':status': 200, 'content-length': '1234' }, { endStream: true });
        return;
      }
      let received = 0;
      stream.on('data', (c: Buffer) => {
        received += c.length;
      });
      stream.on('end', () => {
        stream.respond({ ':status': 200, 'x-received': String(received) }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(`hello ${path}`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => {
    for (const s of sessions) s.destroy();
    server.close();
  });

  it('carries many streams, a megabyte each way, trailers, 1xx heads and HEAD', async () => {
    const c = await connectClient(port);
    try {
      const small = await Promise.all(Array.from({ length: 50 }, (_, i) => c.call('GET', `/s${i}`)));
      small.forEach((a, i) => {
        assert.equal(header(a.head, ':status'), '200');
        assert.equal(a.text, `hello /s${i}`);
        assert.deepEqual(a.trailers, ['grpc-status', '0']);
      });
      const [up, down, early, head] = await Promise.all([
        c.call('POST', '/up', Buffer.alloc(MIB, 1)),
        c.call('GET', '/big'),
        c.call('GET', '/early'),
        c.call('HEAD', '/h'),
      ]);
      assert.equal(
        header(up.head, 'x-received'),
        String(MIB),
        'the request body went out under flow control',
      );
      assert.equal(down.body, MIB, 'the response body came in as the window was reopened');
      assert.deepEqual(early.informational, ['103']);
      assert.equal(header(early.head, ':status'), '200');
      assert.equal(header(head.head, 'content-length'), '1234');
      assert.equal(head.body, 0);
      assert.equal(c.session.activeStreams, 0, 'every stream closed');
    } finally {
      c.socket.destroy();
    }
  });

  it('hears a server reset', async () => {
    const c = await connectClient(port);
    try {
      const reset = await c.call('GET', '/reset');
      assert.equal(reset.reset, http2.constants.NGHTTP2_INTERNAL_ERROR);
      assert.equal(c.session.canRequest, true);
    } finally {
      c.socket.destroy();
    }
  });
});

describe('ClientSession against raw frames', () => {
  it('a GOAWAY refuses the streams the server will not process; a body past content-length is refused', async () => {
    // Stream 1 is answered with a content-length of 2 and 5 bytes; stream 3 gets GOAWAY
    // with last stream 1.
    const frames = await startFrameServer((writer) => ({
      onFrame(type, _flags, stream) {
        if (type !== FRAME_HEADERS) return;
        if (stream === 1) {
          const fields: HeaderList = [':status', '200', 'content-length', '2'];
          const block = Buffer.alloc(headerBlockBound(fields));
          writer.headers(1, block, 0, encodeHeaderBlock(fields, block, 0), false);
          writer.data(1, Buffer.from('hello'), 0, 5, true);
        } else writer.goaway(1, NO_ERROR, 'bye');
      },
    }));
    const c = await connectClient(Number(new URL(frames.url).port));
    try {
      const long = await c.call('GET', '/long');
      assert.equal(long.reset, PROTOCOL_ERROR, 'DATA past content-length resets the stream');
      const refused = await c.call('GET', '/late');
      assert.equal(refused.reset, REFUSED_STREAM);
      assert.equal(c.session.canRequest, false, 'no new stream after GOAWAY');
    } finally {
      c.socket.destroy();
      frames.close();
    }
  });
});
