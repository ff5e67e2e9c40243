// A closed downstream connection leaves no timer behind. A pending timer keeps its
// connection (socket, parser, buffers) alive until it fires, and the defaults are long
// (idle_timeout is an hour): under connection churn, memory would grow with every
// connection. The proxy runs on a manual clock, so the timers it has scheduled and not
// cancelled can be counted; each protocol's connections are opened and closed one after
// another, and the count must come back to where it was.

import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { connect as h2Connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { connect, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ProxyServer } from '../src/proxy/proxy-server.js';
import { createManualClock } from '../src/proxy/upstream/testing/manual-clock.js';
import {
  type Backend,
  bootstrap,
  echoServer,
  httpListener,
  request,
  SOCKET_PATHS,
  serverTlsSocket,
  startBackend,
  startProxyOnClock,
  staticCluster,
  TLS_INSPECTOR_FILTER,
  tcpListener,
  waitFor,
} from './support/harness.js';

const CONNECTIONS = 12;

/** Every connection and stream timeout the HCM has, so that each arms its timer. */
const EVERY_HCM_TIMEOUT = {
  request_timeout: '10s',
  request_headers_timeout: '5s',
  stream_idle_timeout: '10s',
  drain_timeout: '2s',
  common_http_protocol_options: {
    idle_timeout: '30s',
    max_connection_duration: '60s',
    max_stream_duration: '30s',
  },
};

/** A route with its own timeouts, a retry policy with per-try timers, and a mirror. */
const EVERY_ROUTE_TIMEOUT = {
  cluster: 'app',
  timeout: '10s',
  idle_timeout: '10s',
  retry_policy: { retry_on: '5xx', num_retries: 1, per_try_timeout: '5s', per_try_idle_timeout: '5s' },
  request_mirror_policies: [{ cluster: 'app' }],
};

/** One h2c (prior knowledge) connection, one request on it, then the client closes it. */
function h2cRequest(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = h2Connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request({ ':path': path });
    req.on('response', (h) => {
      req.resume();
      req.on('end', () => {
        session.close();
        resolve(Number(h[':status']));
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** An HTTPS listener (tls_inspector, a handshake timeout) in front of the same routes. */
async function httpsListener(vhosts: unknown[]) {
  const listener = httpListener('https', vhosts) as { filter_chains: Record<string, unknown>[] };
  listener.filter_chains[0]!.transport_socket = await serverTlsSocket('weft-connection-timers-');
  listener.filter_chains[0]!.transport_socket_connect_timeout = '5s';
  return { ...listener, listener_filters: [TLS_INSPECTOR_FILTER], listener_filters_timeout: '3s' };
}

/** One HTTPS request on its own connection (Connection: close). */
function httpsGet(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path, servername: 'a.test', rejectUnauthorized: false, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** One keep-alive HTTP/1.1 request; the client closes the connection once the answer starts. */
function keepAliveThenClose(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write('GET /four HTTP/1.1\r\nhost: x\r\n\r\n'));
    s.once('data', (d: Buffer) => {
      s.destroy();
      resolve(d.toString('latin1').split('\r\n')[0]!);
    });
    s.on('error', reject);
  });
}

/** One TCP connection through tcp_proxy: sends a line, reads the echo, closes. */
function tcpEcho(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end('ping\n'));
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    s.on('close', () => resolve(got));
    s.on('error', reject);
  });
}

for (const sockets of SOCKET_PATHS) {
  describe(`closed connections leave no timers behind (${sockets} sockets)`, () => {
    const clock = createManualClock();
    let backend: Backend;
    let echo: Server;
    let proxy: ProxyServer;

    before(async () => {
      backend = await startBackend('app');
      echo = await echoServer();
      const echoPort = (echo.address() as { port: number }).port;
      const vhosts = [
        { name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] },
      ];
      const timedVhosts = [
        { name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: EVERY_ROUTE_TIMEOUT }] },
      ];
      // Every timeout at its default on the first three listeners (the HCM's and tcp_proxy's
      // idle_timeout are an hour); the fourth sets them all.
      const config = bootstrap(
        [
          httpListener('http', vhosts),
          await httpsListener(vhosts),
          tcpListener('tcp', 'echo'),
          httpListener('timed', timedVhosts, EVERY_HCM_TIMEOUT),
        ],
        [staticCluster('app', [backend.port]), staticCluster('echo', [echoPort])],
      );
      proxy = await startProxyOnClock(config, clock, 100, sockets);
    });
    after(async () => {
      await proxy.shutdown();
      await backend.close();
      await new Promise((r) => echo.close(r));
    });

    const port = (l: string) => proxy.listeners.get(l)!.address.port;
    const gauge = (name: string) => proxy.stats.gauge(name).value;

    /** Runs `one` CONNECTIONS times and returns how many more timers are pending after. */
    async function timersLeftBy(one: () => Promise<void>, active: string): Promise<number> {
      await one(); // the first one may open upstream connections, which keep their own timers
      await waitFor(() => gauge(active) === 0, `${active} back to 0`);
      await settled();
      const before = clock.pendingTimers;
      for (let i = 0; i < CONNECTIONS; i++) await one();
      await waitFor(() => gauge(active) === 0, `${active} back to 0`);
      await settled();
      return clock.pendingTimers - before;
    }

    /** Until no request is in flight anywhere, mirrors included (they finish after the response). */
    async function settled(): Promise<void> {
      await waitFor(
        () => proxy.stats.gauge('cluster.app.upstream_rq_active').value === 0,
        'upstream requests done',
      );
    }

    it('HTTP/1.1: a connection closed after its response (Connection: close)', async () => {
      const left = await timersLeftBy(async () => {
        const res = await request(port('http'), '/one');
        assert.equal(res.status, 200);
        assert.equal(res.headers.connection, 'close');
      }, 'http.http.downstream_cx_active');
      assert.equal(left, 0, `${left} timers left by ${CONNECTIONS} closed HTTP/1.1 connections`);
    });

    it('HTTP/1.1: a keep-alive connection the client closes', async () => {
      const left = await timersLeftBy(async () => {
        assert.equal(await keepAliveThenClose(port('http')), 'HTTP/1.1 200 OK');
      }, 'http.http.downstream_cx_active');
      assert.equal(left, 0, `${left} timers left by ${CONNECTIONS} closed keep-alive connections`);
    });

    it('HTTP/1.1 with every timeout, retry timer and a mirror: new connections', async () => {
      const left = await timersLeftBy(async () => {
        assert.equal((await request(port('timed'), '/five')).status, 200);
      }, 'http.timed.downstream_cx_active');
      assert.equal(left, 0, `${left} timers left by ${CONNECTIONS} requests with every timeout`);
    });

    it('HTTP/1.1 with every timeout: requests on one keep-alive connection, then its close', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const left = await timersLeftBy(async () => {
        for (let i = 0; i < 4; i++)
          assert.equal((await request(port('timed'), '/six', { agent })).status, 200);
        agent.destroy();
      }, 'http.timed.downstream_cx_active');
      assert.equal(left, 0, `${left} timers left by ${CONNECTIONS} keep-alive connections of 4 requests`);
    });

    it('HTTP/2 (h2c): a connection the client closes after its request', async () => {
      const left = await timersLeftBy(async () => {
        assert.equal(await h2cRequest(port('http'), '/two'), 200);
      }, 'http.http.downstream_cx_active');
      assert.equal(left, 0, `${left} timers left by ${CONNECTIONS} closed HTTP/2 connections`);
    });

    it('HTTPS: a connection closed after its response, past tls_inspector and the handshake timeout', async () => {
      const left = await timersLeftBy(async () => {
        assert.equal(await httpsGet(port('https'), '/three'), 200);
      }, 'http.https.downstream_cx_active');
      assert.equal(left, 0, `${left} timers left by ${CONNECTIONS} closed HTTPS connections`);
    });

    it('tcp_proxy: a connection both ends close', async () => {
      const left = await timersLeftBy(async () => {
        assert.equal(await tcpEcho(port('tcp')), 'ping\n');
      }, 'tcp.tcp.downstream_cx_active');
      assert.equal(left, 0, `${left} timers left by ${CONNECTIONS} closed TCP connections`);
    });
  });
}
