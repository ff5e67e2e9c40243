// auto_config on a TLS cluster (HttpProtocolOptions): the proxy offers ALPN `h2,http/1.1`
// and speaks to each host what its server chose — HTTP/2 to a node:http2 secure server
// that allows both, HTTP/1.1 to an HTTPS server that only speaks HTTP/1.1 — with the
// probe connection kept (not wasted) and common_tls_context.alpn_protocols taking
// precedence. Certificates are made in the test (test-pki.ts).

import assert from 'node:assert/strict';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest } from 'node:http2';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createTestCa } from '../src/proxy/tls/testing/test-pki.js';
import {
  type Backend,
  bootstrap,
  httpListener,
  type RunningProxy,
  request,
  startBackend,
  startProxy,
  staticCluster,
} from './support/harness.js';

const UPSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const HTTP_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

function tlsCluster(protocol: Record<string, unknown>, common: Record<string, unknown> = {}) {
  return {
    transport_socket: {
      name: 'envoy.transport_sockets.tls',
      typed_config: { '@type': UPSTREAM_TLS, common_tls_context: common },
    },
    typed_extension_protocol_options: {
      [HTTP_OPTIONS_KEY]: { '@type': `type.googleapis.com/${HTTP_OPTIONS_KEY}`, ...protocol },
    },
  };
}

function autoConfig(common: Record<string, unknown> = {}) {
  return tlsCluster({ auto_config: { http_protocol_options: {}, http2_protocol_options: {} } }, common);
}

interface Seen {
  readonly version: string;
  readonly alpn: string | false;
  readonly url: string;
}

function listen(server: HttpsServer | Http2SecureServer): Promise<number> {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function counter(proxy: RunningProxy, name: string): Promise<number> {
  const stats = await (await fetch(proxy.adminUrl('/stats'))).text();
  const m = new RegExp(`^${name.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec(stats);
  return m === null ? 0 : Number(m[1]);
}

describe('auto_config on a TLS cluster chooses HTTP/2 or HTTP/1.1 by ALPN', () => {
  let both: Http2SecureServer;
  let h1only: HttpsServer;
  let h2strict: Http2SecureServer;
  const bothSeen: Seen[] = [];
  const h1Seen: Seen[] = [];
  const sockets = new Set<Socket>();
  let plain: Backend;
  let proxy: RunningProxy;

  before(async () => {
    const ca = await createTestCa('ALPN Test CA');
    const leaf = await ca.issue({ cn: 'backend', dns: ['backend.test'], ip: ['127.0.0.1'] });
    const answer =
      (name: string, seen: Seen[]) =>
      (
        req: Http2ServerRequest | import('node:http').IncomingMessage,
        res: import('node:http').ServerResponse,
      ) => {
        const alpn = (req.socket as import('node:tls').TLSSocket).alpnProtocol ?? false;
        seen.push({ version: req.httpVersion, alpn, url: req.url ?? '' });
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`${name} HTTP/${req.httpVersion} ${req.url}`);
      };
    both = createSecureServer({ cert: leaf.cert, key: leaf.key, allowHTTP1: true });
    both.on('request', answer('both', bothSeen) as never);
    h1only = createHttpsServer({ cert: leaf.cert, key: leaf.key }, answer('h1only', h1Seen));
    h1only.keepAliveTimeout = 30_000;
    // Without allowHTTP1 node:http2 closes a connection that did not negotiate h2 by ALPN.
    h2strict = createSecureServer({ cert: leaf.cert, key: leaf.key });
    h2strict.on('request', answer('strict', []) as never);
    for (const s of [both, h1only, h2strict]) {
      s.on('secureConnection', (sock: Socket) => {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
      });
    }
    const [bothPort, h1Port, strictPort] = await Promise.all([
      listen(both),
      listen(h1only),
      listen(h2strict),
    ]);
    plain = await startBackend('plain');
    const route = (prefix: string, cluster: string) => ({ match: { prefix }, route: { cluster } });
    proxy = await startProxy(
      bootstrap(
        [
          httpListener('l', [
            {
              name: 'v',
              domains: ['*'],
              routes: [
                route('/mixed', 'mixed'),
                route('/burst', 'burst'),
                route('/pinned', 'pinned'),
                route('/down', 'down'),
                route('/plain', 'plain'),
                route('/strict', 'strict'),
              ],
            },
          ]),
        ],
        [
          // One cluster, two hosts: round robin alternates between them.
          staticCluster('mixed', [bothPort, h1Port], autoConfig()),
          staticCluster('burst', [bothPort], autoConfig()),
          staticCluster('pinned', [bothPort], autoConfig({ alpn_protocols: ['http/1.1'] })),
          staticCluster('down', [await closedPort()], autoConfig()),
          staticCluster(
            'strict',
            [strictPort],
            tlsCluster({ explicit_http_config: { http2_protocol_options: {} } }),
          ),
          staticCluster('plain', [plain.port], {
            typed_extension_protocol_options: autoConfig().typed_extension_protocol_options,
          }),
        ],
      ),
    );
  });
  after(async () => {
    await proxy.close();
    for (const s of sockets) s.destroy();
    await Promise.all([
      new Promise<void>((r) => both.close(() => r())),
      new Promise<void>((r) => h1only.close(() => r())),
      new Promise<void>((r) => h2strict.close(() => r())),
      plain.close(),
    ]);
  });

  it('one cluster speaks HTTP/2 to the h2-capable host and HTTP/1.1 to the HTTP/1.1-only host', async () => {
    const bodies: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await request(proxy.port('l'), `/mixed/${i}`);
      assert.equal(r.status, 200);
      bodies.push(r.body);
    }
    const viaH2 = bodies.filter((b) => b.startsWith('both HTTP/2.0 /mixed/'));
    const viaH1 = bodies.filter((b) => b.startsWith('h1only HTTP/1.1 /mixed/'));
    assert.equal(viaH2.length, 3, bodies.join(' | '));
    assert.equal(viaH1.length, 3, bodies.join(' | '));
    const mixedBoth = bothSeen.filter((s) => s.url.startsWith('/mixed'));
    assert.deepEqual(
      mixedBoth.map((s) => [s.version, s.alpn]),
      [
        ['2.0', 'h2'],
        ['2.0', 'h2'],
        ['2.0', 'h2'],
      ],
    );
    assert.deepEqual(
      h1Seen.map((s) => s.version),
      ['1.1', '1.1', '1.1'],
    );
    // The probe of each host became its first pooled connection: two connections in all.
    assert.equal(await counter(proxy, 'cluster.mixed.upstream_cx_total'), 2);
  });

  it('requests that arrive while the first handshake runs all wait for it and share one HTTP/2 session', async () => {
    const rs = await Promise.all(
      Array.from({ length: 8 }, (_, i) => request(proxy.port('l'), `/burst/${i}`)),
    );
    for (let i = 0; i < 8; i++) {
      assert.equal(rs[i].status, 200);
      assert.equal(rs[i].body, `both HTTP/2.0 /burst/${i}`);
    }
    assert.equal(await counter(proxy, 'cluster.burst.upstream_cx_total'), 1);
    assert.equal(await counter(proxy, 'cluster.burst.upstream_cx_connect_fail'), 0);
  });

  it('common_tls_context.alpn_protocols takes precedence over the auto_config list', async () => {
    const r = await request(proxy.port('l'), '/pinned/x');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'both HTTP/1.1 /pinned/x');
    const seen = bothSeen.find((s) => s.url === '/pinned/x')!;
    assert.deepEqual([seen.version, seen.alpn], ['1.1', 'http/1.1']);
  });

  it('a failed first connection fails the waiting requests as a connect failure (503)', async () => {
    const rs = await Promise.all([request(proxy.port('l'), '/down/1'), request(proxy.port('l'), '/down/2')]);
    for (const r of rs) assert.equal(r.status, 503);
    assert.equal(await counter(proxy, 'cluster.down.upstream_cx_connect_fail'), 1);
    assert.equal(await counter(proxy, 'cluster.down.upstream_cx_total'), 1);
  });

  it('an explicit HTTP/2 TLS cluster offers h2 by ALPN (a server that requires it answers)', async () => {
    const r = await request(proxy.port('l'), '/strict/z');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'strict HTTP/2.0 /strict/z');
  });

  it('auto_config without TLS stays HTTP/1.1', async () => {
    const r = await request(proxy.port('l'), '/plain/y');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'plain GET /plain/y\n');
  });
});

describe('auto_config re-learns a host whose server changed protocol', () => {
  it('after the h2 server is replaced by an HTTP/1.1-only one on the same port, requests go over HTTP/1.1', async () => {
    const ca = await createTestCa('ALPN Relearn CA');
    const leaf = await ca.issue({ cn: 'backend', ip: ['127.0.0.1'] });
    const h2server = createSecureServer({ cert: leaf.cert, key: leaf.key, allowHTTP1: true });
    h2server.on('request', (req, res) => res.end(`first HTTP/${req.httpVersion}`));
    const sockets = new Set<Socket>();
    const track = (s: HttpsServer | Http2SecureServer) =>
      s.on('secureConnection', (sock: Socket) => {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
      });
    track(h2server);
    const port = await listen(h2server);
    const proxy = await startProxy(
      bootstrap(
        [
          httpListener('l', [
            { name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c' } }] },
          ]),
        ],
        [staticCluster('c', [port], autoConfig())],
      ),
    );
    let h1server: HttpsServer | null = null;
    try {
      const first = await request(proxy.port('l'), '/a');
      assert.equal(first.body, 'first HTTP/2.0');
      // The server goes away (its connections too) and an HTTP/1.1-only one takes the port.
      await new Promise<void>((r) => {
        h2server.close(() => r());
        for (const s of sockets) s.destroy();
      });
      h1server = createHttpsServer({ cert: leaf.cert, key: leaf.key }, (req, res) =>
        res.end(`second HTTP/${req.httpVersion}`),
      );
      track(h1server);
      await new Promise<void>((r) => h1server!.listen(port, '127.0.0.1', r));
      // The first connection after the change negotiates http/1.1 on the HTTP/2 pool and
      // fails; the host is then known to speak HTTP/1.1.
      const bodies: string[] = [];
      for (let i = 0; i < 3; i++) bodies.push((await request(proxy.port('l'), `/b${i}`)).body);
      assert.equal(bodies[bodies.length - 1], 'second HTTP/1.1', bodies.join(' | '));
      assert.ok(
        bodies.filter((b) => b === 'second HTTP/1.1').length >= 2,
        `at most one request fails while re-learning: ${bodies.join(' | ')}`,
      );
    } finally {
      await proxy.close();
      for (const s of sockets) s.destroy();
      if (h1server !== null) await new Promise<void>((r) => h1server!.close(() => r()));
    }
  });
});
