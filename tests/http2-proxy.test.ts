// HTTP/2 through the proxy, end to end on real sockets: downstream h2c (prior knowledge
// and AUTO preface detection on the same port as HTTP/1.1), upstream h2c per cluster
// (HttpProtocolOptions), translation both ways, trailers, stats and %PROTOCOL%.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createH2Server, type Http2Server, constants as h2constants } from 'node:http2';
import { type AddressInfo, connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type H2Backend, h2Request, h2Session, startH2Backend } from './support/h2-client.js';
import {
  type Backend,
  bootstrap,
  httpListener,
  protocolOptions,
  type RunningProxy,
  request,
  startBackend,
  startProxy,
  staticCluster,
  tempDir,
  waitFor,
} from './support/harness.js';

const run = promisify(execFile);
const FILE_LOG = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';

function routes(cluster: string) {
  return [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster } }] }];
}

describe('downstream HTTP/2', () => {
  let backend: Backend;
  let proxy: RunningProxy;
  let logFile: string;

  before(async () => {
    backend = await startBackend('b1');
    logFile = join(tempDir(), 'access.log');
    const log = [
      {
        name: 'log',
        typed_config: {
          '@type': FILE_LOG,
          path: logFile,
          log_format: { text_format: '%PROTOCOL% %REQ(:PATH)% %RESPONSE_CODE%\n' },
        },
      },
    ];
    proxy = await startProxy(
      bootstrap(
        [
          httpListener('auto', routes('b'), { access_log: log }),
          httpListener('h2only', routes('b'), { codec_type: 'HTTP2' }),
          httpListener('h1only', routes('b'), { codec_type: 'HTTP1' }),
        ],
        [staticCluster('b', [backend.port])],
      ),
    );
  });
  after(async () => {
    await proxy.close();
    await backend.close();
  });

  it('curl --http2-prior-knowledge and HTTP/1.1 share an AUTO port', async () => {
    const port = proxy.port('auto');
    const h2 = await run('curl', ['-s', '-i', '--http2-prior-knowledge', `http://127.0.0.1:${port}/x?q=1`]);
    assert.match(h2.stdout, /^HTTP\/2 200/);
    assert.match(h2.stdout, /b1 GET \/x\?q=1/);
    const h1 = await run('curl', ['-s', '-i', '--http1.1', `http://127.0.0.1:${port}/y`]);
    assert.match(h1.stdout, /^HTTP\/1.1 200/);
    assert.match(h1.stdout, /b1 GET \/y/);
    const seen = backend.seen.find((r) => r.url === '/x?q=1');
    assert.equal(seen?.headers.host, `127.0.0.1:${port}`, ':authority becomes Host');
    await waitFor(() => readFileSync(logFile, 'utf8').includes('/y'), 'access log');
    const log = readFileSync(logFile, 'utf8');
    assert.match(log, /^HTTP\/2 \/x\?q=1 200$/m);
    assert.match(log, /^HTTP\/1.1 \/y 200$/m);
    const stats = await (await fetch(proxy.adminUrl('/stats'))).text();
    assert.match(stats, /http\.auto\.downstream_cx_http2_total: 1/);
    assert.match(stats, /http\.auto\.downstream_rq_http2_total: 1/);
  });

  it('h2 client with a request body and many concurrent streams reaches an HTTP/1.1 upstream', async () => {
    const session = h2Session(proxy.port('h2only'));
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          h2Request(
            session,
            { ':method': 'POST', ':path': `/p${i}`, cookie: 'a=1', 'content-type': 'text/plain' },
            `body-${i}`,
          ),
        ),
      );
      for (let i = 0; i < 20; i++) {
        assert.equal(results[i].headers[':status'], 200);
        assert.equal(results[i].body, `b1 POST /p${i}\n`);
      }
      const seen = backend.seen.find((r) => r.url === '/p7');
      assert.equal(seen?.body, 'body-7');
    } finally {
      session.close();
    }
  });

  it('codec_type HTTP1 does not speak HTTP/2', async () => {
    const r = await run('curl', [
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '--http2-prior-knowledge',
      `http://127.0.0.1:${proxy.port('h1only')}/`,
    ]).catch((e) => e);
    assert.notEqual(r.stdout, '200');
    const h1 = await request(proxy.port('h1only'), '/');
    assert.equal(h1.status, 200);
  });
});

describe('upstream HTTP/2 per cluster', () => {
  let h2: H2Backend;
  let h1: Backend;
  let proxy: RunningProxy;

  before(async () => {
    h2 = await startH2Backend('h2b');
    h1 = await startBackend('h1b');
    const vhosts = [
      {
        name: 'v',
        domains: ['*'],
        routes: [
          { match: { prefix: '/h2' }, route: { cluster: 'h2c' } },
          { match: { prefix: '/down' }, route: { cluster: 'down' } },
          { match: { prefix: '/' }, route: { cluster: 'h1' } },
        ],
      },
    ];
    proxy = await startProxy(
      bootstrap(
        [httpListener('l', vhosts)],
        [
          staticCluster(
            'h2c',
            [h2.port],
            protocolOptions({
              explicit_http_config: { http2_protocol_options: { max_concurrent_streams: 4 } },
            }),
          ),
          staticCluster(
            'h1',
            [h1.port],
            protocolOptions({ auto_config: { http_protocol_options: {}, http2_protocol_options: {} } }),
          ),
          staticCluster(
            'down',
            [h2.port],
            protocolOptions({ use_downstream_protocol_config: { http2_protocol_options: {} } }),
          ),
        ],
      ),
    );
  });
  after(async () => {
    await proxy.close();
    await h2.close();
    await h1.close();
  });

  it('an HTTP/1.1 client reaches an h2c upstream (Host becomes :authority)', async () => {
    const r = await request(proxy.port('l'), '/h2/a', {
      method: 'POST',
      body: 'hello',
      headers: { 'x-k': 'v' },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'h2b POST /h2/a hello');
    assert.equal(r.headers['x-backend'], 'h2b');
    const seen = h2.seen.find((h) => h[':path'] === '/h2/a')!;
    assert.equal(seen[':authority'], `127.0.0.1:${proxy.port('l')}`);
    assert.equal(seen['x-k'], 'v');
    assert.equal(seen.connection, undefined);
  });

  it('h2 to h2: one multiplexed upstream session carries concurrent streams; trailers come back', async () => {
    const session = h2Session(proxy.port('l'));
    try {
      const rs = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          h2Request(
            session,
            { ':path': `/h2/m${i}`, te: 'trailers', 'content-type': 'application/grpc' },
            'x',
          ),
        ),
      );
      for (let i = 0; i < 10; i++) {
        assert.equal(rs[i].headers[':status'], 200);
        assert.equal(rs[i].body, `h2b GET /h2/m${i} x`);
        assert.deepEqual(rs[i].trailers?.['x-trailer'], 'done');
      }
      const stats = await (await fetch(proxy.adminUrl('/stats'))).text();
      // max_concurrent_streams 4: ten concurrent requests fit on a few sessions, not ten.
      const total = Number(/cluster\.h2c\.upstream_cx_total: (\d+)/.exec(stats)?.[1]);
      assert.ok(total >= 1 && total <= 3, `upstream_cx_total ${total}`);
    } finally {
      session.close();
    }
  });

  it('auto_config on a plaintext cluster speaks HTTP/1.1', async () => {
    const r = await request(proxy.port('l'), '/plain');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'h1b GET /plain\n');
  });

  it('use_downstream_protocol_config: h2 downstream goes upstream over h2, HTTP/1.1 over HTTP/1.1', async () => {
    const session = h2Session(proxy.port('l'));
    try {
      const r = await h2Request(session, { ':path': '/down/2' });
      assert.equal(r.body, 'h2b GET /down/2 ');
    } finally {
      session.close();
    }
    // HTTP/1.1 downstream: an HTTP/1.1 request to the h2c-only backend fails (502/503).
    const r1 = await request(proxy.port('l'), '/down/1');
    assert.ok(r1.status >= 500, String(r1.status));
  });
});

describe('HCM http2_protocol_options', () => {
  let backend: Backend;
  let proxy: RunningProxy;

  before(async () => {
    // /slow answers only when released, so streams stay open.
    const held: Array<() => void> = [];
    backend = await startBackend('b', (req, res) => {
      if (req.url === '/slow') held.push(() => res.end('slow'));
      else res.end('fast');
      if (req.url === '/release') for (const f of held.splice(0)) f();
    });
    proxy = await startProxy(
      bootstrap(
        [
          httpListener('l', routes('b'), {
            codec_type: 'HTTP2',
            http2_protocol_options: {
              max_concurrent_streams: 2,
              initial_stream_window_size: 65536,
              initial_connection_window_size: 1048576,
              hpack_table_size: 1024,
            },
          }),
        ],
        [staticCluster('b', [backend.port])],
      ),
    );
  });
  after(async () => {
    await proxy.close();
    await backend.close();
  });

  it('SETTINGS carry the configured limits; streams held open up to max_concurrent_streams', async () => {
    const session = h2Session(proxy.port('l'));
    try {
      await new Promise<void>((r) => session.once('remoteSettings', () => r()));
      assert.equal(session.remoteSettings.maxConcurrentStreams, 2);
      assert.equal(session.remoteSettings.initialWindowSize, 65536);
      assert.equal(session.remoteSettings.headerTableSize, 1024);
      assert.equal(session.remoteSettings.maxHeaderListSize, 60 * 1024);
      const slow1 = h2Request(session, { ':path': '/slow' });
      const slow2 = h2Request(session, { ':path': '/slow' });
      // Another session releases the two held streams.
      await waitFor(() => backend.seen.filter((s) => s.url === '/slow').length === 2, 'two held streams');
      const other = h2Session(proxy.port('l'));
      try {
        assert.equal((await h2Request(other, { ':path': '/release' })).body, 'fast');
      } finally {
        other.close();
      }
      assert.equal((await slow1).body, 'slow');
      assert.equal((await slow2).body, 'slow');
    } finally {
      session.close();
    }
  });

  it('a field out of range is refused with its path', async () => {
    const { validateBootstrap } = await import('../src/config/validate-bootstrap.js');
    const { createDefaultHttpFilterRegistry } = await import('../src/config/http-filter-registry.js');
    const cfg = bootstrap(
      [
        httpListener('l', routes('b'), {
          http2_protocol_options: { initial_stream_window_size: 100, hpack_table_size: -1 },
        }),
      ],
      [staticCluster('b', [1])],
    );
    const { issues } = validateBootstrap(cfg, createDefaultHttpFilterRegistry());
    const paths = issues.map((i) => i.path);
    assert.ok(
      paths.some((p) => p.endsWith('typed_config.http2_protocol_options.initial_stream_window_size')),
      paths.join('\n'),
    );
    assert.ok(
      paths.some((p) => p.endsWith('typed_config.http2_protocol_options.hpack_table_size')),
      paths.join('\n'),
    );
  });
});

describe('HTTP/2 drain', () => {
  it('drain sends GOAWAY; open streams finish, new ones go elsewhere', async () => {
    const held: Array<() => void> = [];
    const backend = await startBackend('b', (req, res) => {
      if (req.url === '/slow') held.push(() => res.end('slow done'));
      else res.end('fast');
    });
    const proxy = await startProxy(
      bootstrap([httpListener('l', routes('b'))], [staticCluster('b', [backend.port])]),
      {
        drainTimeMs: 5000,
      },
    );
    try {
      const session = h2Session(proxy.port('l'));
      const goaway = new Promise<number>((r) => session.once('goaway', (code: number) => r(code)));
      const inFlight = [h2Request(session, { ':path': '/slow' }), h2Request(session, { ':path': '/slow' })];
      await waitFor(() => held.length === 2, 'two streams at the backend');
      // A connection that has sent nothing yet (codec still undecided) is closed by the drain
      // (after the drain grace period).
      const silent = netConnect(proxy.port('l'), '127.0.0.1');
      silent.on('error', () => {});
      const silentClosed = new Promise<void>((r) => silent.on('close', () => r()));
      await new Promise<void>((r) => silent.on('connect', () => r()));
      const drained = proxy.proxy.drainListeners();
      await silentClosed;
      assert.equal(await goaway, 0, 'GOAWAY with NO_ERROR');
      // The session takes no new streams; the open ones still complete.
      assert.throws(() => session.request({ ':path': '/late' }));
      for (const f of held.splice(0)) f();
      for (const r of await Promise.all(inFlight)) {
        assert.equal(r.headers[':status'], 200);
        assert.equal(r.body, 'slow done');
      }
      await new Promise<void>((r) => (session.closed ? r() : session.once('close', () => r())));
      await drained;
      const stats = await (await fetch(proxy.adminUrl('/stats'))).text();
      assert.match(stats, /http\.l\.downstream_cx_drain_close: 1/);
    } finally {
      await proxy.close();
      await backend.close();
    }
  });
});

describe('HTTP/2 upstream: circuit breakers and resets', () => {
  let server: Http2Server;
  let port: number;
  let proxy: RunningProxy;
  const held: Array<() => void> = [];
  let resets = 0;

  before(async () => {
    // /slow is held until released; /reset is reset by the server before any response.
    server = createH2Server();
    server.on('stream', (stream, headers) => {
      stream.on('error', () => {});
      const path = headers[':path'];
      if (path === '/slow')
        held.push(() => {
          stream.respond({ ':status': 200 });
          stream.end('slow');
        });
      else if (path === '/reset') {
        resets++;
        stream.close(h2constants.NGHTTP2_INTERNAL_ERROR);
      } else {
        stream.respond({ ':status': 200 });
        stream.end('ok');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    proxy = await startProxy(
      bootstrap(
        [httpListener('l', routes('h2'))],
        [
          staticCluster('h2', [port], {
            ...protocolOptions({ explicit_http_config: { http2_protocol_options: {} } }),
            circuit_breakers: { thresholds: [{ max_requests: 1, max_pending_requests: 1 }] },
          }),
        ],
      ),
    );
  });
  after(async () => {
    await proxy.close();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('max_requests counts active streams: the second concurrent request overflows (503 UO; gRPC UNAVAILABLE)', async () => {
    const first = request(proxy.port('l'), '/slow');
    await waitFor(() => held.length === 1, 'the first stream to be held');
    const second = await request(proxy.port('l'), '/x');
    assert.equal(second.status, 503);
    assert.match(second.body, /overflow/);
    const grpc = await request(proxy.port('l'), '/x', {
      method: 'POST',
      headers: { 'content-type': 'application/grpc' },
    });
    assert.equal(grpc.status, 200);
    assert.equal(grpc.headers['grpc-status'], '14');
    held.splice(0)[0]();
    assert.equal((await first).body, 'slow');
    const stats = await (await fetch(proxy.adminUrl('/stats'))).text();
    assert.match(stats, /cluster\.h2\.upstream_rq_pending_overflow: 2/);
    assert.equal((await request(proxy.port('l'), '/x')).body, 'ok');
  });

  it('an upstream stream reset before the response is a 502; the session keeps serving', async () => {
    const r = await request(proxy.port('l'), '/reset');
    assert.equal(r.status, 502);
    assert.equal(resets, 1, 'not replayed (no retry policy)');
    assert.equal((await request(proxy.port('l'), '/x')).body, 'ok');
    const stats = await (await fetch(proxy.adminUrl('/stats'))).text();
    assert.match(stats, /cluster\.h2\.upstream_cx_total: 1\n/);
  });
});

describe('HTTP/2 flow control end to end', () => {
  it('a client that stops reading stops the h2 upstream sender (backpressure through both sessions)', async () => {
    const TOTAL = 16 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 120);
    let written = 0;
    let blockedAt = -1;
    const upstream = createH2Server({ settings: { initialWindowSize: 65535 } });
    upstream.on('stream', (stream) => {
      stream.on('error', () => {});
      stream.respond({ ':status': 200 });
      const pump = (): void => {
        while (written < TOTAL) {
          written += chunk.length;
          if (!stream.write(chunk)) {
            if (blockedAt < 0) blockedAt = written;
            stream.once('drain', pump);
            return;
          }
        }
        stream.end();
      };
      pump();
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const small = { initial_stream_window_size: 65535, initial_connection_window_size: 65535 };
    const proxy = await startProxy(
      bootstrap(
        [
          httpListener(
            'l',
            [
              {
                name: 'v',
                domains: ['*'],
                routes: [{ match: { prefix: '/' }, route: { cluster: 'up', timeout: '0s' } }],
              },
            ],
            { codec_type: 'HTTP2', http2_protocol_options: small },
          ),
        ],
        [
          staticCluster('up', [(upstream.address() as AddressInfo).port], {
            ...protocolOptions({ explicit_http_config: { http2_protocol_options: small } }),
          }),
        ],
      ),
    );
    const session = h2Session(proxy.port('l'));
    try {
      const req = session.request({ ':path': '/big' });
      req.pause(); // read nothing yet
      // Wait until the upstream either finished or made no progress for 10 polls in a row.
      // With backpressure it stalls after the flow-control windows and a few buffers; if
      // the proxy buffered whole streams, it would write everything.
      let last = -1;
      let still = 0;
      await waitFor(() => {
        still = written === last ? still + 1 : 0;
        last = written;
        return written >= TOTAL || (blockedAt > 0 && still >= 10);
      }, 'the upstream sender to stall or finish');
      const settledAt = written;
      // Blocked long before the whole stream: the proxy holds only windows and socket buffers.
      assert.ok(settledAt < TOTAL / 4, `upstream wrote ${settledAt} bytes before blocking`);
      let received = 0;
      req.on('data', (c: Buffer) => {
        received += c.length;
      });
      const ended = new Promise<void>((r) => req.on('end', () => r()));
      req.resume();
      await ended;
      assert.equal(received, TOTAL);
    } finally {
      session.close();
      await proxy.close();
      await new Promise<void>((r) => upstream.close(() => r()));
    }
  });
});

describe('HTTP/1.1 upstream trailers to an HTTP/2 client', () => {
  it('chunked trailers come back as HTTP/2 trailers', async () => {
    const backend = await startBackend('t', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
      res.write('part1 ');
      res.addTrailers({ 'x-checksum': 'abc123' });
      res.end('part2');
    });
    const proxy = await startProxy(
      bootstrap([httpListener('l', routes('t'))], [staticCluster('t', [backend.port])]),
    );
    const session = h2Session(proxy.port('l'));
    try {
      const r = await h2Request(session, { ':path': '/t', te: 'trailers' });
      assert.equal(r.body, 'part1 part2');
      assert.equal(r.trailers?.['x-checksum'], 'abc123');
    } finally {
      session.close();
      await proxy.close();
      await backend.close();
    }
  });
});
