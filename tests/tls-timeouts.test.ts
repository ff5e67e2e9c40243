// Time limits before a connection reaches its filter chain, on the manual clock: a client
// that never starts (or never finishes) its TLS handshake is closed at the chain's
// transport_socket_connect_timeout, and one that sends nothing to a tls_inspector listener
// at listener_filters_timeout.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { createMemoryLogger } from '../src/core/logger.js';
import { ProxyServer } from '../src/proxy/proxy-server.js';
import { createManualClock } from '../src/proxy/upstream/testing/manual-clock.js';
import {
  bootstrap,
  HCM_TYPE,
  ROUTER_FILTER,
  serverTlsSocket,
  TLS_INSPECTOR_FILTER,
  tempDir,
  waitFor,
} from './support/harness.js';

function chain(extra: Record<string, unknown>) {
  return {
    filters: [
      {
        name: 'envoy.filters.network.http_connection_manager',
        typed_config: {
          '@type': HCM_TYPE,
          stat_prefix: 'h',
          route_config: {
            name: 'r',
            virtual_hosts: [
              {
                name: 'all',
                domains: ['*'],
                routes: [
                  { match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: 'ok' } } },
                ],
              },
            ],
          },
          http_filters: [ROUTER_FILTER],
        },
      },
    ],
    ...extra,
  };
}

describe('timeouts before the filter chain', () => {
  const clock = createManualClock();
  let proxy: ProxyServer;
  const sockets: Socket[] = [];

  before(async () => {
    const tls = await serverTlsSocket('weft-tls-timeouts-');
    const address = { socket_address: { address: '127.0.0.1', port_value: 0 } };
    const config = bootstrap(
      [
        {
          name: 'handshake',
          address,
          filter_chains: [chain({ transport_socket: tls, transport_socket_connect_timeout: '5s' })],
        },
        {
          name: 'inspect',
          address,
          listener_filters: [TLS_INSPECTOR_FILTER],
          listener_filters_timeout: '3s',
          filter_chains: [chain({})],
        },
      ],
      [],
    );
    const configPath = join(tempDir('weft-tls-timeouts-'), 'envoy.yaml');
    writeFileSync(configPath, YAML.stringify(config));
    proxy = await ProxyServer.start(
      { configPath, drainTimeMs: 1000 },
      { clock, logger: createMemoryLogger() },
    );
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await proxy.shutdown();
  });

  const port = (name: string) => proxy.listeners.get(name)!.address.port;
  const counter = (name: string) => proxy.stats.allCounters().find((c) => c.name === name)?.value ?? 0;

  /** Connects a client that sends nothing; returns once the proxy armed a timer for it. */
  async function silentClient(listener: string): Promise<{ closed: Promise<void> }> {
    const timers = clock.pendingTimers;
    const s = connect(port(listener), '127.0.0.1');
    sockets.push(s);
    s.on('error', () => {});
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    await waitFor(() => clock.pendingTimers > timers, 'the proxy to accept the connection');
    return { closed };
  }

  it('closes a connection that does not complete the TLS handshake in transport_socket_connect_timeout', async () => {
    const { closed } = await silentClient('handshake');
    const stat = `listener.127.0.0.1_${port('handshake')}.downstream_cx_transport_socket_connect_timeout`;
    clock.advance(4_999);
    assert.equal(counter(stat), 0);
    clock.advance(1);
    await closed;
    assert.equal(counter(stat), 1);
  });

  it('closes a connection that sends nothing in listener_filters_timeout', async () => {
    const { closed } = await silentClient('inspect');
    const stat = `listener.127.0.0.1_${port('inspect')}.downstream_pre_cx_timeout`;
    clock.advance(2_999);
    assert.equal(counter(stat), 0);
    clock.advance(1);
    await closed;
    assert.equal(counter(stat), 1);
  });
});
