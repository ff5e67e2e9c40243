// Issue 3 (upgrades, the HTTP/2 part): WebSocket over HTTP/2 by extended CONNECT (RFC 8441)
// and plain HTTP/2 CONNECT tunnels, on HCMs with http2_protocol_options.allow_connect.
// A node:http2 client speaks WebSocket frames over its stream (ws has no HTTP/2 client) to
// a real `ws` server behind the proxy (reached by an HTTP/1.1 Upgrade); CONNECT goes to a
// TCP echo server.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  constants,
  connect as h2connect,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDefaultHttpFilterRegistry } from '../src/config/http-filter-registry.js';
import { validateBootstrap } from '../src/config/validate-bootstrap.js';
import type { ProxyServer } from '../src/proxy/proxy-server.js';
import { createManualClock } from '../src/proxy/upstream/testing/manual-clock.js';
import {
  type Backend,
  bootstrap,
  fileAccessLog,
  httpListener,
  logLinesStartingWith,
  type RunningProxy,
  startBackend,
  startProxy,
  startProxyOnClock,
  staticCluster,
  tempDir,
  waitFor,
} from './support/harness.js';
import { startConnectProxy, startTcpEcho, startWsEcho } from './support/tunnel-servers.js';

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR, NGHTTP2_PROTOCOL_ERROR } = constants;

function accessLog(path: string) {
  return fileAccessLog(
    path,
    'LOG %PROTOCOL% %REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %RESPONSE_CODE_DETAILS%\n',
  );
}

// --- WebSocket frames (RFC 6455 §5.2), short payloads only -----------------------------------

/** A masked client frame (FIN set) with a payload under 126 bytes. */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const out = Buffer.alloc(6 + payload.length);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | payload.length;
  mask.copy(out, 2);
  for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i] ^ mask[i & 3];
  return out;
}

/** The unmasked server frames in `buf` (payloads under 126 bytes). */
function serverFrames(buf: Buffer): Array<{ opcode: number; payload: string }> {
  const frames: Array<{ opcode: number; payload: string }> = [];
  let at = 0;
  while (at + 2 <= buf.length) {
    const len = buf[at + 1] & 0x7f;
    if (at + 2 + len > buf.length) break;
    frames.push({ opcode: buf[at] & 0x0f, payload: buf.subarray(at + 2, at + 2 + len).toString() });
    at += 2 + len;
  }
  return frames;
}

// --- servers ---------------------------------------------------------------------------------

// --- the HTTP/2 client side --------------------------------------------------------------------

async function session(port: number): Promise<ClientHttp2Session> {
  const s = h2connect(`http://127.0.0.1:${port}`);
  s.on('error', () => {});
  await new Promise<void>((r) => s.once('remoteSettings', () => r()));
  return s;
}

interface Tunnel {
  req: ClientHttp2Stream;
  status: number;
  headers: IncomingHttpHeaders;
  received(): Buffer;
  /** Resolves when `n` bytes arrived in all. */
  bytes(n: number): Promise<Buffer>;
  /** The server's END_STREAM. */
  ended: Promise<void>;
  /** The stream closed; resolves with its RST_STREAM code (0 after a normal end). */
  closed: Promise<number>;
}

/** Opens a stream; `early` is written at once, before the response. */
function openStream(s: ClientHttp2Session, headers: OutgoingHttpHeaders, early?: Buffer): Promise<Tunnel> {
  return new Promise((resolve, reject) => {
    const req = s.request(headers, { endStream: false });
    if (early !== undefined) req.write(early);
    const chunks: Buffer[] = [];
    const received = () => Buffer.concat(chunks);
    const ended = new Promise<void>((r) => req.once('end', () => r()));
    const closed = new Promise<number>((r) => req.once('close', () => r(req.rstCode ?? 0)));
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('error', () => {});
    req.once('response', (h) =>
      resolve({
        req,
        status: Number(h[':status']),
        headers: h,
        received,
        bytes: async (n) => {
          await waitFor(() => received().length >= n, `${n} bytes on the tunnel`);
          return received();
        },
        ended,
        closed,
      }),
    );
    closed.then((code) => reject(Object.assign(new Error(`stream closed (${code})`), { code })));
  });
}

function websocketRequest(path: string, extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  return {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': 'http',
    ':path': path,
    ':authority': 'chat.example',
    'sec-websocket-version': '13',
    // An HTTP/1.1 WebSocket server needs the key, as the HTTP/1.1 client behind a front
    // proxy would have sent it; the 101 and its Accept then reach the client as a 200.
    'sec-websocket-key': randomBytes(16).toString('base64'),
    ...extra,
  };
}

describe('tunnels over HTTP/2 streams (allow_connect)', () => {
  let echo: Awaited<ReturnType<typeof startWsEcho>>;
  let tcpEcho: Awaited<ReturnType<typeof startTcpEcho>>;
  let plain: Backend;
  let connectProxy: Awaited<ReturnType<typeof startConnectProxy>>;
  let proxy: RunningProxy;
  const logPath = join(tempDir(), 'access.log');

  before(async () => {
    echo = await startWsEcho();
    tcpEcho = await startTcpEcho();
    connectProxy = await startConnectProxy();
    plain = await startBackend('plain', (req, res) => {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end(`no upgrade for ${req.url}\n`);
    });
    const routes = [
      {
        match: { connect_matcher: {}, headers: [{ name: 'x-tunnel-to', string_match: { exact: 'proxy' } }] },
        route: { cluster: 'fwd' },
      },
      {
        match: { connect_matcher: {} },
        route: { cluster: 'tcp', upgrade_configs: [{ upgrade_type: 'CONNECT', connect_config: {} }] },
      },
      { match: { prefix: '/plain' }, route: { cluster: 'plain' } },
      {
        match: { prefix: '/off' },
        route: { cluster: 'ws', upgrade_configs: [{ upgrade_type: 'websocket', enabled: false }] },
      },
      {
        match: { prefix: '/' },
        route: { cluster: 'ws' },
        request_headers_to_add: [{ header: { key: 'x-from-route', value: 'added' } }],
        response_headers_to_add: [{ header: { key: 'x-route-response', value: 'yes' } }],
      },
    ];
    const hcm = (codec: string, allowConnect: boolean) => ({
      codec_type: codec,
      // A small window: the flow-control test needs the client to wait on it.
      http2_protocol_options: { allow_connect: allowConnect, initial_stream_window_size: 65535 },
      upgrade_configs: [{ upgrade_type: 'websocket' }, { upgrade_type: 'CONNECT' }],
      access_log: accessLog(logPath),
    });
    proxy = await startProxy(
      bootstrap(
        [
          httpListener('h2', [{ name: 'v', domains: ['*'], routes }], hcm('HTTP2', true)),
          httpListener('auto', [{ name: 'v', domains: ['*'], routes }], hcm('AUTO', true)),
          httpListener('off', [{ name: 'v', domains: ['*'], routes }], hcm('AUTO', false)),
        ],
        [
          staticCluster('ws', [echo.port]),
          staticCluster('tcp', [tcpEcho.port]),
          staticCluster('plain', [plain.port]),
          staticCluster('fwd', [connectProxy.port]),
        ],
      ),
    );
  });
  after(async () => {
    await proxy.close();
    for (const c of tcpEcho.conns) c.destroy();
    await new Promise<void>((r) => tcpEcho.server.close(() => r()));
    await echo.close();
    await plain.close();
    await new Promise<void>((r) => connectProxy.server.close(() => r()));
  });

  const stat = (l: string, name: string) => proxy.proxy.stats.counter(`http.${l}.${name}`).value;
  const gauge = (l: string, name: string) => proxy.proxy.stats.gauge(`http.${l}.${name}`).value;

  it('advertises SETTINGS_ENABLE_CONNECT_PROTOCOL only with allow_connect', async () => {
    for (const [l, want] of [
      ['h2', true],
      ['auto', true],
      ['off', false],
    ] as const) {
      const s = await session(proxy.port(l));
      try {
        assert.equal(s.remoteSettings.enableConnectProtocol === true, want, l);
      } finally {
        s.close();
      }
    }
  });

  it('relays a WebSocket over extended CONNECT: 101 → 200, frames both ways, END_STREAM ↔ FIN', async () => {
    const totalBefore = stat('h2', 'downstream_cx_upgrades_total');
    const handshakesBefore = echo.handshakes.length;
    const s = await session(proxy.port('h2'));
    try {
      const t = await openStream(s, websocketRequest('/chat?room=1'));
      assert.equal(t.status, 200);
      assert.equal(t.headers['x-ws-server'], 'echo');
      assert.equal(t.headers['x-route-response'], 'yes');
      assert.equal(t.headers.upgrade, undefined);
      assert.equal(t.headers.connection, undefined);
      assert.equal(gauge('h2', 'downstream_cx_upgrades_active'), 1);
      // The upstream saw an HTTP/1.1 Upgrade request.
      const hs = echo.handshakes[handshakesBefore];
      assert.equal(hs.method, 'GET');
      assert.equal(hs.url, '/chat?room=1');
      assert.equal(hs.headers.upgrade, 'websocket');
      assert.equal(hs.headers.connection, 'upgrade');
      assert.equal(hs.headers['x-from-route'], 'added');

      const sent = [clientFrame(1, Buffer.from('hello')), clientFrame(2, Buffer.from([1, 2, 3]))];
      t.req.write(sent[0]);
      t.req.write(sent[1]);
      const got = await t.bytes(7 + 5);
      assert.deepEqual(serverFrames(got), [
        { opcode: 1, payload: 'hello' },
        { opcode: 2, payload: '\x01\x02\x03' },
      ]);
      // END_STREAM becomes the upstream's FIN; the ws server ends its side, which ends the stream.
      t.req.end();
      await t.ended;
      assert.equal(await t.closed, 0);
      await waitFor(() => gauge('h2', 'downstream_cx_upgrades_active') === 0, 'the tunnel to end');
      assert.equal(stat('h2', 'downstream_cx_upgrades_total'), totalBefore + 1);
      const [line] = await logLinesStartingWith(logPath, 'LOG HTTP/2 GET /chat?room=1 101', 1);
      const received = sent[0].length + sent[1].length;
      assert.equal(line, `LOG HTTP/2 GET /chat?room=1 101 - ${received} ${t.received().length} via_upstream`);
    } finally {
      s.close();
    }
  });

  it('works on a codec AUTO listener (h2c by prior knowledge)', async () => {
    const s = await session(proxy.port('auto'));
    try {
      const t = await openStream(s, websocketRequest('/auto'));
      assert.equal(t.status, 200);
      t.req.write(clientFrame(1, Buffer.from('auto!')));
      assert.deepEqual(serverFrames(await t.bytes(7)), [{ opcode: 1, payload: 'auto!' }]);
      t.req.end();
      assert.equal(await t.closed, 0);
    } finally {
      s.close();
    }
  });

  it('relays a non-101 answer to an extended CONNECT as a normal response', async () => {
    const s = await session(proxy.port('h2'));
    try {
      const t = await openStream(s, websocketRequest('/plain/x'));
      assert.equal(t.status, 403);
      await t.ended;
      assert.equal(t.received().toString(), 'no upgrade for /plain/x\n');
      assert.equal(plain.seen.at(-1)?.headers.upgrade, 'websocket');
      await logLinesStartingWith(logPath, 'LOG HTTP/2 GET /plain/x 403 - 0 ', 1);
    } finally {
      s.close();
    }
  });

  it('refuses a WebSocket on a route that disables it with 403, as over HTTP/1.1', async () => {
    const s = await session(proxy.port('h2'));
    try {
      const t = await openStream(s, websocketRequest('/off'));
      assert.equal(t.status, 403);
      await t.closed;
    } finally {
      s.close();
    }
  });

  it('terminates a plain HTTP/2 CONNECT on a connect_config route: 200, bytes, half-close', async () => {
    const endedBefore = tcpEcho.ended.length;
    const s = await session(proxy.port('h2'));
    try {
      const t = await openStream(s, { ':method': 'CONNECT', ':authority': 'db.example:5432' });
      assert.equal(t.status, 200);
      assert.equal(t.headers['content-length'], undefined);
      t.req.write('ping over h2');
      assert.equal((await t.bytes(12)).toString(), 'ping over h2');
      t.req.end();
      await t.ended;
      assert.equal(await t.closed, 0);
      await waitFor(() => tcpEcho.ended.length > endedBefore, 'the echo server to see FIN');
      assert.equal(tcpEcho.ended[endedBefore], 12);
      const [line] = await logLinesStartingWith(logPath, 'LOG HTTP/2 CONNECT db.example:5432 200', 1);
      assert.equal(line, 'LOG HTTP/2 CONNECT db.example:5432 200 - 12 12 via_upstream');
    } finally {
      s.close();
    }
  });

  it('forwards a CONNECT without connect_config to an HTTP/1.1 upstream proxy; early DATA waits', async () => {
    const s = await session(proxy.port('h2'));
    try {
      const req = s.request(
        { ':method': 'CONNECT', ':authority': 'db.example:5432', 'x-tunnel-to': 'proxy' },
        { endStream: false },
      );
      // Sent before the 200: held in the stream until the tunnel starts.
      req.write('early bytes');
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      const status = await new Promise<number>((r) => req.once('response', (h) => r(Number(h[':status']))));
      assert.equal(status, 200);
      await waitFor(() => Buffer.concat(chunks).length >= 11, 'the echo');
      assert.equal(Buffer.concat(chunks).toString(), 'early bytes');
      assert.match(connectProxy.heads.at(-1) ?? '', /^CONNECT db\.example:5432 HTTP\/1\.1\r\n/);
      req.end();
      await new Promise<void>((r) => req.once('close', () => r()));
      assert.equal(req.rstCode, 0);
    } finally {
      s.close();
    }
  });

  it('early DATA on an extended CONNECT reaches the WebSocket server after its 101', async () => {
    const s = await session(proxy.port('h2'));
    try {
      // The frame is sent with the request; the ws server must only see it after its handshake.
      const t = await openStream(s, websocketRequest('/early'), clientFrame(1, Buffer.from('early')));
      assert.equal(t.status, 200);
      assert.deepEqual(serverFrames(await t.bytes(7)), [{ opcode: 1, payload: 'early' }]);
      t.req.end();
      assert.equal(await t.closed, 0);
    } finally {
      s.close();
    }
  });

  it('moves more than the stream window through a CONNECT tunnel (flow control both ways)', async () => {
    const s = await session(proxy.port('h2'));
    try {
      const t = await openStream(s, { ':method': 'CONNECT', ':authority': 'bulk.example:1' });
      assert.equal(t.status, 200);
      // 1 MiB against a 64 KiB stream window: only flow control lets it through whole.
      const payload = randomBytes(1 << 20);
      t.req.end(payload);
      await t.ended;
      assert.ok(t.received().equals(payload));
    } finally {
      s.close();
    }
  });

  it('a client RST_STREAM ends the tunnel and closes the upstream WebSocket connection', async () => {
    const closesBefore = echo.closes.length;
    const s = await session(proxy.port('h2'));
    try {
      const t = await openStream(s, websocketRequest('/reset'));
      t.req.write(clientFrame(1, Buffer.from('x')));
      await t.bytes(3);
      t.req.close(NGHTTP2_CANCEL);
      await waitFor(() => echo.closes.length > closesBefore, 'the ws server to see the close');
      await waitFor(() => gauge('h2', 'downstream_cx_upgrades_active') === 0, 'the tunnel to end');
      await logLinesStartingWith(logPath, 'LOG HTTP/2 GET /reset 101', 1);
      // The session lives on: another stream works.
      const again = await openStream(s, websocketRequest('/after-reset'));
      assert.equal(again.status, 200);
      again.req.end();
      await again.closed;
    } finally {
      s.close();
    }
  });

  it('an upstream that goes away ends the stream (its FIN is END_STREAM)', async () => {
    const before = echo.sockets.length;
    const s = await session(proxy.port('h2'));
    try {
      const t = await openStream(s, websocketRequest('/gone'));
      await waitFor(() => echo.sockets.length > before, 'the ws server connection');
      echo.sockets[before].terminate();
      await t.ended;
      // Half-close: the client ends its side as a WebSocket client does on FIN; the stream closes cleanly.
      t.req.end();
      assert.equal(await t.closed, 0);
      await waitFor(() => gauge('h2', 'downstream_cx_upgrades_active') === 0, 'the tunnel to end');
      await logLinesStartingWith(logPath, 'LOG HTTP/2 GET /gone 101', 1);
    } finally {
      s.close();
    }
  });

  it('without allow_connect: extended CONNECT is a protocol error, plain CONNECT gets 403', async () => {
    const s = await session(proxy.port('off'));
    try {
      await assert.rejects(openStream(s, websocketRequest('/chat')), (err: { code: number }) => {
        assert.equal(err.code, NGHTTP2_PROTOCOL_ERROR);
        return true;
      });
      const t = await openStream(s, { ':method': 'CONNECT', ':authority': 'db.example:5432' });
      assert.equal(t.status, 403);
    } finally {
      s.close();
    }
  });
});

describe('allow_connect in config', () => {
  it('is accepted on the HCM and refused on a cluster, with its path', () => {
    const cfg = bootstrap(
      [httpListener('l', [], { http2_protocol_options: { allow_connect: true } })],
      [
        staticCluster('b', [1], {
          typed_extension_protocol_options: {
            'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
              '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
              explicit_http_config: { http2_protocol_options: { allow_connect: true } },
            },
          },
        }),
      ],
    );
    const { issues } = validateBootstrap(cfg, createDefaultHttpFilterRegistry());
    const paths = issues.map((i) => i.path);
    assert.equal(paths.filter((p) => p.endsWith('allow_connect')).length, 1, paths.join('\n'));
    assert.ok(
      paths.some((p) => p.includes('clusters') && p.endsWith('http2_protocol_options.allow_connect')),
      paths.join('\n'),
    );
  });
});

describe('tunnels over HTTP/2 and timeouts (manual clock)', () => {
  const clock = createManualClock();
  let echo: Awaited<ReturnType<typeof startWsEcho>>;
  let tcpEcho: Awaited<ReturnType<typeof startTcpEcho>>;
  let proxy: ProxyServer;

  before(async () => {
    echo = await startWsEcho();
    tcpEcho = await startTcpEcho();
    const config = bootstrap(
      [
        httpListener(
          't',
          [
            {
              name: 'v',
              domains: ['*'],
              routes: [
                {
                  match: { connect_matcher: {} },
                  route: {
                    cluster: 'tcp',
                    upgrade_configs: [{ upgrade_type: 'CONNECT', connect_config: {} }],
                  },
                },
                {
                  match: { prefix: '/bounded' },
                  route: { cluster: 'ws', max_stream_duration: { max_stream_duration: '10s' } },
                },
                { match: { prefix: '/' }, route: { cluster: 'ws', timeout: '1s' } },
              ],
            },
          ],
          {
            codec_type: 'HTTP2',
            http2_protocol_options: { allow_connect: true },
            upgrade_configs: [{ upgrade_type: 'websocket' }, { upgrade_type: 'CONNECT' }],
            stream_idle_timeout: '60s',
          },
        ),
      ],
      [staticCluster('ws', [echo.port]), staticCluster('tcp', [tcpEcho.port])],
    );
    proxy = await startProxyOnClock(config, clock);
  });
  after(async () => {
    await proxy.shutdown();
    await echo.close();
    for (const c of tcpEcho.conns) c.destroy();
    await new Promise<void>((r) => tcpEcho.server.close(() => r()));
  });

  const port = () => proxy.listeners.get('t')!.address.port;
  const active = () => proxy.stats.gauge('http.t.downstream_cx_upgrades_active').value;

  async function echoOnce(t: Tunnel, text: string): Promise<void> {
    const had = t.received().length;
    t.req.write(clientFrame(1, Buffer.from(text)));
    const got = await t.bytes(had + 2 + text.length);
    assert.deepEqual(serverFrames(got.subarray(had)), [{ opcode: 1, payload: text }]);
  }

  it('the route timeout does not end an established tunnel; the stream idle timeout resets it (CANCEL)', async () => {
    const s = await session(port());
    try {
      const t = await openStream(s, websocketRequest('/long'));
      assert.equal(t.status, 200);
      clock.advance(30_000); // far past the 1 s route timeout
      await echoOnce(t, 'still here');
      const idleBefore = proxy.stats.counter('http.t.downstream_rq_idle_timeout').value;
      clock.advance(59_000);
      await echoOnce(t, 'again');
      clock.advance(60_000);
      assert.equal(await t.closed, NGHTTP2_CANCEL);
      assert.equal(proxy.stats.counter('http.t.downstream_rq_idle_timeout').value, idleBefore + 1);
      await waitFor(() => active() === 0, 'the tunnel to end');
    } finally {
      s.close();
    }
  });

  it("the route's max_stream_duration resets an upgraded stream", async () => {
    const s = await session(port());
    try {
      const t = await openStream(s, websocketRequest('/bounded'));
      clock.advance(9_000);
      await echoOnce(t, 'in time');
      clock.advance(1_000);
      assert.equal(await t.closed, NGHTTP2_INTERNAL_ERROR);
      await waitFor(() => active() === 0, 'the tunnel to end');
    } finally {
      s.close();
    }
  });

  it('tunnels opened and reset at once count as rapid resets: GOAWAY (ENHANCE_YOUR_CALM)', async () => {
    const s = await session(port());
    let goaway = -1;
    s.on('goaway', (code) => (goaway = code));
    const errorsBefore = proxy.stats.counter('http.t.downstream_cx_protocol_error').value;
    try {
      // The clock stands still, so every reset comes within the premature-reset lifetime.
      for (let i = 0; i < 150 && goaway < 0 && !s.closed && !s.destroyed; i++) {
        let t: Tunnel;
        try {
          t = await openStream(s, { ':method': 'CONNECT', ':authority': `t${i}.example:1` });
        } catch {
          break; // the session went away under us
        }
        assert.equal(t.status, 200);
        t.req.close(NGHTTP2_CANCEL);
        await t.closed;
      }
      await waitFor(() => goaway >= 0 || s.closed || s.destroyed, 'the session to end');
      assert.equal(goaway, constants.NGHTTP2_ENHANCE_YOUR_CALM);
      assert.equal(proxy.stats.counter('http.t.downstream_cx_protocol_error').value, errorsBefore + 1);
      await waitFor(() => active() === 0, 'the tunnels to end');
    } finally {
      s.destroy();
    }
  });
});
