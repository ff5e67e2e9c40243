// Connection-level timeouts of the HTTP connection manager: request_headers_timeout
// (408 and close when a head is not completed in time) and the downstream idle timeout
// (common_http_protocol_options.idle_timeout closes an idle keep-alive connection), and
// request_timeout (408 when a request body does not arrive in time).
// Outcomes are awaited, never timed.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  type Backend,
  bootstrap,
  httpListener,
  type RunningProxy,
  requestHost,
  SOCKET_PATHS,
  splitHostPort,
  startBackend,
  startProxy,
  staticCluster,
} from './support/harness.js';

/** Opens a connection, writes `data`, resolves with everything read until the server closes. */
function readUntilClosed(port: number, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.on('connect', () => s.write(data));
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('close', () => resolve(got));
    s.on('error', reject);
  });
}

for (const sockets of SOCKET_PATHS) {
  describe(`HTTP connection timeouts (${sockets} sockets)`, () => {
    let backend: Backend;
    let proxy: RunningProxy;

    before(async () => {
      backend = await startBackend('app');
      proxy = await startProxy(
        bootstrap(
          [
            httpListener(
              't',
              [
                {
                  name: 'v',
                  domains: ['*'],
                  routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }],
                },
              ],
              {
                request_headers_timeout: '0.2s',
                request_timeout: '0.4s',
                common_http_protocol_options: { idle_timeout: '0.3s' },
              },
            ),
          ],
          [staticCluster('app', [backend.port])],
        ),
        { sockets },
      );
    });
    after(async () => {
      await proxy.close();
      await backend.close();
    });

    it('answers 408 and closes when a request head is not completed in time', async () => {
      const out = await readUntilClosed(proxy.port('t'), 'GET / HTTP/1.1\r\nHost: x\r\n');
      assert.match(out, /^HTTP\/1\.1 408 /);
      assert.match(out, /connection: close/i);
      assert.match(out, /request headers timeout/);
    });

    it('answers 408 when the whole request does not arrive within request_timeout, and counts it', async () => {
      // A complete head promising 10 body bytes, then only 3 of them.
      const out = await readUntilClosed(
        proxy.port('t'),
        'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc',
      );
      assert.match(out, /^HTTP\/1\.1 408 /);
      assert.match(out, /request timeout/);
      assert.match(out, /connection: close/i, 'the unread body rules out keep-alive');
      const [host, port] = splitHostPort(proxy.proxy.admin!.addressString);
      const stats = await requestHost(host, port, '/stats?filter=downstream_rq_timeout');
      assert.match(stats.body, /http\.t\.downstream_rq_timeout: [1-9]/);
    });

    it('closes an idle keep-alive connection after idle_timeout and counts it', async () => {
      const out = await readUntilClosed(proxy.port('t'), 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.match(out, /^HTTP\/1\.1 200 /);
      assert.doesNotMatch(out, /connection: close/i, 'the response itself kept the connection alive');
      const [host, port] = splitHostPort(proxy.proxy.admin!.addressString);
      const stats = await requestHost(host, port, '/stats?filter=downstream_cx_idle_timeout');
      assert.match(stats.body, /http\.t\.downstream_cx_idle_timeout: [1-9]/);
    });

    // Last: it drains the listener the tests above share.
    it('draining leaves a just-opened connection time to send its request: answered, then closed', async () => {
      const s = connect(proxy.port('t'), '127.0.0.1');
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString('latin1')));
      const closed = new Promise<void>((resolve) => s.on('close', () => resolve()));
      await new Promise<void>((resolve) => s.on('connect', () => resolve()));
      const drained = proxy.proxy.drainListeners();
      s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await closed;
      assert.match(got, /^HTTP\/1\.1 200 /, 'no reset: the request that was on its way is served');
      assert.match(got, /connection: close/i);
      await drained;
    });
  });
}
