// codec_type AUTO on TLS sockets: the HCM chooses HTTP/2 when ALPN negotiated `h2`, and
// HTTP/1.1 otherwise. The TLS listener side (filter chains, DownstreamTlsContext) is not
// part of this test: a node:tls server with a certificate made here terminates TLS and
// hands each TLSSocket to the listener's HTTP connection manager, as a TLS transport
// socket does. The certificate is made in the test (openssl CLI).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server } from 'node:tls';
import { promisify } from 'node:util';
import {
  type Backend,
  bootstrap,
  httpListener,
  type RunningProxy,
  startBackend,
  startProxy,
  staticCluster,
} from './support/harness.js';
import { selfSigned } from './support/self-signed.js';

const run = promisify(execFile);

describe('AUTO codec on TLS sockets chooses by ALPN', () => {
  let backend: Backend;
  let proxy: RunningProxy;
  let tls: Server;
  let port: number;

  before(async () => {
    backend = await startBackend('b');
    proxy = await startProxy(
      bootstrap(
        [
          httpListener('l', [
            { name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'b' } }] },
          ]),
        ],
        [staticCluster('b', [backend.port])],
      ),
    );
    // Reach the listener's network filter (the HCM), as the TLS transport socket will.
    const active = proxy.proxy.listeners.get('l') as unknown as {
      current: { filter: { handle(socket: Socket): void } };
    };
    const { cert, key } = await selfSigned();
    tls = createServer({ cert, key, ALPNProtocols: ['h2', 'http/1.1'] }, (socket) =>
      active.current.filter.handle(socket),
    );
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    port = (tls.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise<void>((r) => tls.close(() => r()));
    await proxy.close();
    await backend.close();
  });

  it('curl --http2 over TLS gets HTTP/2; --http1.1 gets HTTP/1.1', async () => {
    const h2 = await run('curl', ['-s', '-k', '-i', '--http2', `https://127.0.0.1:${port}/tls2`]);
    assert.match(h2.stdout, /^HTTP\/2 200/);
    assert.match(h2.stdout, /b GET \/tls2/);
    const h1 = await run('curl', ['-s', '-k', '-i', '--http1.1', `https://127.0.0.1:${port}/tls1`]);
    assert.match(h1.stdout, /^HTTP\/1.1 200/);
    const stats = await (await fetch(proxy.adminUrl('/stats'))).text();
    assert.match(stats, /http\.l\.downstream_rq_http2_total: 1/);
    assert.match(stats, /http\.l\.downstream_rq_http1_total: 1/);
  });
});
