// ServerSession: served to node:http2's client (many streams, flow control both ways on
// 1 MiB bodies, trailers, a client reset, GOAWAY), and driven frame by frame for the rules
// a client can break: connection errors end with GOAWAY and the right code, stream errors
// with RST_STREAM while the connection carries on.

import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { describe, it } from 'node:test';
import type { HeaderList } from '../http/headers.js';
import {
  COMPRESSION_ERROR,
  CONNECTION_PREFACE,
  ENHANCE_YOUR_CALM,
  FLAG_END_HEADERS,
  FLAG_END_STREAM,
  FLOW_CONTROL_ERROR,
  FRAME_CONTINUATION,
  FRAME_DATA,
  FRAME_GOAWAY,
  FRAME_HEADERS,
  FRAME_PING,
  FRAME_RST_STREAM,
  FRAME_WINDOW_UPDATE,
  FrameReader,
  FrameWriter,
  NO_ERROR,
  PROTOCOL_ERROR,
  REFUSED_STREAM,
  SETTINGS_INITIAL_WINDOW_SIZE,
  STREAM_CLOSED,
} from './frames.js';
import { encodeHeaderBlock, headerBlockBound } from './hpack/encoder.js';
import {
  DEFAULT_SESSION_SETTINGS,
  MAX_PENDING_CONTROL,
  ServerSession,
  type SessionHandler,
  type SessionSettings,
} from './server-session.js';

const MIB = 1024 * 1024;

/** The resets of streams refused as malformed: [stream, PROTOCOL_ERROR] each. */
const malformed = (...streams: number[]): number[][] => streams.map((id) => [id, PROTOCOL_ERROR]);

/** A small application on a ServerSession: /small, /big (1 MiB), /echo (counts the body), /slow (never answers). */
function app(session: () => ServerSession, events: string[]): SessionHandler {
  const paths = new Map<number, string>();
  const received = new Map<number, number>();
  const big = Buffer.alloc(64 * 1024, 0x62);
  const sendBig = (id: number, left: number): void => {
    let rest = left;
    while (rest > 0) {
      const n = Math.min(rest, big.length);
      rest -= n;
      if (!session().data(id, big.subarray(0, n), false)) {
        bigLeft.set(id, rest);
        return;
      }
    }
    session().trailers(id, ['x-done', 'yes']);
  };
  const bigLeft = new Map<number, number>();
  const answer = (id: number): void => {
    const path = paths.get(id);
    if (path === '/slow') return;
    if (path === '/big') {
      session().respond(id, [':status', '200'], false);
      sendBig(id, MIB);
      return;
    }
    session().respond(id, [':status', '200', 'x-received', String(received.get(id) ?? 0)], false);
    session().data(id, Buffer.from('ok'), false);
    session().trailers(id, ['grpc-status', '0']);
  };
  return {
    onRequest(id, headers, endStream) {
      paths.set(id, headers[headers.indexOf(':path') + 1]);
      if (endStream) answer(id);
    },
    onTrailers(id) {
      answer(id);
    },
    onData(id, chunk, endStream) {
      received.set(id, (received.get(id) ?? 0) + chunk.length);
      session().consumed(id, chunk.length);
      if (endStream) answer(id);
    },
    onReset(id, code) {
      events.push(`reset ${id} ${code}`);
    },
    onWritable(id) {
      const left = bigLeft.get(id);
      if (left !== undefined) {
        bigLeft.delete(id);
        sendBig(id, left);
      }
    },
    onClose(code, _message, byPeer) {
      events.push(`close ${code} ${byPeer}`);
    },
  };
}

async function withServer(
  fn: (url: string, sessions: ServerSession[], events: string[]) => Promise<void>,
): Promise<void> {
  const sessions: ServerSession[] = [];
  const events: string[] = [];
  const server = net.createServer((socket) => {
    const session: ServerSession = new ServerSession(
      (data) => socket.write(data),
      app(() => session, events),
    );
    sessions.push(session);
    socket.on('data', (chunk: Buffer) => session.receive(chunk));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await fn(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, sessions, events);
  } finally {
    server.close();
  }
}

function call(client: http2.ClientHttp2Session, path: string, body: Buffer | null) {
  return new Promise<{
    status: number;
    received: string;
    bytes: number;
    trailers: http2.IncomingHttpHeaders;
  }>((resolve, reject) => {
    const req = client.request({ ':method': body === null ? 'GET' : 'POST', ':path': path });
    let status = 0;
    let received = '';
    let bytes = 0;
    req.on('response', (h) => {
      status = Number(h[':status']);
      received = String(h['x-received'] ?? '');
    });
    req.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    req.on('trailers', (trailers) => req.on('end', () => resolve({ status, received, bytes, trailers })));
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

describe('ServerSession with node:http2', () => {
  it('serves many streams, 1 MiB each way under flow control, and trailers', async () => {
    await withServer(async (url) => {
      const client = http2.connect(url);
      try {
        const small = await Promise.all(
          Array.from({ length: 60 }, (_, i) => call(client, `/small?${i}`, null)),
        );
        assert.ok(small.every((r) => r.status === 200 && r.bytes === 2 && r.trailers['grpc-status'] === '0'));
        const [down, up] = await Promise.all([
          call(client, '/big', null),
          call(client, '/echo', Buffer.alloc(MIB, 1)),
        ]);
        assert.equal(down.bytes, MIB, 'the response waited for window updates');
        assert.equal(down.trailers['x-done'], 'yes', 'trailers after queued data');
        assert.equal(up.received, String(MIB), 'the request body reopened our window as it was consumed');
      } finally {
        client.close();
      }
    });
  });

  it('hears a client reset, and sends GOAWAY that lets the open stream finish', async () => {
    await withServer(async (url, sessions, events) => {
      const client = http2.connect(url);
      try {
        const req = client.request({ ':path': '/slow' });
        req.on('error', () => {});
        await new Promise((resolve) => req.on('ready', resolve));
        req.close(http2.constants.NGHTTP2_CANCEL);
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.deepEqual(events, [`reset ${req.id} ${http2.constants.NGHTTP2_CANCEL}`]);
        const pending = call(client, '/echo', Buffer.from('abc'));
        const goaway = new Promise<number>((resolve) => client.on('goaway', (code) => resolve(code)));
        await new Promise((resolve) => setTimeout(resolve, 20));
        sessions[0].goaway(NO_ERROR, 'draining');
        assert.equal(await goaway, NO_ERROR);
        assert.equal((await pending).received, '3');
      } finally {
        client.close();
      }
    });
  });
});

/** A session driven directly with client frames; its output parsed back into frames. */
function direct(settings: Partial<SessionSettings> = {}) {
  const out: Buffer[] = [];
  const events: string[] = [];
  const requests: HeaderList[] = [];
  /** What `write` answers: false plays a socket whose buffer is full. */
  const output = { accepts: true };
  const session = new ServerSession(
    (data) => {
      out.push(data);
      return output.accepts;
    },
    {
      onRequest: (id, headers) => {
        requests.push(headers);
        events.push(`request ${id}`);
      },
      onTrailers: (id) => events.push(`trailers ${id}`),
      onData: (id, chunk, end) => events.push(`data ${id} ${chunk.length}${end ? ' end' : ''}`),
      onReset: (id, code) => events.push(`reset ${id} ${code}`),
      onStreamClosed: (id) => events.push(`closed ${id}`),
      onEndSent: (id) => events.push(`end sent ${id}`),
      onWritable: (id) => events.push(`drain ${id}`),
      onClose: (code, message) => events.push(`close ${code} ${message}`),
    },
    { ...DEFAULT_SESSION_SETTINGS, ...settings },
  );
  session.receive(CONNECTION_PREFACE);
  const client = new FrameWriter();
  const frames = () => {
    const got: { type: number; stream: number; code: number }[] = [];
    const reader = new FrameReader(false);
    reader.push(Buffer.concat(out), {
      onFrame(type, _flags, stream, payload, start, end) {
        // The error code; for WINDOW_UPDATE, the increment.
        const code =
          type === FRAME_RST_STREAM || type === FRAME_WINDOW_UPDATE
            ? payload.readUInt32BE(start)
            : type === FRAME_GOAWAY
              ? payload.readUInt32BE(start + 4)
              : -1;
        if (end >= start) got.push({ type, stream, code });
      },
    });
    return got;
  };
  const send = () => session.receive(client.take() ?? Buffer.alloc(0));
  /** [stream, code] of every RST_STREAM sent. */
  const resets = () =>
    frames()
      .filter((f) => f.type === FRAME_RST_STREAM)
      .map((f) => [f.stream, f.code]);
  const headers = (stream: number, fields: HeaderList, endStream = true) => {
    const block = Buffer.alloc(headerBlockBound(fields));
    client.headers(stream, block, 0, encodeHeaderBlock(fields, block, 0), endStream);
  };
  const get: HeaderList = [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'a'];
  return { session, client, frames, send, resets, headers, events, requests, get, output };
}

describe('ServerSession rules', () => {
  it('refuses streams over SETTINGS_MAX_CONCURRENT_STREAMS and keeps HPACK in step', () => {
    const t = direct({ maxConcurrentStreams: 2 });
    t.headers(1, t.get, false);
    t.headers(3, t.get, false);
    t.headers(5, [...t.get, 'x-n', '5'], false);
    t.send();
    assert.deepEqual(
      t.frames().filter((f) => f.type === FRAME_RST_STREAM),
      [{ type: FRAME_RST_STREAM, stream: 5, code: REFUSED_STREAM }],
    );
    t.session.reset(1, 8);
    t.headers(7, [...t.get, 'x-n', '7']);
    t.send();
    assert.deepEqual(t.requests.at(-1)?.slice(-2), ['x-n', '7']);
  });

  it('closes a connection whose streams keep getting refused or reset (ENHANCE_YOUR_CALM)', () => {
    const t = direct({ maxConcurrentStreams: 1, maxStreamErrors: 5 });
    t.headers(1, t.get, false);
    for (let id = 3; id <= 11; id += 2) t.headers(id, t.get, false);
    t.send();
    assert.equal(
      t.frames().find((f) => f.type === FRAME_GOAWAY),
      undefined,
      '5 refused streams are within the cap',
    );
    t.headers(13, t.get, false);
    t.send();
    assert.equal(t.frames().find((f) => f.type === FRAME_GOAWAY)?.code, ENHANCE_YOUR_CALM);
    assert.ok(
      t.events.includes(`reset 1 ${ENHANCE_YOUR_CALM}`),
      'the open stream is reset with the connection',
    );
  });

  it('answers a malformed request with RST_STREAM and goes on', () => {
    const t = direct();
    t.headers(1, [':method', 'GET', ':path', '/', ':authority', 'a']); // no :scheme
    t.headers(3, [...t.get, 'X-Upper', 'v']);
    t.headers(5, [...t.get, 'connection', 'close']);
    t.headers(7, [...t.get, ':path', '/again']); // duplicate :path
    t.headers(9, t.get);
    t.send();
    assert.deepEqual(t.resets(), malformed(1, 3, 5, 7));
    assert.deepEqual(t.events, ['request 9']);
  });

  // Each would reach an HTTP/1.1 upstream as something else than what the client framed.
  const smuggling: Array<[string, HeaderList]> = [
    ['CR LF in a value', ['x-a', 'b\r\ntransfer-encoding: chunked']],
    ['a bare LF in a value', ['x-a', 'b\nx: y']],
    ['NUL in a value', ['x-a', 'b\u0000']],
    ['a value with leading whitespace', ['x-a', ' b']],
    ['a space in a field name', ['x a', 'b']],
    ['a colon in a field name', ['x:a', 'b']],
    ['differing content-length values', ['content-length', '1', 'content-length', '2']],
    ['a non-numeric content-length', ['content-length', '1, 1']],
    ['a host with userinfo', ['host', 'user@a']],
  ];
  for (const [what, extra] of smuggling) {
    it(`resets a request with ${what}`, () => {
      const t = direct();
      t.headers(1, [...t.get, ...extra]);
      t.headers(3, t.get);
      t.send();
      assert.deepEqual(t.resets(), [[1, PROTOCOL_ERROR]]);
      assert.deepEqual(t.events, ['request 3']);
    });
  }

  it('resets a request whose pseudo-headers would break the HTTP/1.1 request line', () => {
    const t = direct();
    const get = (path: string, method = 'GET'): HeaderList => [
      ':method',
      method,
      ':scheme',
      'http',
      ':path',
      path,
      ':authority',
      'a',
    ];
    t.headers(1, get('/a b'));
    t.headers(3, get('a'));
    t.headers(5, get('/', 'GET /x HTTP/1.1\r\n'));
    t.headers(7, get('*'));
    t.headers(9, [...get('/').slice(0, 6), ':authority', 'a/b']);
    t.headers(11, get('*', 'OPTIONS'));
    t.send();
    assert.deepEqual(t.resets(), malformed(1, 3, 5, 7, 9));
    assert.deepEqual(t.events, ['request 11']);
  });

  it('resets a request whose DATA does not add up to its content-length (RFC 9113 §8.1.1)', () => {
    const t = direct();
    const post = (length: string): HeaderList => [
      ...t.get.slice(0, 1),
      'POST',
      ...t.get.slice(2),
      'content-length',
      length,
    ];
    t.headers(1, post('3'), false);
    t.client.data(1, Buffer.from('abcd'), 0, 4, false); // longer
    t.headers(3, post('3'), false);
    t.client.data(3, Buffer.from('ab'), 0, 2, true); // shorter
    t.headers(5, post('3')); // END_STREAM on HEADERS with a length
    t.headers(7, post('3'), false);
    t.client.data(7, Buffer.from('a'), 0, 1, false);
    t.client.data(7, Buffer.from('bc'), 0, 2, true); // exact, in two frames
    t.headers(9, post('0'));
    t.send();
    assert.deepEqual(t.resets(), malformed(1, 3, 5));
    assert.deepEqual(
      t.events.filter((e) => !e.startsWith('closed')),
      [
        'request 1',
        'reset 1 1',
        'request 3',
        'reset 3 1',
        'request 7',
        'data 7 1',
        'data 7 2 end',
        'request 9',
      ],
    );
  });

  it('resets a stream that sends beyond its window, or after its end', () => {
    const t = direct({ initialWindowSize: 100 });
    t.headers(1, [...t.get.slice(0, 1), 'POST', ...t.get.slice(2)], false);
    t.headers(3, t.get);
    t.client.data(1, Buffer.alloc(101), 0, 101, false);
    t.client.data(3, Buffer.alloc(5), 0, 5, false);
    t.send();
    assert.deepEqual(t.resets(), [
      [1, FLOW_CONTROL_ERROR],
      [3, STREAM_CLOSED],
    ]);
  });

  const connectionErrors: Array<[string, (t: ReturnType<typeof direct>) => void, number]> = [
    ['DATA on stream 0', (t) => t.client.data(0, Buffer.alloc(1), 0, 1, false), PROTOCOL_ERROR],
    ['HEADERS on an even stream', (t) => t.headers(2, t.get), PROTOCOL_ERROR],
    [
      'a stream id going backwards',
      (t) => {
        t.headers(5, t.get);
        t.headers(3, t.get);
      },
      STREAM_CLOSED,
    ],
    ['connection window overflow', (t) => t.client.windowUpdate(0, 2 ** 31 - 1), FLOW_CONTROL_ERROR],
    [
      'SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1',
      (t) => t.client.settings([[SETTINGS_INITIAL_WINDOW_SIZE, 2 ** 31]]),
      FLOW_CONTROL_ERROR,
    ],
    [
      'a header block that is not HPACK',
      (t) => t.client.headers(1, Buffer.from([0x80]), 0, 1, true),
      COMPRESSION_ERROR,
    ],
  ];
  for (const [what, make, code] of connectionErrors) {
    it(`ends the connection with GOAWAY on ${what}`, () => {
      const t = direct();
      make(t);
      t.send();
      const goaway = t.frames().find((f) => f.type === FRAME_GOAWAY);
      assert.equal(goaway?.code, code);
      assert.ok(t.events.some((e) => e.startsWith(`close ${code} `)));
    });
  }

  it('ends the connection on a CONTINUATION out of place and on a CONTINUATION flood', () => {
    const stray = direct();
    const head = Buffer.from([0, 0, 0, FRAME_CONTINUATION, FLAG_END_HEADERS, 0, 0, 0, 1]);
    stray.session.receive(head);
    assert.equal(stray.frames().find((f) => f.type === FRAME_GOAWAY)?.code, PROTOCOL_ERROR);

    const interrupted = direct();
    const block = Buffer.alloc(headerBlockBound(interrupted.get));
    const n = encodeHeaderBlock(interrupted.get, block, 0);
    const frame = Buffer.concat([
      Buffer.from([0, 0, n, FRAME_HEADERS, FLAG_END_STREAM, 0, 0, 0, 1]),
      block.subarray(0, n),
    ]);
    interrupted.client.ping(false, Buffer.alloc(8), 0);
    interrupted.session.receive(Buffer.concat([frame, interrupted.client.take()!]));
    assert.equal(interrupted.frames().find((f) => f.type === FRAME_GOAWAY)?.code, PROTOCOL_ERROR);

    const flood = direct({ maxHeaderBlockBytes: 4096 });
    const parts = [
      Buffer.concat([Buffer.from([0, 0, n, FRAME_HEADERS, 0, 0, 0, 0, 1]), block.subarray(0, n)]),
    ];
    for (let i = 0; i < 10; i++)
      parts.push(
        Buffer.concat([Buffer.from([0, 2, 0, FRAME_CONTINUATION, 0, 0, 0, 0, 1]), Buffer.alloc(512)]),
      );
    flood.session.receive(Buffer.concat(parts));
    assert.equal(flood.frames().find((f) => f.type === FRAME_GOAWAY)?.code, ENHANCE_YOUR_CALM);
  });

  it('drains several blocked streams in turn, whether they end with data or with trailers', async () => {
    const t = direct();
    for (const id of [1, 3, 5]) t.headers(id, t.get);
    t.send();
    for (const id of [1, 3, 5]) t.session.respond(id, [':status', '200'], false);
    // The connection window (65,535) runs out in stream 1's data: 3 and 5 wait behind it.
    assert.equal(t.session.data(1, Buffer.alloc(30_000), true), true);
    assert.equal(t.session.data(3, Buffer.alloc(40_000), true), false);
    assert.equal(t.session.data(5, Buffer.alloc(10_000), false), false);
    t.session.trailers(5, ['grpc-status', '0']);
    t.client.windowUpdate(0, 100_000);
    t.send();
    const ends = t
      .frames()
      .filter((f) => f.type === FRAME_DATA || f.type === FRAME_HEADERS)
      .map((f) => f.stream);
    assert.ok(ends.includes(5), 'stream 5 got its data and trailers');
    assert.equal(t.session.activeStreams, 0, 'all three streams ended');
  });

  it('queues response data beyond the window and drains it on WINDOW_UPDATE', async () => {
    const t = direct();
    t.headers(1, t.get);
    t.send();
    t.session.respond(1, [':status', '200'], false);
    assert.equal(t.session.data(1, Buffer.alloc(70_000), true), false, 'more than the 65,535-byte window');
    await Promise.resolve();
    const sent = () =>
      t
        .frames()
        .filter((f) => f.type === FRAME_DATA)
        .map((f) => f.stream).length;
    const before = sent();
    t.client.windowUpdate(0, 10_000);
    t.client.windowUpdate(1, 10_000);
    t.send();
    assert.ok(sent() > before, 'more DATA after the window opened');
    assert.equal(t.session.activeStreams, 0, 'the stream closed once its last byte went out');
    assert.deepEqual(t.events, ['request 1', 'closed 1', 'end sent 1']);
  });

  it('answers up to MAX_PENDING_CONTROL PINGs a read; more is a flood (ENHANCE_YOUR_CALM)', () => {
    const t = direct();
    const ping = () => t.client.ping(false, Buffer.alloc(8), 0);
    for (let i = 0; i < MAX_PENDING_CONTROL; i++) ping();
    t.send();
    for (let i = 0; i < MAX_PENDING_CONTROL; i++) ping();
    t.send();
    assert.equal(t.frames().filter((f) => f.type === FRAME_PING).length, 2 * MAX_PENDING_CONTROL);
    assert.equal(
      t.frames().find((f) => f.type === FRAME_GOAWAY),
      undefined,
      'each read went out',
    );
    for (let i = 0; i <= MAX_PENDING_CONTROL; i++) ping();
    t.send();
    assert.equal(t.frames().find((f) => f.type === FRAME_GOAWAY)?.code, ENHANCE_YOUR_CALM);
  });

  it('counts answers across reads while the output does not drain', () => {
    const t = direct();
    t.output.accepts = false;
    for (let read = 0; read < 3; read++) {
      for (let i = 0; i < 400; i++) t.client.settings([]);
      t.send();
      if (read === 1) {
        assert.equal(
          t.frames().find((f) => f.type === FRAME_GOAWAY),
          undefined,
          '800 wait',
        );
        t.session.outputDrained();
        t.output.accepts = true;
      }
    }
    assert.equal(
      t.frames().find((f) => f.type === FRAME_GOAWAY),
      undefined,
      'drained in between',
    );
    t.output.accepts = false;
    for (let read = 0; read < 3; read++) {
      for (let i = 0; i < 400; i++) t.client.settings([]);
      t.send();
    }
    assert.equal(t.frames().find((f) => f.type === FRAME_GOAWAY)?.code, ENHANCE_YOUR_CALM);
  });

  it('refuses :protocol unless extended CONNECT is enabled (RFC 8441)', () => {
    const ws: HeaderList = [
      ':method',
      'CONNECT',
      ':protocol',
      'websocket',
      ':scheme',
      'http',
      ':path',
      '/c',
      ':authority',
      'a',
    ];
    const off = direct();
    off.headers(1, ws, false);
    off.send();
    assert.deepEqual(off.resets(), [[1, PROTOCOL_ERROR]]);
    const on = direct({ enableConnectProtocol: true });
    on.headers(1, ws, false);
    on.send();
    assert.deepEqual(on.resets(), []);
    assert.deepEqual(on.events, ['request 1']);
  });

  it('finish(): RST_STREAM NO_ERROR once the queued response is out, not before', () => {
    const t = direct();
    t.headers(1, [...t.get.slice(0, 1), 'POST', ...t.get.slice(2)], false);
    t.send();
    t.session.respond(1, [':status', '200'], false);
    assert.equal(t.session.data(1, Buffer.alloc(70_000), true), false);
    t.session.finish(1);
    t.session.flush();
    assert.deepEqual(t.resets(), [], 'the response is still queued');
    t.client.windowUpdate(0, 10_000);
    t.client.windowUpdate(1, 10_000);
    t.send();
    assert.deepEqual(t.resets(), [[1, NO_ERROR]]);
    assert.ok(t.events.includes('closed 1'));
  });

  it("credits the connection's window on receipt, a stream's only as it is consumed", () => {
    const t = direct();
    t.headers(1, [...t.get.slice(0, 1), 'POST', ...t.get.slice(2)], false);
    t.client.data(1, Buffer.alloc(40_000), 0, 40_000, false);
    t.send();
    const updates = () =>
      t
        .frames()
        .filter((f) => f.type === FRAME_WINDOW_UPDATE)
        .map((f) => [f.stream, f.code]);
    // 40,000 bytes come as 16,384 + 16,384 + 7,232: half the 65,535 window is due after two.
    assert.deepEqual(updates(), [[0, 32_768]], 'the connection at once; the stream waits');
    t.session.consumed(1, 40_000);
    t.session.flush();
    assert.deepEqual(updates(), [
      [0, 32_768],
      [1, 40_000],
    ]);
  });
});
