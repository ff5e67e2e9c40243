// HTTP/2 through the proxy, end to end on real sockets: downstream h2c (prior knowledge
// and AUTO preface detection on the same port as HTTP/1.1), upstream h2c per cluster
// (HttpProtocolOptions), translation both ways, trailers, stats and %PROTOCOL%.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { h2Request, h2Session } from './support/h2-client.js';
import {
  type Backend,
  bootstrap,
  httpListener,
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
