// HTTP/2 attacks against the proxy's downstream codec, each sent as raw frames over a
// socket: rapid reset (CVE-2023-44487), CONTINUATION flood (CVE-2024-27316), HPACK bomb,
// PING flood and SETTINGS flood. Each test asserts the proxy ends the offending
// connection (GOAWAY, or RST_STREAM for a per-stream limit) and keeps serving others.

import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { h2Request, h2Session } from './support/h2-client.js';
import {
  Flag,
  FrameType,
  frame,
  indexed,
  literal,
  literalIndexed,
  RawH2Connection,
  requestBlock,
} from './support/h2-frames.js';
import {
  type Backend,
  bootstrap,
  httpListener,
  type RunningProxy,
  startBackend,
  startProxy,
  staticCluster,
  waitFor,
} from './support/harness.js';

const ENHANCE_YOUR_CALM = 11;

describe('HTTP/2 attack mitigations', () => {
  let proxy: RunningProxy;
  let hanging: Server;
  let backendClose: () => Promise<void>;
  let seen: Backend['seen'];
  let port: number;

  before(async () => {
    // /hang never answers (so resets are premature); everything else answers at once.
    const backend = await startBackend('ok', (req, res) => {
      if (req.url?.startsWith('/hang')) return;
      res.end('ok');
    });
    hanging = backend.server;
    backendClose = backend.close;
    seen = backend.seen;
    proxy = await startProxy(
      bootstrap(
        [
          httpListener(
            'l',
            [
              {
                name: 'v',
                domains: ['*'],
                routes: [{ match: { prefix: '/' }, route: { cluster: 'b', timeout: '0s' } }],
              },
            ],
            { codec_type: 'HTTP2', max_request_headers_kb: 16 },
          ),
        ],
        [staticCluster('b', [backend.port])],
      ),
    );
    port = proxy.port('l');
  });
  after(async () => {
    await proxy.close();
    await backendClose();
    hanging.closeAllConnections();
  });

  /** Another client is served normally. */
  async function stillServes(): Promise<void> {
    const s = h2Session(port);
    try {
      const r = await h2Request(s, { ':path': '/fine' });
      assert.equal(r.headers[':status'], 200);
      assert.equal(r.body, 'ok');
    } finally {
      s.close();
    }
  }

  it('rapid reset: streams opened and reset at once end the connection with GOAWAY', async () => {
    const c = new RawH2Connection(port);
    c.start();
    const batch: Buffer[] = [];
    const cancel = Buffer.alloc(4);
    cancel.writeUInt32BE(8); // CANCEL
    for (let i = 0; i < 500; i++) {
      const id = 1 + 2 * i;
      batch.push(
        frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, id, requestBlock(`/hang/${i}`)),
      );
      batch.push(frame(FrameType.RST_STREAM, 0, id, cancel));
    }
    await c.write(Buffer.concat(batch));
    await waitFor(() => c.closed, 'the connection to close');
    const g = c.goaway();
    assert.ok(g !== null, 'GOAWAY sent');
    assert.equal(g.code, ENHANCE_YOUR_CALM);
    assert.ok(g.lastStreamId < 999, `not every stream was accepted (last ${g.lastStreamId})`);
    const stats = await (await fetch(proxy.adminUrl('/stats'))).text();
    assert.match(stats, /http\.l\.downstream_cx_protocol_error: [1-9]/);
    await stillServes();
  });

  it('CONTINUATION flood: a header block that never ends is cut off', async () => {
    const c = new RawH2Connection(port);
    c.start();
    await c.write(frame(FrameType.HEADERS, 0, 1, requestBlock('/c')));
    // Up to 20000 CONTINUATION frames (about 2 MB) without END_HEADERS, in bounded batches.
    for (let batch = 0; batch < 20 && !c.closed; batch++) {
      const frames: Buffer[] = [];
      for (let i = 0; i < 1000; i++)
        frames.push(frame(FrameType.CONTINUATION, 0, 1, literal(`x-${batch}-${i}`, 'v'.repeat(80))));
      await c.write(Buffer.concat(frames));
    }
    await waitFor(() => c.closed, 'the connection to close');
    assert.ok(c.goaway() !== null, 'GOAWAY sent');
    await stillServes();
  });

  it('HPACK bomb: a small block decoding to a huge header list is refused', async () => {
    const c = new RawH2Connection(port);
    c.start();
    // One 4 KiB entry in the dynamic table, then referenced 1000 times: a ~5 KB block that
    // decodes to ~4 MB of headers.
    const parts = [requestBlock('/bomb'), literalIndexed('x-bomb', 'b'.repeat(4000))];
    for (let i = 0; i < 1000; i++) parts.push(indexed(62));
    await c.write(frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1, Buffer.concat(parts)));
    await waitFor(() => c.closed || c.rstCodes(1).length > 0 || c.goaway() !== null, 'a reset or GOAWAY');
    // The stream never reached a backend as a request.
    assert.equal(
      c.frames.some((f) => f.type === FrameType.HEADERS && f.streamId === 1),
      false,
    );
    c.close();
    await stillServes();
  });

  it('PING flood: a client that floods PINGs is sent GOAWAY', async () => {
    const c = new RawH2Connection(port);
    c.start();
    c.socket.pause(); // never read the ACKs
    const ping = frame(FrameType.PING, 0, 0, Buffer.alloc(8));
    for (let batch = 0; batch < 20 && !c.closed; batch++) {
      await c.write(Buffer.concat(Array.from({ length: 1000 }, () => ping)));
    }
    c.socket.resume();
    await waitFor(() => c.closed, 'the connection to close');
    // nghttp2's flood detection (queued ACKs the client does not read) ends the session.
    const g = c.goaway();
    assert.ok(g !== null && g.code !== 0, `GOAWAY with an error code, got ${JSON.stringify(g)}`);
    await stillServes();
  });

  it('SETTINGS flood: a client that floods SETTINGS is sent GOAWAY', async () => {
    const c = new RawH2Connection(port);
    c.start();
    c.socket.pause();
    const settings = frame(FrameType.SETTINGS, 0, 0, Buffer.from([0, 3, 0, 0, 0, 100])); // MAX_CONCURRENT_STREAMS=100
    for (let batch = 0; batch < 20 && !c.closed; batch++) {
      await c.write(Buffer.concat(Array.from({ length: 1000 }, () => settings)));
    }
    c.socket.resume();
    await waitFor(() => c.closed, 'the connection to close');
    // nghttp2's flood detection (queued ACKs the client does not read) ends the session.
    const g = c.goaway();
    assert.ok(g !== null && g.code !== 0, `GOAWAY with an error code, got ${JSON.stringify(g)}`);
    await stillServes();
  });

  it('request smuggling towards an HTTP/1.1 upstream: CR LF in a value, a body past its content-length', async () => {
    const c = new RawH2Connection(port);
    c.start();
    const PROTOCOL_ERROR = 1;
    const injected = Buffer.concat([
      requestBlock('/inject'),
      literal('x-a', 'b\r\ncontent-length: 0\r\n\r\nGET /smuggled HTTP/1.1\r\nx-b: c'),
    ]);
    await c.write(frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1, injected));
    const post = Buffer.concat([
      Buffer.from([0x83, 0x86]), // :method POST, :scheme http
      literal(':path', '/long'),
      literal(':authority', 'test'),
      literal('content-length', '3'),
    ]);
    await c.write(frame(FrameType.HEADERS, Flag.END_HEADERS, 3, post));
    await c.write(
      frame(FrameType.DATA, Flag.END_STREAM, 3, Buffer.from('abcGET /smuggled HTTP/1.1\r\n\r\n')),
    );
    await waitFor(() => c.rstCodes(1).length > 0 && c.rstCodes(3).length > 0, 'both streams reset');
    assert.deepEqual(c.rstCodes(1), [PROTOCOL_ERROR]);
    assert.deepEqual(c.rstCodes(3), [PROTOCOL_ERROR]);
    c.close();
    await stillServes();
    assert.deepEqual(
      seen.filter((r) => /inject|long|smuggled/.test(r.url)).map((r) => r.url),
      [],
      'neither request, nor anything smuggled in them, reached the backend',
    );
  });
});
