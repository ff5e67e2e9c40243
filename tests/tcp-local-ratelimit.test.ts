// The network local rate limit filter (envoy.filters.network.local_ratelimit) end to end:
// a real proxy with the filter before tcp_proxy (and before an HTTP connection manager),
// a real echo backend, real sockets on port 0, and a manual clock for the refill.

import assert from 'node:assert/strict';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createDefaultHttpFilterRegistry } from '../src/config/http-filter-registry.js';
import { validateBootstrap } from '../src/config/validate-bootstrap.js';
import { createMemoryLogger } from '../src/core/logger.js';
import { ProxyServer } from '../src/proxy/proxy-server.js';
import { createManualClock } from '../src/proxy/upstream/testing/manual-clock.js';
import {
  type Backend,
  bootstrap,
  httpListener,
  request,
  startBackend,
  staticCluster,
  TCP_PROXY_TYPE,
} from './support/harness.js';

const NETWORK_RL = 'type.googleapis.com/envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit';

function limitFilter(statPrefix: string, maxTokens: number) {
  return {
    name: 'envoy.filters.network.local_ratelimit',
    typed_config: {
      '@type': NETWORK_RL,
      stat_prefix: statPrefix,
      token_bucket: { max_tokens: maxTokens, tokens_per_fill: 1, fill_interval: '10s' },
    },
  };
}

/** Connects, writes `text`, and resolves with what came back before the connection closed. */
function exchange(port: number, text: string): Promise<{ received: string; closedByPeer: boolean }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let received = '';
    s.on('connect', () => s.write(text));
    s.on('data', (d: Buffer) => {
      received += d.toString('latin1');
      if (received === text) {
        s.destroy();
        resolve({ received, closedByPeer: false });
      }
    });
    s.on('close', () => resolve({ received, closedByPeer: true }));
    s.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
  });
}

describe('network local rate limit', () => {
  const clock = createManualClock();
  let echo: Server;
  const echoSockets: Socket[] = [];
  let web: Backend;
  let proxy: ProxyServer;

  before(async () => {
    echo = createServer((s) => {
      echoSockets.push(s);
      s.pipe(s);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    web = await startBackend('web');
    const tcp = {
      name: 'tcp',
      address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
      filter_chains: [
        {
          filters: [
            limitFilter('tcp_limit', 2),
            { name: 'tcp', typed_config: { '@type': TCP_PROXY_TYPE, stat_prefix: 'tcp', cluster: 'echo' } },
          ],
        },
      ],
    };
    const http = httpListener('http', [
      { name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'web' } }] },
    ]);
    (http.filter_chains[0].filters as unknown[]).unshift(limitFilter('http_limit', 1));
    proxy = await ProxyServer.start(
      {
        bootstrap: bootstrap(
          [tcp, http],
          [staticCluster('echo', [(echo.address() as AddressInfo).port]), staticCluster('web', [web.port])],
        ),
        drainTimeMs: 100,
      },
      { clock, logger: createMemoryLogger(), hostname: 'test-host' },
    );
  });
  after(async () => {
    clock.advance(60_000);
    await proxy.shutdown();
    for (const s of echoSockets) s.destroy();
    await new Promise<void>((r) => echo.close(() => r()));
    await web.close();
  });

  const port = (name: string) => proxy.listeners.get(name)!.address.port;
  const rateLimited = (prefix: string) => proxy.stats.counter(`local_ratelimit.${prefix}.rate_limited`).value;

  it('closes the connection over the rate before tcp_proxy, and admits again after the refill', async () => {
    const first = await exchange(port('tcp'), 'one');
    const second = await exchange(port('tcp'), 'two');
    assert.deepEqual([first.received, second.received], ['one', 'two']);
    assert.equal(rateLimited('tcp_limit'), 0);
    const third = await exchange(port('tcp'), 'three');
    assert.deepEqual(third, { received: '', closedByPeer: true }, 'closed without reaching the backend');
    assert.equal(rateLimited('tcp_limit'), 1);
    assert.equal(echoSockets.length, 2, 'the echo server saw two connections');
    clock.advance(10_000);
    const fourth = await exchange(port('tcp'), 'four');
    assert.equal(fourth.received, 'four');
  });

  it('limits connections before an HTTP connection manager too', async () => {
    const ok = await request(port('http'), '/');
    assert.equal(ok.status, 200);
    await assert.rejects(request(port('http'), '/'), /ECONNRESET|socket hang up/);
    assert.equal(rateLimited('http_limit'), 1);
  });

  it('a chain must end with a terminal filter; a terminal filter must be last', () => {
    const chain = (filters: unknown[]) =>
      bootstrap(
        [
          {
            name: 'l',
            address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
            filter_chains: [{ filters }],
          },
        ],
        [staticCluster('echo', [1])],
      );
    const tcpProxy = {
      name: 'tcp',
      typed_config: { '@type': TCP_PROXY_TYPE, stat_prefix: 't', cluster: 'echo' },
    };
    const issues = (filters: unknown[]) =>
      validateBootstrap(chain(filters), createDefaultHttpFilterRegistry()).issues.map(
        (i) => `${i.path}: ${i.message}`,
      );
    const F = 'static_resources.listeners[0].filter_chains[0].filters';
    assert.deepEqual(issues([limitFilter('x', 1)]), [
      `${F}[0]: the last filter of a chain must be a terminal filter (http_connection_manager or tcp_proxy)`,
    ]);
    assert.deepEqual(issues([tcpProxy, limitFilter('x', 1)]), [
      `${F}[0]: a terminal filter must be the last filter of its chain`,
      `${F}[1]: the last filter of a chain must be a terminal filter (http_connection_manager or tcp_proxy)`,
    ]);
    const bad = limitFilter('x', 1);
    (bad.typed_config as Record<string, unknown>).share_key = 'k';
    assert.deepEqual(issues([bad, tcpProxy]), [`${F}[0].typed_config.share_key: unsupported field`]);
  });
});
