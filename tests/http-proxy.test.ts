// End-to-end HTTP/1.1 behaviour of `weft proxy` through real sockets: routing,
// rewrites, local replies, upstream failure mapping with response flags, keep-alive,
// pipelining, streaming bodies, 100-continue and bodyless responses.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type Backend,
  bootstrap,
  count,
  httpListener,
  nativeSocketsOpen,
  type RunningProxy,
  rawExchange,
  request,
  requestHost,
  SOCKET_PATHS,
  seededRandom,
  splitHostPort,
  startBackend,
  startProxy,
  staticCluster,
  tempDir,
  waitFor,
} from './support/harness.js';

for (const sockets of SOCKET_PATHS) {
  describe(`HTTP proxying (${sockets} sockets)`, () => {
    let a: Backend;
    let b1: Backend;
    let b2: Backend;
    let slow: Backend;
    let rude: Backend;
    let proxy: RunningProxy;
    let port: number;
    let logPath: string;
    const closedPort = 1; // nothing listens on port 1 of loopback

    before(async () => {
      a = await startBackend('a');
      b1 = await startBackend('b1');
      b2 = await startBackend('b2');
      slow = await startBackend('slow', () => {
        /* never answers */
      });
      rude = await startBackend('rude', (req) => req.socket.destroy());
      logPath = join(tempDir(), 'access.log');
      const routes = [
        {
          name: 'health',
          match: { path: '/healthz' },
          direct_response: { status: 200, body: { inline_string: 'ok\n' } },
        },
        {
          name: 'api',
          match: { prefix: '/api/' },
          route: { cluster: 'a' },
          request_headers_to_add: [{ header: { key: 'x-added', value: 'yes' } }],
          request_headers_to_remove: ['x-secret'],
          response_headers_to_add: [{ header: { key: 'x-route', value: '%ROUTE_NAME%' } }],
        },
        {
          name: 'rewrite',
          match: { prefix: '/old/' },
          route: { cluster: 'a', prefix_rewrite: '/new/', host_rewrite_literal: 'rewritten.example' },
        },
        {
          name: 'split',
          match: { prefix: '/split' },
          route: {
            weighted_clusters: {
              clusters: [
                { name: 'b1', weight: 75 },
                { name: 'b2', weight: 25 },
              ],
            },
          },
        },
        { name: 'slow', match: { prefix: '/slow' }, route: { cluster: 'slow', timeout: '0.2s' } },
        { name: 'down', match: { prefix: '/down' }, route: { cluster: 'down' } },
        { name: 'unhealthy', match: { prefix: '/unhealthy' }, route: { cluster: 'unhealthy' } },
        { name: 'rude', match: { prefix: '/rude' }, route: { cluster: 'rude' } },
        {
          name: 'hdr',
          match: { prefix: '/hdr', headers: [{ name: 'x-canary', string_match: { exact: 'true' } }] },
          route: { cluster: 'b2' },
        },
        {
          name: 'redirect',
          match: { prefix: '/moved' },
          redirect: { path_redirect: '/new-home', response_code: 'FOUND' },
        },
      ];
      const config = bootstrap(
        [
          httpListener('http', [{ name: 'all', domains: ['*'], routes }], {
            use_remote_address: true,
            access_log: [
              {
                name: 'file',
                typed_config: {
                  '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
                  path: logPath,
                  log_format: {
                    json_format: {
                      code: '%RESPONSE_CODE%',
                      flags: '%RESPONSE_FLAGS%',
                      path: '%REQ(:PATH)%',
                      upstream: '%UPSTREAM_HOST%',
                    },
                  },
                },
              },
            ],
          }),
        ],
        [
          staticCluster('a', [a.port]),
          staticCluster('b1', [b1.port]),
          staticCluster('b2', [b2.port]),
          staticCluster('slow', [slow.port]),
          staticCluster('rude', [rude.port]),
          staticCluster('down', [closedPort]),
          {
            ...staticCluster('unhealthy', [a.port]),
            // Panic mode off: with Envoy's default 50% the only (unhealthy) host would be used.
            common_lb_config: { healthy_panic_threshold: { value: 0 } },
            load_assignment: {
              cluster_name: 'unhealthy',
              endpoints: [
                {
                  lb_endpoints: [
                    {
                      endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: a.port } } },
                      health_status: 'UNHEALTHY',
                    },
                  ],
                },
              ],
            },
          },
        ],
      );
      proxy = await startProxy(config, { random: seededRandom(42), sockets });
      port = proxy.port('http');
    });

    after(async () => {
      await proxy.close();
      for (const b of [a, b1, b2, slow, rude]) await b.close();
      // Every socket the addon adopted (both sides, every test above) was closed and let go.
      await waitFor(() => nativeSocketsOpen() === 0, 'no native socket left open');
    });

    function accessLog(): Array<{ code: number; flags: string; path: string; upstream: string }> {
      return readFileSync(logPath, 'utf8')
        .trim()
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l));
    }

    async function logFor(path: string) {
      let entry: ReturnType<typeof accessLog>[number] | undefined;
      await waitFor(() => {
        try {
          entry = accessLog().find((e) => e.path === path);
        } catch {
          return false;
        }
        return entry !== undefined;
      }, `access log entry for ${path}`);
      return entry!;
    }

    it('answers a direct_response route locally', async () => {
      const res = await request(port, '/healthz');
      assert.equal(res.status, 200);
      assert.equal(res.body, 'ok\n');
    });

    it('forwards by prefix with header mutations, x-forwarded-* and a generated x-request-id', async () => {
      const res = await request(port, '/api/items?q=1', { headers: { 'x-secret': 's', 'x-keep': 'k' } });
      assert.equal(res.status, 200);
      assert.equal(res.body, 'a GET /api/items?q=1\n');
      assert.equal(res.headers['x-route'], 'api');
      assert.ok(res.headers['x-envoy-upstream-service-time'] !== undefined);
      const seen = a.seen.at(-1)!;
      assert.equal(seen.headers['x-added'], 'yes');
      assert.equal(seen.headers['x-secret'], undefined);
      assert.equal(seen.headers['x-keep'], 'k');
      assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(seen.headers['x-forwarded-proto'], 'http');
      assert.match(String(seen.headers['x-request-id']), /^[0-9a-f-]{36}$/);
      assert.equal(seen.headers.host, `127.0.0.1:${port}`);
    });

    it('appends to x-forwarded-for; with XFF the request is external, so its x-request-id is replaced', async () => {
      await request(port, '/api/xff', { headers: { 'x-request-id': 'abc', 'x-forwarded-for': '10.0.0.1' } });
      const seen = a.seen.at(-1)!;
      assert.match(String(seen.headers['x-request-id']), /^[0-9a-f-]{36}$/);
      assert.equal(seen.headers['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
    });

    it('keeps the x-request-id of an internal client (loopback, no XFF)', async () => {
      await request(port, '/api/rid', { headers: { 'x-request-id': 'abc' } });
      assert.equal(a.seen.at(-1)!.headers['x-request-id'], 'abc');
    });

    it('rewrites the path prefix and the host, keeping the query', async () => {
      const res = await request(port, '/old/thing?x=y');
      assert.equal(res.status, 200);
      const seen = a.seen.at(-1)!;
      assert.equal(seen.url, '/new/thing?x=y');
      assert.equal(seen.headers.host, 'rewritten.example');
      assert.equal(seen.headers['x-envoy-original-path'], '/old/thing?x=y');
    });

    it('splits traffic by weight (75/25 within tolerance over 400 requests)', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 8 });
      const before1 = b1.seen.length;
      const before2 = b2.seen.length;
      const n = 400;
      await Promise.all(Array.from({ length: n }, () => request(port, '/split', { agent })));
      agent.destroy();
      const got1 = b1.seen.length - before1;
      const got2 = b2.seen.length - before2;
      assert.equal(got1 + got2, n);
      // Binomial(400, 0.75): sd ≈ 8.7; 5 sd = ±43.
      assert.ok(Math.abs(got1 - 300) < 44, `b1 got ${got1} of ${n}`);
    });

    it('routes on header matchers and answers 404 NR when no route matches', async () => {
      const hit = await request(port, '/hdr', { headers: { 'x-canary': 'true' } });
      assert.equal(hit.status, 200);
      assert.match(hit.body, /^b2 /);
      const miss = await request(port, '/hdr/miss');
      assert.equal(miss.status, 404);
      assert.equal((await logFor('/hdr/miss')).flags, 'NR');
    });

    it('redirects', async () => {
      const res = await request(port, '/moved?a=1');
      assert.equal(res.status, 302);
      assert.equal(res.headers.location, `http://127.0.0.1:${port}/new-home?a=1`);
    });

    it('maps a refused connection to 503 UF', async () => {
      const res = await request(port, '/down');
      assert.equal(res.status, 503);
      assert.match(res.body, /connection failure/);
      assert.equal((await logFor('/down')).flags, 'UF');
    });

    it('maps no healthy host to 503 UH', async () => {
      const res = await request(port, '/unhealthy');
      assert.equal(res.status, 503);
      assert.equal(res.body, 'no healthy upstream');
      assert.equal((await logFor('/unhealthy')).flags, 'UH');
    });

    it('maps a route timeout to 504 UT', async () => {
      const res = await request(port, '/slow');
      assert.equal(res.status, 504);
      assert.equal(res.body, 'upstream request timeout');
      assert.equal((await logFor('/slow')).flags, 'UT');
    });

    it('times out a short-timeout request that follows a long-timeout one on the same connection', {
      timeout: 5000,
    }, async () => {
      // The connection's one deadline timer was armed for the first request's 15 s default;
      // the second request's 0.2 s must re-arm it earlier, or this test runs into its own timeout.
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const first = await request(port, '/api/before-slow', { agent });
      assert.equal(first.status, 200);
      const second = await request(port, '/slow/after-keepalive', { agent });
      agent.destroy();
      assert.equal(second.status, 504);
      assert.equal((await logFor('/slow/after-keepalive')).flags, 'UT');
    });

    it('maps an upstream that closes before answering to 502 UC', async () => {
      const res = await request(port, '/rude');
      assert.equal(res.status, 502);
      assert.equal((await logFor('/rude')).flags, 'UC');
    });

    it('reuses downstream and upstream keep-alive connections', async () => {
      const before = a.seen.length;
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; i < 10; i++) {
        const r = await request(port, `/api/ka/${i}`, { agent });
        assert.equal(r.status, 200);
      }
      agent.destroy();
      assert.equal(a.seen.length - before, 10);
      const [host, aport] = splitHostPort(proxy.proxy.admin!.addressString);
      const clusters = await requestHost(host, aport, '/clusters');
      const total = Number(/^a::127\.0\.0\.1:\d+::cx_total::(\d+)$/m.exec(clusters.body)?.[1]);
      assert.ok(total >= 1 && total <= 4, `upstream connections to a: ${total} (expected reuse)`);
    });

    it('answers pipelined requests in order on one connection', async () => {
      const reqs = ['/api/p1', '/healthz', '/api/p3', '/nowhere', '/api/p5']
        .map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`)
        .join('');
      const out = await rawExchange(port, reqs, {
        until: (r) => count(r, 'HTTP/1.1 ') === 5 && r.endsWith('\n') && count(r, 'a GET /api/p5\n') === 1,
      });
      const statuses = [...out.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
      assert.deepEqual(statuses, ['200', '200', '200', '404', '200']);
      assert.ok(out.indexOf('/api/p1') < out.indexOf('ok\n'));
      assert.ok(out.indexOf('ok\n') < out.indexOf('/api/p3'));
      assert.ok(out.indexOf('/api/p3') < out.indexOf('/api/p5'));
    });

    it('streams a chunked request body upstream', async () => {
      const raw =
        'POST /api/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n';
      const out = await rawExchange(port, raw);
      assert.match(out, /^HTTP\/1\.1 200 /);
      assert.equal(a.seen.at(-1)!.body, 'hello world');
    });

    it('streams a large response with backpressure to a slow reader', async () => {
      const size = 8 * 1024 * 1024;
      const big = await startBackend('big', (_req, res) => {
        res.writeHead(200, { 'content-length': String(size) });
        const chunk = Buffer.alloc(64 * 1024, 'x');
        let sent = 0;
        const pump = (): void => {
          while (sent < size) {
            sent += chunk.length;
            if (!res.write(chunk)) {
              res.once('drain', pump);
              return;
            }
          }
          res.end();
        };
        pump();
      });
      const cfg = bootstrap(
        [
          httpListener('big', [
            { name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'big' } }] },
          ]),
        ],
        [staticCluster('big', [big.port])],
      );
      const p = await startProxy(cfg, { sockets });
      try {
        const received = await new Promise<number>((resolveP, reject) => {
          const s = connect(p.port('big'), '127.0.0.1');
          let n = 0;
          s.on('connect', () => s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
          s.on('data', (d: Buffer) => {
            n += d.length;
            // Read slowly: pause after every chunk so the proxy must hold back the upstream.
            s.pause();
            setImmediate(() => s.resume());
          });
          s.on('end', () => resolveP(n));
          s.on('error', reject);
        });
        assert.ok(received > size, `received ${received} bytes`);
      } finally {
        await p.close();
        await big.close();
      }
    });

    it('answers Expect: 100-continue itself and forwards the body', async () => {
      const out = await rawExchange(
        port,
        'POST /api/expect HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nabc',
      );
      assert.match(out, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
      const seen = a.seen.at(-1)!;
      assert.equal(seen.body, 'abc');
      assert.equal(seen.headers.expect, undefined);
    });

    it('sends no body for HEAD, 204 and 304', async () => {
      const nc = await startBackend('nc', (req, res) => {
        if (req.method === 'HEAD') {
          res.writeHead(200, { 'content-length': '14' });
          res.end();
          return;
        }
        res.writeHead(req.url === '/204' ? 204 : 304, { etag: '"x"' });
        res.end();
      });
      const cfg = bootstrap(
        [
          httpListener('nc', [
            { name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'nc' } }] },
          ]),
        ],
        [staticCluster('nc', [nc.port])],
      );
      const p = await startProxy(cfg, { sockets });
      try {
        const head = await rawExchange(
          p.port('nc'),
          'HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
        );
        assert.match(head, /^HTTP\/1\.1 200 /);
        assert.match(head, /content-length: 14\r\n/i);
        assert.ok(head.endsWith('\r\n\r\n'), 'no body after the HEAD response head');
        const out = await rawExchange(
          p.port('nc'),
          'GET /204 HTTP/1.1\r\nHost: x\r\n\r\nGET /304 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
        );
        assert.match(out, /^HTTP\/1\.1 204 [\s\S]*\r\n\r\nHTTP\/1\.1 304 [\s\S]*\r\n\r\n$/);
        assert.doesNotMatch(out, /transfer-encoding/i);
      } finally {
        await p.close();
        await nc.close();
      }
    });

    it('removes hop-by-hop headers, including those named by Connection', async () => {
      await rawExchange(
        port,
        'GET /api/hop HTTP/1.1\r\nHost: x\r\nConnection: close, x-hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nX-End: 2\r\n\r\n',
      );
      const seen = a.seen.at(-1)!;
      assert.equal(seen.headers['x-hop'], undefined);
      assert.equal(seen.headers['keep-alive'], undefined);
      assert.equal(seen.headers.te, undefined);
      assert.equal(seen.headers['x-end'], '2');
    });

    for (const [name, raw, status] of [
      [
        'CL with TE (smuggling)',
        'POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        400,
      ],
      ['obs-fold', 'GET /api/x HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n', 400],
      [
        'unsupported transfer coding',
        'POST /api/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n',
        501,
      ],
      ['HTTP/2.0 on an HTTP/1 request line', 'GET /api/x HTTP/2.0\r\nHost: x\r\n\r\n', 505],
      ['too many headers', `GET /api/x HTTP/1.1\r\nHost: x\r\n${'X-N: 1\r\n'.repeat(101)}\r\n`, 431],
    ] as const) {
      it(`rejects ${name} with ${status} and closes the connection`, async () => {
        const out = await rawExchange(port, raw);
        assert.match(out, new RegExp(`^HTTP/1\\.1 ${status} `));
        assert.match(out, /connection: close\r\n/i);
      });
    }
  });
}
