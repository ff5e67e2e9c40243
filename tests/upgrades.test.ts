// Issue 3 (WebSocket and upgrades): WebSocket upgrades and CONNECT tunnels through a real
// proxy, with the `ws` package on both ends, a raw TCP echo server for CONNECT, and raw
// sockets where the exact bytes matter. Timeouts run on a manual clock.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { createServer as createH2Server, type Http2Server, connect as h2connect } from 'node:http2';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { DRAIN_IDLE_GRACE_MS } from '../src/proxy/listener/drain.js';
import type { ProxyServer } from '../src/proxy/proxy-server.js';
import { createManualClock } from '../src/proxy/upstream/testing/manual-clock.js';
import {
  type Backend,
  bootstrap,
  fileAccessLog,
  httpListener,
  logLinesStartingWith,
  type RunningProxy,
  rawExchange,
  SOCKET_PATHS,
  startBackend,
  startProxy,
  startProxyOnClock,
  staticCluster,
  tempDir,
  waitFor,
} from './support/harness.js';
import { startConnectProxy, startTcpEcho, startWsEcho } from './support/tunnel-servers.js';

function accessLog(path: string) {
  return fileAccessLog(
    path,
    'LOG %REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %RESPONSE_CODE_DETAILS%\n',
  );
}

/** A broken upstream that answers every request with 101, upgrade or not. */
async function startRogue101(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => {
    s.once('data', () =>
      s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: rogue\r\n\r\nrogue bytes'),
    );
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

/**
 * An upstream for a custom upgrade (`Upgrade: echo-proto`): answers 101, echoes bytes,
 * and when its client half-closes writes "bye" and ends too. Bytes after the request head
 * in the same read are echoed as well.
 */
async function startEchoProto(): Promise<{ server: Server; port: number; heads: string[] }> {
  const heads: string[] = [];
  const server = createServer({ allowHalfOpen: true }, (s) => {
    let buf = Buffer.alloc(0);
    let upgraded = false;
    s.on('data', (d: Buffer) => {
      if (upgraded) {
        s.write(d);
        return;
      }
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      upgraded = true;
      heads.push(buf.subarray(0, end).toString('latin1'));
      s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo-proto\r\n\r\nhello ');
      if (buf.length > end + 4) s.write(buf.subarray(end + 4));
    });
    s.on('end', () => s.end('bye'));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, heads };
}

function openWs(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{
  ws: WebSocket;
  response: IncomingMessage;
}> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
    let response: IncomingMessage | null = null;
    ws.once('upgrade', (res) => (response = res));
    ws.once('open', () => resolve({ ws, response: response! }));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        reject(
          Object.assign(new Error(`unexpected ${res.statusCode}`), { res, body: Buffer.concat(chunks) }),
        ),
      );
    });
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) =>
    ws.once('message', (data, isBinary) => resolve({ data: data as Buffer, isBinary })),
  );
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve(-1);
    else ws.once('close', (code) => resolve(code));
  });
}

/** Opens a raw connection, sends a CONNECT, resolves once the response head arrived. */
function rawConnect(
  port: number,
  target: string,
): Promise<{ socket: Socket; head: string; rest: () => string; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let received = '';
    let resolved = false;
    const ended = new Promise<void>((r) => socket.once('end', () => r()));
    socket.on('data', (d: Buffer) => {
      received += d.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      if (!resolved && end >= 0) {
        resolved = true;
        const head = received.slice(0, end + 4);
        const start = end + 4;
        resolve({ socket, head, rest: () => received.slice(start), ended });
      }
    });
    socket.on('error', (e) => (resolved ? undefined : reject(e)));
    socket.on('close', () => {
      if (!resolved) {
        resolved = true;
        resolve({ socket, head: received, rest: () => '', ended });
      }
    });
    socket.on('connect', () => socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
  });
}

for (const sockets of SOCKET_PATHS) {
  describe(`WebSocket and CONNECT through the proxy (${sockets} sockets)`, () => {
    let echo: Awaited<ReturnType<typeof startWsEcho>>;
    let tcpEcho: Awaited<ReturnType<typeof startTcpEcho>>;
    let plain: Backend;
    let connectProxy: Awaited<ReturnType<typeof startConnectProxy>>;
    let rogue: Awaited<ReturnType<typeof startRogue101>>;
    let h2: Http2Server;
    let echoProto: Awaited<ReturnType<typeof startEchoProto>>;
    let proxy: RunningProxy;
    const logPath = join(tempDir(), 'access.log');

    before(async () => {
      echo = await startWsEcho();
      tcpEcho = await startTcpEcho();
      // Answers upgrade requests as plain HTTP (node:http has no 'upgrade' listener here).
      plain = await startBackend('plain', (req, res) => {
        if (req.headers.upgrade === undefined) {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(`plain says hello to ${req.url}\n`);
          return;
        }
        res.writeHead(403, { 'content-type': 'text/plain' });
        res.end(`no upgrade for ${req.url}\n`);
      });
      connectProxy = await startConnectProxy();
      rogue = await startRogue101();
      echoProto = await startEchoProto();
      h2 = createH2Server((_req, res) => res.end('h2 backend\n'));
      await new Promise<void>((r) => h2.listen(0, '127.0.0.1', r));
      const tunnelTo = (value: string) => ({
        connect_matcher: {},
        headers: [{ name: 'x-tunnel-to', string_match: { exact: value } }],
      });
      const routes = [
        { match: tunnelTo('proxy'), route: { cluster: 'fwd' } },
        {
          match: tunnelTo('plain'),
          route: { cluster: 'plain', upgrade_configs: [{ upgrade_type: 'CONNECT', connect_config: {} }] },
        },
        { match: { prefix: '/rogue' }, route: { cluster: 'rogue' } },
        { match: { prefix: '/h2up' }, route: { cluster: 'h2' } },
        { match: { prefix: '/proto' }, route: { cluster: 'proto' } },
        {
          match: { connect_matcher: {} },
          route: { cluster: 'tcp', upgrade_configs: [{ upgrade_type: 'CONNECT', connect_config: {} }] },
        },
        {
          match: { prefix: '/off' },
          route: { cluster: 'ws', upgrade_configs: [{ upgrade_type: 'websocket', enabled: false }] },
        },
        { match: { prefix: '/plain' }, route: { cluster: 'plain' } },
        {
          match: { prefix: '/' },
          route: { cluster: 'ws' },
          request_headers_to_add: [{ header: { key: 'x-from-route', value: 'added' } }],
          response_headers_to_add: [{ header: { key: 'x-route-response', value: 'yes' } }],
        },
      ];
      const noUpgradeRoutes = [
        {
          match: { connect_matcher: {} },
          route: { cluster: 'tcp', upgrade_configs: [{ upgrade_type: 'CONNECT', connect_config: {} }] },
        },
        { match: { prefix: '/' }, route: { cluster: 'ws' } },
      ];
      proxy = await startProxy(
        bootstrap(
          [
            httpListener('up', [{ name: 'v', domains: ['*'], routes }], {
              upgrade_configs: [
                { upgrade_type: 'websocket' },
                { upgrade_type: 'CONNECT' },
                { upgrade_type: 'echo-proto' },
              ],
              access_log: accessLog(logPath),
            }),
            httpListener('noup', [{ name: 'v', domains: ['*'], routes: noUpgradeRoutes }]),
          ],
          [
            staticCluster('ws', [echo.port]),
            staticCluster('tcp', [tcpEcho.port]),
            staticCluster('plain', [plain.port]),
            staticCluster('fwd', [connectProxy.port]),
            staticCluster('rogue', [rogue.port]),
            staticCluster('proto', [echoProto.port]),
            staticCluster('h2', [(h2.address() as AddressInfo).port], { http2_protocol_options: {} }),
          ],
        ),
        { sockets },
      );
    });
    after(async () => {
      await proxy.close();
      for (const c of tcpEcho.conns) c.destroy();
      await new Promise<void>((r) => tcpEcho.server.close(() => r()));
      await echo.close();
      await plain.close();
      await new Promise<void>((r) => connectProxy.server.close(() => r()));
      await new Promise<void>((r) => rogue.server.close(() => r()));
      await new Promise<void>((r) => h2.close(() => r()));
      await new Promise<void>((r) => echoProto.server.close(() => r()));
    });

    const stat = (name: string) => proxy.proxy.stats.counter(`http.up.${name}`).value;
    const gauge = (name: string) => proxy.proxy.stats.gauge(`http.up.${name}`).value;

    it('relays a WebSocket: the 101 with route header mutations, then messages both ways', async () => {
      const totalBefore = stat('downstream_cx_upgrades_total');
      const { ws, response } = await openWs(proxy.port('up'), '/chat?room=1');
      assert.equal(response.statusCode, 101);
      assert.equal(response.headers['x-ws-server'], 'echo');
      assert.equal(response.headers['x-route-response'], 'yes');
      const hs = echo.handshakes[echo.handshakes.length - 1];
      assert.equal(hs.url, '/chat?room=1');
      assert.equal(hs.headers['x-from-route'], 'added');
      assert.equal(stat('downstream_cx_upgrades_total'), totalBefore + 1);
      assert.equal(gauge('downstream_cx_upgrades_active'), 1);

      ws.send('hello');
      const text = await nextMessage(ws);
      assert.equal(text.data.toString(), 'hello');
      assert.equal(text.isBinary, false);
      // A message far larger than the socket buffers: backpressure both ways.
      const big = Buffer.alloc(4 * 1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = i % 251;
      ws.send(big);
      const echoed = await nextMessage(ws);
      assert.equal(echoed.isBinary, true);
      assert.ok(echoed.data.equals(big), 'the 4 MiB binary message came back intact');

      ws.close(1000, 'bye');
      assert.equal(await closed(ws), 1000);
      await waitFor(() => gauge('downstream_cx_upgrades_active') === 0, 'the upgrade to end');
      const [line] = await logLinesStartingWith(logPath, 'LOG GET /chat?room=1 101', 1);
      const [, , , , flags, received, sent, details] = line.split(' ');
      assert.equal(flags, '-');
      assert.ok(Number(received) > big.length, `bytes received counted (${received})`);
      assert.ok(Number(sent) > big.length, `bytes sent counted (${sent})`);
      assert.equal(details, 'via_upstream');
    });

    it('refuses an upgrade the HCM does not list with 403 (Envoy: upgrade_failed)', async () => {
      const before = proxy.proxy.stats.counter('http.noup.downstream_rq_ws_on_non_ws_route').value;
      await assert.rejects(openWs(proxy.port('noup'), '/x'), (err: { res: IncomingMessage }) => {
        assert.equal(err.res.statusCode, 403);
        return true;
      });
      assert.equal(proxy.proxy.stats.counter('http.noup.downstream_rq_ws_on_non_ws_route').value, before + 1);
    });

    it('refuses an upgrade a route disables, even though the HCM enables it', async () => {
      const before = stat('downstream_rq_ws_on_non_ws_route');
      await assert.rejects(openWs(proxy.port('up'), '/off'), (err: { res: IncomingMessage }) => {
        assert.equal(err.res.statusCode, 403);
        return true;
      });
      assert.equal(stat('downstream_rq_ws_on_non_ws_route'), before + 1);
      await logLinesStartingWith(logPath, 'LOG GET /off 403 - 0 0 upgrade_failed', 1);
    });

    it('relays a non-101 answer to an upgrade as a plain HTTP response', async () => {
      await assert.rejects(
        openWs(proxy.port('up'), '/plain'),
        (err: { res: IncomingMessage; body: Buffer }) => {
          assert.equal(err.res.statusCode, 403);
          assert.equal(err.body.toString(), 'no upgrade for /plain\n');
          return true;
        },
      );
      await waitFor(() => gauge('downstream_cx_upgrades_active') === 0, 'the upgrade count to settle');
    });

    it('strips an Upgrade: h2c and proxies the request as a plain one', async () => {
      const got = await rawExchange(
        proxy.port('up'),
        'GET /plain/h2c HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n',
        { until: (r) => r.includes('plain says hello to /plain/h2c\n') },
      );
      assert.match(got, /^HTTP\/1\.1 200 /);
    });

    it('closes the client side when the WebSocket server closes', async () => {
      const { ws } = await openWs(proxy.port('up'), '/server-closes');
      const server = echo.sockets[echo.sockets.length - 1];
      server.close(4001, 'server says bye');
      assert.equal(await closed(ws), 4001);
      await waitFor(() => gauge('downstream_cx_upgrades_active') === 0, 'the upgrade to end');
    });

    it('closes the server side when the client goes away abruptly', async () => {
      const { ws } = await openWs(proxy.port('up'), '/client-closes');
      const server = echo.sockets[echo.sockets.length - 1];
      const serverClosed = new Promise<number>((r) => server.once('close', (code) => r(code)));
      ws.terminate();
      assert.equal(await serverClosed, 1006);
      await waitFor(() => gauge('downstream_cx_upgrades_active') === 0, 'the upgrade to end');
    });

    it('terminates CONNECT on a connect_config route: 200, then a TCP tunnel with half-close', async () => {
      const before = proxy.proxy.stats.counter('cluster.tcp.upstream_cx_total').value;
      const t = await rawConnect(proxy.port('up'), 'anything.example:443');
      assert.match(t.head, /^HTTP\/1\.1 200 OK\r\n/);
      assert.doesNotMatch(t.head, /content-length|transfer-encoding/i);
      t.socket.write('ping over tcp');
      await waitFor(() => t.rest() === 'ping over tcp', 'the echo through the tunnel');
      t.socket.write(' and more');
      // Half-close: the client ends, the echo server ends back after echoing.
      t.socket.end();
      await t.ended;
      assert.equal(t.rest(), 'ping over tcp and more');
      assert.equal(proxy.proxy.stats.counter('cluster.tcp.upstream_cx_total').value, before + 1);
      const [line] = await logLinesStartingWith(logPath, 'LOG CONNECT anything.example:443 200', 1);
      assert.match(line, / 200 - 22 22 via_upstream$/);
    });

    it('forwards CONNECT without connect_config to the upstream proxy, early bytes included', async () => {
      const socket = connect(proxy.port('up'), '127.0.0.1');
      let got = '';
      socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
      // The head and the first tunnel bytes in one write: the proxy must keep the early bytes.
      socket.write(
        'CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\nx-tunnel-to: proxy\r\n\r\nearly',
      );
      await waitFor(() => got.endsWith('early'), 'the early bytes echoed');
      assert.match(got, /^HTTP\/1\.1 200 OK\r\n/);
      socket.write(' late');
      await waitFor(() => got.endsWith('early late'), 'more bytes echoed');
      const head = connectProxy.heads[connectProxy.heads.length - 1];
      assert.match(head, /^CONNECT db\.internal:5432 HTTP\/1\.1\r\nhost: db\.internal:5432\r\n/);
      socket.destroy();
      await waitFor(() => gauge('downstream_cx_upgrades_active') === 0, 'the tunnel to end');
    });

    it('answers 502 when an upstream switches protocols on a request that did not ask', async () => {
      const got = await rawExchange(proxy.port('up'), 'GET /rogue HTTP/1.1\r\nHost: x\r\n\r\n', {
        until: (r) => r.includes('\r\n\r\n') && /content-length: (\d+)/.test(r),
      });
      assert.match(got, /^HTTP\/1\.1 502 /);
      assert.doesNotMatch(got, /rogue bytes/);
      await logLinesStartingWith(logPath, 'LOG GET /rogue 502 UPE', 1);
    });

    it('carries curl --proxytunnel through a terminated CONNECT', async (t) => {
      const curl = await new Promise<{ code: number; stdout: string } | null>((resolve) => {
        execFile(
          'curl',
          [
            '-sS',
            '--max-time',
            '10',
            '-p',
            '-x',
            `http://127.0.0.1:${proxy.port('up')}`,
            '--proxy-header',
            'x-tunnel-to: plain',
            'http://tunnelled.example/through',
          ],
          (err, stdout) => {
            if (err !== null && (err as NodeJS.ErrnoException).code === 'ENOENT') resolve(null);
            else resolve({ code: err === null ? 0 : Number(err.code), stdout });
          },
        );
      });
      if (curl === null) {
        t.skip('curl is not installed');
        return;
      }
      assert.equal(curl.code, 0);
      assert.equal(curl.stdout, 'plain says hello to /through\n');
    });

    it('relays a custom upgrade with half-close both ways on the pooled upstream connection', async () => {
      const socket = connect({ port: proxy.port('up'), host: '127.0.0.1', allowHalfOpen: true });
      let got = '';
      socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
      const ended = new Promise<void>((r) => socket.once('end', () => r()));
      socket.write(
        'GET /proto/x HTTP/1.1\r\nHost: p\r\nConnection: Upgrade\r\nUpgrade: Echo-Proto\r\nX-Keep: 1\r\n\r\n',
      );
      await waitFor(() => got.endsWith('hello '), 'the 101 and the greeting');
      assert.match(got, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      assert.match(got, /\r\nconnection: upgrade\r\n/i);
      assert.match(got, /\r\nupgrade: echo-proto\r\n/i);
      socket.write('ping');
      await waitFor(() => got.endsWith('hello ping'), 'the echo');
      // Our half-close reaches the server, whose reply and FIN come back through the tunnel.
      socket.end();
      await ended;
      assert.ok(got.endsWith('hello pingbye'), JSON.stringify(got));
      const head = echoProto.heads[echoProto.heads.length - 1];
      assert.match(head, /\r\nconnection: upgrade\r\nupgrade: Echo-Proto(\r\n|$)/);
      assert.match(head, /\r\nx-keep: 1\r\n/);
      await waitFor(() => gauge('downstream_cx_upgrades_active') === 0, 'the tunnel to end');
      const [line] = await logLinesStartingWith(logPath, 'LOG GET /proto/x 101', 1);
      assert.match(line, / 101 - 4 13 via_upstream$/);
    });

    it('answers 503 to a WebSocket routed to an HTTP/2 upstream (no extended CONNECT)', async () => {
      await assert.rejects(openWs(proxy.port('up'), '/h2up'), (err: { res: IncomingMessage }) => {
        assert.equal(err.res.statusCode, 503);
        return true;
      });
      await logLinesStartingWith(logPath, 'LOG GET /h2up 503 - 0 ', 1);
    });

    it('refuses CONNECT over HTTP/2 with 403', async () => {
      const session = h2connect(`http://127.0.0.1:${proxy.port('up')}`);
      try {
        const status = await new Promise<number>((resolve, reject) => {
          const req = session.request({ ':method': 'CONNECT', ':authority': 'anything.example:443' });
          req.on('response', (headers) => resolve(Number(headers[':status'])));
          req.on('error', reject);
          req.resume();
        });
        assert.equal(status, 403);
      } finally {
        session.close();
      }
    });

    it('answers CONNECT with 503 UF when the cluster refuses the connection', async () => {
      const dead = createServer();
      await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
      const deadPort = (dead.address() as AddressInfo).port;
      await new Promise<void>((r) => dead.close(() => r()));
      const p2 = await startProxy(
        bootstrap(
          [
            httpListener(
              'c',
              [
                {
                  name: 'v',
                  domains: ['*'],
                  routes: [
                    {
                      match: { connect_matcher: {} },
                      route: {
                        cluster: 'dead',
                        upgrade_configs: [{ upgrade_type: 'CONNECT', connect_config: {} }],
                      },
                    },
                  ],
                },
              ],
              { upgrade_configs: [{ upgrade_type: 'CONNECT' }] },
            ),
          ],
          [staticCluster('dead', [deadPort])],
        ),
        { sockets },
      );
      try {
        const got = await rawExchange(p2.port('c'), 'CONNECT h:1 HTTP/1.1\r\nHost: h:1\r\n\r\n');
        assert.match(got, /^HTTP\/1\.1 503 /);
        assert.match(got, /connection: close/i);
      } finally {
        await p2.close();
      }
    });

    it('matches CONNECT only to connect_matcher routes, and refuses CONNECT the HCM does not enable', async () => {
      // `noup` has a connect_matcher route, but no CONNECT in its upgrade_configs.
      const refused = await rawExchange(proxy.port('noup'), 'CONNECT h:1 HTTP/1.1\r\nHost: h:1\r\n\r\n');
      assert.match(refused, /^HTTP\/1\.1 403 /);
      // A GET never matches the connect_matcher route: it goes to the prefix route.
      const { ws } = await openWs(proxy.port('up'), '/after-connect');
      ws.close();
      await closed(ws);
    });
  });
}

describe('upgrades and timeouts (manual clock)', () => {
  const clock = createManualClock();
  let echo: Awaited<ReturnType<typeof startWsEcho>>;
  let proxy: ProxyServer;

  before(async () => {
    echo = await startWsEcho();
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
                  match: { prefix: '/bounded' },
                  route: { cluster: 'ws', max_stream_duration: { max_stream_duration: '10s' } },
                },
                { match: { prefix: '/' }, route: { cluster: 'ws', timeout: '1s' } },
              ],
            },
          ],
          {
            upgrade_configs: [{ upgrade_type: 'websocket' }],
            stream_idle_timeout: '60s',
          },
        ),
      ],
      [staticCluster('ws', [echo.port])],
    );
    proxy = await startProxyOnClock(config, clock);
  });
  after(async () => {
    await proxy.shutdown();
    await echo.close();
  });

  const port = () => proxy.listeners.get('t')!.address.port;

  it('the route timeout does not end an established WebSocket; the stream idle timeout does', async () => {
    const { ws } = await openWs(port(), '/long');
    clock.advance(30_000); // far past the 1 s route timeout
    ws.send('still here');
    assert.equal((await nextMessage(ws)).data.toString(), 'still here');
    assert.equal(ws.readyState, WebSocket.OPEN);
    const idleBefore = proxy.stats.counter('http.t.downstream_rq_idle_timeout').value;
    clock.advance(59_000); // idle, but not for 60 s yet
    ws.send('again');
    assert.equal((await nextMessage(ws)).data.toString(), 'again');
    clock.advance(60_000);
    assert.equal(await closed(ws), 1006);
    assert.equal(proxy.stats.counter('http.t.downstream_rq_idle_timeout').value, idleBefore + 1);
    await waitFor(
      () => proxy.stats.gauge('http.t.downstream_cx_upgrades_active').value === 0,
      'the upgrade to end',
    );
  });

  it("the route's max_stream_duration still ends an upgraded stream", async () => {
    const { ws } = await openWs(port(), '/bounded');
    clock.advance(9_000);
    ws.send('in time');
    assert.equal((await nextMessage(ws)).data.toString(), 'in time');
    clock.advance(1_000);
    assert.equal(await closed(ws), 1006);
    await waitFor(
      () => proxy.stats.gauge('http.t.downstream_cx_upgrades_active').value === 0,
      'the upgrade to end',
    );
  });
});

describe('upgrades and drain (manual clock)', () => {
  const clock = createManualClock();
  const drainTimeMs = 30_000;
  let echo: Awaited<ReturnType<typeof startWsEcho>>;
  let proxy: ProxyServer;

  before(async () => {
    echo = await startWsEcho();
    const config = bootstrap(
      [
        httpListener(
          'd',
          [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'ws' } }] }],
          {
            upgrade_configs: [{ upgrade_type: 'websocket' }],
          },
        ),
      ],
      [staticCluster('ws', [echo.port])],
    );
    proxy = await startProxyOnClock(config, clock, drainTimeMs);
  });
  after(async () => {
    await proxy.shutdown();
    await echo.close();
  });

  it('an upgraded connection is not an idle keep-alive: it lives until the drain deadline', async () => {
    const port = proxy.listeners.get('d')!.address.port;
    const { ws } = await openWs(port, '/stay');
    // An idle keep-alive connection next to it (the ws server answers plain GETs with 426).
    const idle = connect(port, '127.0.0.1');
    let idleGot = '';
    idle.on('data', (d: Buffer) => (idleGot += d.toString('latin1')));
    const idleClosed = new Promise<void>((r) => idle.once('close', () => r()));
    idle.write('GET /plain HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => /\r\n\r\n/.test(idleGot), 'the keep-alive response');

    const drained = proxy.drainListeners();
    clock.advance(DRAIN_IDLE_GRACE_MS);
    await idleClosed;
    ws.send('during drain');
    assert.equal((await nextMessage(ws)).data.toString(), 'during drain');

    clock.advance(drainTimeMs);
    assert.equal(await closed(ws), 1006);
    await drained;
  });
});
