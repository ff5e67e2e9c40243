// Connection lifetimes through a real proxy, time driven by a manual clock (no sleeping):
// the HCM's common_http_protocol_options.max_connection_duration drains a downstream
// connection (HTTP/1.1: `connection: close` on the response in flight, an idle one closed
// at once, a stuck one reset after drain_timeout; HTTP/2: GOAWAY), and a cluster's
// max_connection_duration / max_requests_per_connection retire pooled upstream
// connections (told apart by the source port the backend sees).

import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { ProxyServer } from '../src/proxy/proxy-server.js';
import { createManualClock } from '../src/proxy/upstream/testing/manual-clock.js';
import { type H2Backend, h2Request, h2Session, startH2Backend } from './support/h2-client.js';
import {
  type Backend,
  bootstrap,
  httpListener,
  request,
  startBackend,
  startProxyOnClock,
  staticCluster,
  waitFor,
} from './support/harness.js';
import { rawClient } from './support/raw-client.js';

const HTTP_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** A backend that records each request's source port and holds `/…hold` requests. */
async function portRecordingBackend(ports: number[], held: ServerResponse[]): Promise<Backend> {
  return startBackend('app', (req: IncomingMessage, res: ServerResponse) => {
    ports.push(req.socket.remotePort ?? 0);
    if ((req.url ?? '').includes('hold')) {
      held.push(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '3' });
    res.end('ok\n');
  });
}

describe('downstream max_connection_duration (manual clock)', () => {
  const clock = createManualClock();
  const held: ServerResponse[] = [];
  const ports: number[] = [];
  let backend: Backend;
  let proxy: ProxyServer;

  before(async () => {
    backend = await portRecordingBackend(ports, held);
    const routes = [{ match: { prefix: '/' }, route: { cluster: 'app', timeout: '0s' } }];
    const config = bootstrap(
      [
        httpListener('in', [{ name: 'v', domains: ['*'], routes }], {
          common_http_protocol_options: { max_connection_duration: '60s' },
          drain_timeout: '5s',
        }),
      ],
      [staticCluster('app', [backend.port])],
    );
    proxy = await startProxyOnClock(config, clock);
  });
  after(async () => {
    for (const r of held) r.destroy();
    await proxy.shutdown();
    await backend.close();
  });

  const port = () => proxy.listeners.get('in')!.address.port;
  const reached = () => proxy.stats.counter('http.in.downstream_cx_max_duration_reached').value;

  it('lets the request in flight finish, with connection: close, then closes the connection', async () => {
    const c = await rawClient(port(), 'GET /first HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.waitForText(/ok\n$/, 'the first response');
    assert.doesNotMatch(c.text(), /connection: close/i);
    const seen = ports.length;
    c.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => ports.length > seen, 'the second request upstream');
    clock.advance(59_999);
    assert.equal(reached(), 0, 'not yet');
    clock.advance(1);
    assert.equal(reached(), 1);
    assert.equal(c.isClosed, false, 'the request in flight is not cut');
    const res = held.pop()!;
    res.writeHead(200, { 'content-length': '4' });
    res.end('late');
    await c.closed;
    const second = c.text().slice(c.text().indexOf('ok\n') + 3);
    assert.match(second, /^HTTP\/1\.1 200 /);
    assert.match(second, /connection: close/i);
    assert.match(second, /\r\n\r\nlate$/);
  });

  it('closes an idle keep-alive connection when it reaches the duration', async () => {
    const c = await rawClient(port(), 'GET /idle HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.waitForText(/ok\n$/, 'the response');
    clock.advance(60_000);
    assert.equal(reached(), 2);
    await c.closed;
    assert.doesNotMatch(c.text(), /connection: close/i, 'closed between requests, not on a response');
  });

  it('resets a connection whose request is still not done drain_timeout later', async () => {
    const c = await rawClient(port(), 'GET /stuck-hold HTTP/1.1\r\nHost: x\r\n\r\n');
    const seen = ports.length;
    await waitFor(() => ports.length > seen, 'the request upstream');
    clock.advance(60_000);
    assert.equal(reached(), 3);
    clock.advance(4999);
    assert.equal(c.isClosed, false);
    clock.advance(1);
    await c.closed;
    assert.equal(c.text(), '', 'no response: the connection was reset');
  });

  it('sends GOAWAY on an HTTP/2 connection', async () => {
    const session = h2Session(port());
    const goaway = new Promise<void>((resolve) => session.on('goaway', () => resolve()));
    const res = await h2Request(session, { ':method': 'GET', ':path': '/h2' });
    assert.equal(res.headers[':status'], 200);
    clock.advance(60_000);
    assert.equal(reached(), 4);
    await goaway;
    await new Promise<void>((resolve) => (session.closed ? resolve() : session.on('close', () => resolve())));
  });
});

describe('upstream max_connection_duration and max_requests_per_connection (manual clock)', () => {
  const clock = createManualClock();
  const held: ServerResponse[] = [];
  const ports: number[] = [];
  let backend: Backend;
  let h2: H2Backend;
  let proxy: ProxyServer;

  before(async () => {
    backend = await portRecordingBackend(ports, held);
    h2 = await startH2Backend('h2');
    const routes = [
      { match: { prefix: '/h2' }, route: { cluster: 'h2aged', timeout: '0s' } },
      { match: { prefix: '/aged' }, route: { cluster: 'aged', timeout: '0s' } },
      { match: { prefix: '/capped' }, route: { cluster: 'capped', timeout: '0s' } },
    ];
    const config = bootstrap(
      [httpListener('in', [{ name: 'v', domains: ['*'], routes }])],
      [
        staticCluster('aged', [backend.port], {
          common_http_protocol_options: { max_connection_duration: '30s' },
        }),
        staticCluster('capped', [backend.port], {
          common_http_protocol_options: { max_requests_per_connection: 2 },
        }),
        staticCluster('h2aged', [h2.port], {
          typed_extension_protocol_options: {
            [HTTP_OPTIONS]: {
              '@type': `type.googleapis.com/${HTTP_OPTIONS}`,
              common_http_protocol_options: { max_connection_duration: '30s' },
              explicit_http_config: { http2_protocol_options: {} },
            },
          },
        }),
      ],
    );
    proxy = await startProxyOnClock(config, clock);
  });
  after(async () => {
    for (const r of held) r.destroy();
    await proxy.shutdown();
    await backend.close();
    await h2.close();
  });

  const port = () => proxy.listeners.get('in')!.address.port;
  const counter = (name: string) => proxy.stats.counter(name).value;
  /** One request; resolves with the upstream source port the backend saw. */
  const upstreamPortOf = async (path: string): Promise<number> => {
    const res = await request(port(), path);
    assert.equal(res.status, 200);
    return ports[ports.length - 1];
  };

  it('closes an idle pooled connection once it is max_connection_duration old', async () => {
    const p1 = await upstreamPortOf('/aged/1');
    assert.equal(await upstreamPortOf('/aged/2'), p1, 'reused while young');
    const destroyed = counter('cluster.aged.upstream_cx_destroy');
    clock.advance(29_999);
    assert.equal(counter('cluster.aged.upstream_cx_max_duration_reached'), 0);
    clock.advance(1);
    assert.equal(counter('cluster.aged.upstream_cx_max_duration_reached'), 1);
    assert.equal(
      counter('cluster.aged.upstream_cx_destroy'),
      destroyed + 1,
      'the idle connection is closed at once',
    );
    assert.notEqual(await upstreamPortOf('/aged/3'), p1);
  });

  it('lets the request on an aged connection finish, then does not reuse the connection', async () => {
    const young = await upstreamPortOf('/aged/4');
    const pending = request(port(), '/aged/hold');
    const seen = ports.length;
    await waitFor(() => ports.length > seen, 'the request upstream');
    assert.equal(ports[ports.length - 1], young, 'on the pooled connection');
    clock.advance(30_000);
    assert.equal(counter('cluster.aged.upstream_cx_max_duration_reached'), 2);
    const res = held.pop()!;
    res.writeHead(200, { 'content-length': '4' });
    res.end('late');
    assert.equal((await pending).body, 'late', 'not cut by the duration');
    assert.notEqual(await upstreamPortOf('/aged/5'), young);
  });

  it('closes an aged HTTP/2 session and opens a new one for the next request', async () => {
    assert.equal((await request(port(), '/h2/1')).status, 200);
    assert.equal((await request(port(), '/h2/2')).status, 200);
    assert.equal(counter('cluster.h2aged.upstream_cx_total'), 1, 'one session for both');
    clock.advance(30_000);
    assert.equal(counter('cluster.h2aged.upstream_cx_max_duration_reached'), 1);
    await waitFor(() => counter('cluster.h2aged.upstream_cx_destroy') === 1, 'the idle session closed');
    assert.equal((await request(port(), '/h2/3')).status, 200);
    assert.equal(counter('cluster.h2aged.upstream_cx_total'), 2);
  });

  it('retires a connection after max_requests_per_connection requests', async () => {
    const p1 = await upstreamPortOf('/capped/1');
    assert.equal(await upstreamPortOf('/capped/2'), p1);
    assert.equal(counter('cluster.capped.upstream_cx_max_requests'), 1);
    const p2 = await upstreamPortOf('/capped/3');
    assert.notEqual(p2, p1);
    assert.equal(await upstreamPortOf('/capped/4'), p2);
    assert.equal(counter('cluster.capped.upstream_cx_max_requests'), 2);
  });
});
