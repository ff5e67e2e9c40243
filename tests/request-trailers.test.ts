// Request trailers through a real proxy: an HTTP/2 client's trailing HEADERS reach an
// HTTP/2 upstream as trailers and an HTTP/1.1 upstream as the trailer section of a chunked
// body; a request with a content-length goes to HTTP/1.1 unchunked, so its trailers are
// dropped (as Envoy does). An HTTP/1.1 client's chunked trailers are forwarded likewise.
// The backends (node:http2 h2c, node:http) record the trailers they received.

import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import {
  type ClientHttp2Session,
  createServer as createH2Server,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { h2Session } from './support/h2-client.js';
import {
  bootstrap,
  httpListener,
  type RunningProxy,
  rawExchange,
  SOCKET_PATHS,
  startProxy,
  staticCluster,
} from './support/harness.js';

const HTTP_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

interface Received {
  readonly path: string;
  readonly body: string;
  readonly chunked: boolean;
  readonly trailers: Record<string, string | string[] | undefined>;
}

/** Sends a request on `session` that ends with `trailers`; resolves with the response body. */
function requestWithTrailers(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  body: string,
  trailers: OutgoingHttpHeaders,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ...headers }, { waitForTrailers: true });
    req.on('wantTrailers', () => req.sendTrailers(trailers));
    let status = 0;
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      status = Number(h[':status']);
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString('latin1') }));
    req.on('error', reject);
    req.end(body);
  });
}

for (const sockets of SOCKET_PATHS) {
  describe(`request trailers (${sockets} sockets)`, () => {
    let h2: Http2Server;
    let h1: HttpServer;
    const h2Sessions = new Set<Http2Session>();
    const received: Received[] = [];
    let proxy: RunningProxy;
    let session: ClientHttp2Session;

    before(async () => {
      h2 = createH2Server();
      h2.on('session', (s) => {
        h2Sessions.add(s);
        s.on('close', () => h2Sessions.delete(s));
      });
      h2.on('stream', (stream, headers) => {
        const chunks: Buffer[] = [];
        let trailers: IncomingHttpHeaders = {};
        stream.on('trailers', (t: IncomingHttpHeaders) => {
          trailers = t;
        });
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          received.push({
            path: String(headers[':path']),
            body: Buffer.concat(chunks).toString('latin1'),
            chunked: false,
            trailers: { ...trailers },
          });
          stream.respond({ ':status': 200 });
          stream.end('ok');
        });
        stream.on('error', () => {});
      });
      h1 = createHttpServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          received.push({
            path: req.url ?? '',
            body: Buffer.concat(chunks).toString('latin1'),
            chunked: req.headers['transfer-encoding'] === 'chunked',
            trailers: { ...req.trailers },
          });
          res.end('ok');
        });
      });
      h1.keepAliveTimeout = 30_000;
      await Promise.all([
        new Promise<void>((r) => h2.listen(0, '127.0.0.1', r)),
        new Promise<void>((r) => h1.listen(0, '127.0.0.1', r)),
      ]);
      const route = (prefix: string, cluster: string) => ({ match: { prefix }, route: { cluster } });
      proxy = await startProxy(
        bootstrap(
          [
            httpListener('l', [
              { name: 'v', domains: ['*'], routes: [route('/h2', 'h2'), route('/h1', 'h1')] },
            ]),
          ],
          [
            staticCluster('h2', [(h2.address() as AddressInfo).port], {
              typed_extension_protocol_options: {
                [HTTP_OPTIONS_KEY]: {
                  '@type': `type.googleapis.com/${HTTP_OPTIONS_KEY}`,
                  explicit_http_config: { http2_protocol_options: {} },
                },
              },
            }),
            staticCluster('h1', [(h1.address() as AddressInfo).port]),
          ],
        ),
        { sockets },
      );
      session = h2Session(proxy.port('l'));
    });
    after(async () => {
      session.close();
      await proxy.close();
      for (const s of h2Sessions) s.destroy();
      h1.closeAllConnections();
      await Promise.all([
        new Promise<void>((r) => h2.close(() => r())),
        new Promise<void>((r) => h1.close(() => r())),
      ]);
    });

    const seen = (path: string): Received => {
      const r = received.find((x) => x.path === path);
      assert.ok(r !== undefined, `the backend saw no request for ${path}`);
      return r;
    };

    it('HTTP/2 client → HTTP/2 upstream: the trailers arrive as trailers', async () => {
      const r = await requestWithTrailers(session, { ':path': '/h2/a' }, 'payload', {
        'x-checksum': 'abc123',
        'x-count': '7',
      });
      assert.deepEqual(r, { status: 200, body: 'ok' });
      const s = seen('/h2/a');
      assert.equal(s.body, 'payload');
      assert.equal(s.trailers['x-checksum'], 'abc123');
      assert.equal(s.trailers['x-count'], '7');
    });

    it('HTTP/2 client → HTTP/2 upstream without trailers: the stream still ends', async () => {
      const r = await new Promise<string>((resolve, reject) => {
        const req = session.request({ ':method': 'POST', ':path': '/h2/none' });
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => resolve(Buffer.concat(chunks).toString()));
        req.on('error', reject);
        req.end('body-only');
      });
      assert.equal(r, 'ok');
      const s = seen('/h2/none');
      assert.equal(s.body, 'body-only');
      assert.deepEqual(Object.keys(s.trailers), []);
    });

    it('HTTP/2 client → HTTP/1.1 upstream: chunked body with the trailers in its last chunk', async () => {
      const r = await requestWithTrailers(session, { ':path': '/h1/b' }, 'streamed', {
        'x-checksum': 'def456',
      });
      assert.deepEqual(r, { status: 200, body: 'ok' });
      const s = seen('/h1/b');
      assert.equal(s.body, 'streamed');
      assert.equal(s.chunked, true);
      assert.deepEqual(s.trailers, { 'x-checksum': 'def456' });
    });

    it('HTTP/2 client with content-length → HTTP/1.1 upstream: not chunked, trailers dropped', async () => {
      const r = await requestWithTrailers(session, { ':path': '/h1/c', 'content-length': '5' }, 'fixed', {
        'x-checksum': 'dropped',
      });
      assert.deepEqual(r, { status: 200, body: 'ok' });
      const s = seen('/h1/c');
      assert.equal(s.body, 'fixed');
      assert.equal(s.chunked, false);
      assert.deepEqual(s.trailers, {});
    });

    it('HTTP/1.1 chunked client → HTTP/1.1 and HTTP/2 upstreams: the trailers are forwarded', async () => {
      for (const path of ['/h1/d', '/h2/d']) {
        const out = await rawExchange(
          proxy.port('l'),
          `POST ${path} HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n` +
            `4\r\nabcd\r\n0\r\nx-checksum: ghi789\r\nx-other: 1\r\n\r\n`,
          { until: (s) => s.includes('\r\n\r\nok') || s.endsWith('0\r\n\r\n') },
        );
        assert.match(out, /^HTTP\/1\.1 200/);
        const s = seen(path);
        assert.equal(s.body, 'abcd');
        assert.equal(s.trailers['x-checksum'], 'ghi789');
        assert.equal(s.trailers['x-other'], '1');
      }
    });
  });
}
