// Stream-level timeouts through a real proxy and real backends, time driven by a manual
// clock (no sleeping): the HCM's stream_idle_timeout and a route's idle_timeout ("stream
// timeout" with SI before the response — 504 when the request was complete, 408 while it
// was still arriving, as Envoy — a reset after it started; activity either way restarts
// it), the HCM's max_stream_duration (DT), and retry_policy
// per_try_idle_timeout (an attempt with no response bytes is retried on another host; a
// response that stalls is reset). Stats are read right after clock.advance(): timers run
// synchronously inside it, so "not yet" is exact.

import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Clock } from '../src/core/clock.js';
import type { ProxyServer } from '../src/proxy/proxy-server.js';
import { createManualClock } from '../src/proxy/upstream/testing/manual-clock.js';
import { h2Request, h2Session } from './support/h2-client.js';
import {
  type Backend,
  bootstrap,
  httpListener,
  logLinesStartingWith,
  pathCodeFlagsLog,
  request,
  startBackend,
  startProxyOnClock,
  staticCluster,
  tempDir,
  waitFor,
} from './support/harness.js';
import { rawClient } from './support/raw-client.js';

const PREVIOUS_HOSTS = [{ name: 'envoy.retry_host_predicates.previous_hosts' }];

/** Backend behaviour by path: `hold` never answers, `stall-body` sends part of a body, `trickle` a byte. */
function stallingHandler(name: string, held: ServerResponse[]) {
  return (req: { url?: string }, res: ServerResponse): void => {
    const url = req.url ?? '';
    if (url.includes('hold')) {
      held.push(res);
      return;
    }
    if (url.includes('stall-body') || url.includes('trickle')) {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '10', 'x-backend': name });
      res.write(url.includes('trickle') ? 'a' : 'abc');
      held.push(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': name });
    res.end(`${name} ok\n`);
  };
}

describe('stream_idle_timeout, route idle_timeout, HCM max_stream_duration (manual clock)', () => {
  const clock = createManualClock();
  const held: ServerResponse[] = [];
  let backend: Backend;
  let proxy: ProxyServer;
  const logFile = join(tempDir(), 'access.log');

  before(async () => {
    backend = await startBackend('app', stallingHandler('app', held));
    const route = (prefix: string, extra: Record<string, unknown> = {}) => ({
      match: { prefix },
      route: { cluster: 'app', timeout: '0s', ...extra },
    });
    const config = bootstrap(
      [
        httpListener(
          'in',
          [
            {
              name: 'v',
              domains: ['*'],
              routes: [
                route('/short', { idle_timeout: '2s' }),
                route('/off', { idle_timeout: '0s' }),
                route('/'),
              ],
            },
          ],
          {
            stream_idle_timeout: '10s',
            access_log: pathCodeFlagsLog(logFile),
          },
        ),
        httpListener(
          'dur',
          [
            {
              name: 'v',
              domains: ['*'],
              routes: [
                route('/own', { max_stream_duration: { max_stream_duration: '0s' } }),
                route('/brief', { max_stream_duration: { max_stream_duration: '2s' } }),
                route('/'),
              ],
            },
          ],
          {
            common_http_protocol_options: { max_stream_duration: '5s' },
            access_log: pathCodeFlagsLog(logFile),
          },
        ),
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

  const port = (l = 'in') => proxy.listeners.get(l)!.address.port;
  const counter = (name: string) => proxy.stats.counter(name).value;
  const seen = (path: string) => backend.seen.filter((s) => s.url === path).length;

  it('resets a response that stalls mid-body once the stream is idle for stream_idle_timeout', async () => {
    const c = await rawClient(port(), 'GET /stall-body HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.waitForText(/\r\n\r\nabc$/, 'the head and the first body bytes');
    clock.advance(9999);
    assert.equal(counter('http.in.downstream_rq_idle_timeout'), 0, 'not idle long enough yet');
    clock.advance(1);
    assert.equal(counter('http.in.downstream_rq_idle_timeout'), 1);
    await c.closed;
    assert.match(c.text(), /^HTTP\/1\.1 200 /);
    assert.match(c.text(), /abc$/, 'the response was cut, not completed');
    const lines = await logLinesStartingWith(logFile, '/stall-body ', 1);
    assert.match(lines[0], / SI$/);
  });

  it('a route\'s idle_timeout overrides it: 504 "stream timeout" with SI while the upstream is silent', async () => {
    const before = seen('/short/hold');
    const pending = request(port(), '/short/hold');
    await waitFor(() => seen('/short/hold') > before, 'the request upstream');
    clock.advance(1999);
    assert.equal(counter('http.in.downstream_rq_idle_timeout'), 1, 'not yet');
    clock.advance(1);
    const res = await pending;
    assert.equal(res.status, 504, 'the whole request had arrived');
    assert.equal(res.body, 'stream timeout');
    assert.equal(counter('http.in.downstream_rq_idle_timeout'), 2);
    const lines = await logLinesStartingWith(logFile, '/short/hold ', 1);
    assert.equal(lines[0], '/short/hold 504 SI');
  });

  it('a gRPC request gets DEADLINE_EXCEEDED as a trailers-only reply', async () => {
    const before = seen('/short/hold-grpc');
    const pending = request(port(), '/short/hold-grpc', {
      method: 'POST',
      headers: { 'content-type': 'application/grpc' },
      body: '',
    });
    await waitFor(() => seen('/short/hold-grpc') > before, 'the request upstream');
    clock.advance(2000);
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(res.headers['grpc-status'], '4');
    assert.equal(res.headers['grpc-message'], 'stream timeout');
  });

  it('an HTTP/2 stream has its own idle timeout: a gRPC call gets a trailers-only DEADLINE_EXCEEDED', async () => {
    const session = h2Session(port());
    try {
      const before = seen('/short/hold-h2');
      const pending = h2Request(session, {
        ':method': 'POST',
        ':path': '/short/hold-h2',
        'content-type': 'application/grpc',
      });
      await waitFor(() => seen('/short/hold-h2') > before, 'the request upstream');
      const idle = counter('http.in.downstream_rq_idle_timeout');
      clock.advance(1999);
      assert.equal(counter('http.in.downstream_rq_idle_timeout'), idle, 'not yet');
      clock.advance(1);
      const res = await pending;
      assert.equal(res.headers[':status'], 200);
      assert.equal(res.headers['grpc-status'], '4');
      assert.equal(res.endStreamOnHead, true);
      assert.equal(counter('http.in.downstream_rq_idle_timeout'), idle + 1);
    } finally {
      session.close();
    }
  });

  it('request bytes are activity: a slow upload is ended only after a silence as long as the timeout', async () => {
    const rx = () => counter('http.in.downstream_cx_rx_bytes_total');
    const start = rx();
    const idleBefore = counter('http.in.downstream_rq_idle_timeout');
    const c = await rawClient(port(), 'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc');
    await waitFor(() => rx() > start, 'the head and the first bytes at the proxy');
    clock.advance(6000);
    const mid = rx();
    c.write('de');
    await waitFor(() => rx() > mid, 'more body bytes at the proxy');
    clock.advance(6000);
    assert.equal(
      counter('http.in.downstream_rq_idle_timeout'),
      idleBefore,
      '12 s since the start, but only 6 s of silence',
    );
    clock.advance(4000);
    assert.equal(counter('http.in.downstream_rq_idle_timeout'), idleBefore + 1);
    await c.closed;
    assert.match(c.text(), /^HTTP\/1\.1 408 /, 'the client was still sending the request');
    assert.match(c.text(), /stream timeout$/);
  });

  it("a route's idle_timeout of 0 turns the stream idle timeout off for that route", async () => {
    const before = seen('/off/hold');
    const pending = request(port(), '/off/hold');
    await waitFor(() => seen('/off/hold') > before, 'the request upstream');
    const idle = counter('http.in.downstream_rq_idle_timeout');
    clock.advance(20_000);
    assert.equal(counter('http.in.downstream_rq_idle_timeout'), idle);
    const res = held.pop()!;
    res.writeHead(200, { 'content-length': '4' });
    res.end('late');
    assert.equal((await pending).body, 'late');
  });

  it("the HCM's max_stream_duration ends a stream after it (504 DT); a route's explicit 0 turns it off", async () => {
    const before = seen('/hold') + seen('/own/hold');
    const limited = request(port('dur'), '/hold');
    const own = request(port('dur'), '/own/hold');
    await waitFor(() => seen('/hold') + seen('/own/hold') === before + 2, 'both requests upstream');
    clock.advance(4999);
    assert.equal(counter('http.dur.downstream_rq_max_duration_reached'), 0);
    clock.advance(1);
    const res = await limited;
    assert.equal(res.status, 504);
    assert.equal(res.body, 'downstream duration timeout');
    assert.equal(counter('http.dur.downstream_rq_max_duration_reached'), 1);
    const lines = await logLinesStartingWith(logFile, '/hold ', 1);
    assert.equal(lines[0], '/hold 504 DT');
    // The route that set max_stream_duration: 0s is still waiting: answer it.
    const ownRes = held.find((r) => !r.headersSent && !r.destroyed && r.req.url === '/own/hold')!;
    ownRes.writeHead(200, { 'content-length': '2' });
    ownRes.end('ok');
    assert.equal((await own).status, 200);
  });

  it("a route's max_stream_duration replaces the HCM's: the same 504 DT, sooner", async () => {
    const before = seen('/brief/hold');
    const reached = counter('http.dur.downstream_rq_max_duration_reached');
    const pending = request(port('dur'), '/brief/hold');
    await waitFor(() => seen('/brief/hold') === before + 1, 'the request upstream');
    clock.advance(1999);
    assert.equal(counter('http.dur.downstream_rq_max_duration_reached'), reached);
    clock.advance(1);
    const res = await pending;
    assert.equal(res.status, 504);
    assert.equal(res.body, 'downstream duration timeout');
    assert.equal(counter('http.dur.downstream_rq_max_duration_reached'), reached + 1);
    const lines = await logLinesStartingWith(logFile, '/brief/hold ', 1);
    assert.equal(lines[0], '/brief/hold 504 DT');
  });
});

describe('retry_policy per_try_idle_timeout (manual clock)', () => {
  const clock = createManualClock();
  const held: ServerResponse[] = [];
  let a: Backend;
  let b: Backend;
  let proxy: ProxyServer;
  const logFile = join(tempDir(), 'access.log');
  /** The next /retry request, on whichever backend gets it, stalls without a byte. */
  let stallNext = false;
  let stalledOn = '';

  before(async () => {
    const handler = (name: string) => {
      const base = stallingHandler(name, held);
      return (req: { url?: string }, res: ServerResponse): void => {
        if (req.url === '/retry' && stallNext) {
          stallNext = false;
          stalledOn = name;
          held.push(res);
          return;
        }
        base(req, res);
      };
    };
    a = await startBackend('a', handler('a'));
    b = await startBackend('b', handler('b'));
    const policy = (numRetries: number) => ({
      retry_on: 'reset',
      num_retries: numRetries,
      per_try_idle_timeout: '1s',
      retry_host_predicate: PREVIOUS_HOSTS,
    });
    const config = bootstrap(
      [
        httpListener(
          'in',
          [
            {
              name: 'v',
              domains: ['*'],
              routes: [
                {
                  match: { prefix: '/retry' },
                  route: { cluster: 'pair', timeout: '0s', retry_policy: policy(1) },
                },
                { match: { prefix: '/' }, route: { cluster: 'one', timeout: '0s', retry_policy: policy(0) } },
              ],
            },
          ],
          { access_log: pathCodeFlagsLog(logFile) },
        ),
      ],
      [staticCluster('pair', [a.port, b.port]), staticCluster('one', [a.port])],
    );
    proxy = await startProxyOnClock(config, clock);
  });
  after(async () => {
    for (const r of held) r.destroy();
    await proxy.shutdown();
    await a.close();
    await b.close();
  });

  const port = () => proxy.listeners.get('in')!.address.port;
  const counter = (name: string) => proxy.stats.counter(name).value;

  it('abandons an attempt that gets no response bytes and retries it on another host', async () => {
    stallNext = true;
    const pending = request(port(), '/retry');
    await waitFor(() => stalledOn !== '', 'the first attempt');
    clock.advance(999);
    assert.equal(counter('cluster.pair.upstream_rq_per_try_idle_timeout'), 0, 'not yet');
    clock.advance(1); // the idle timeout, then the (zero) back-off
    const res = await pending;
    assert.equal(res.status, 200);
    assert.notEqual(res.headers['x-backend'], stalledOn, 'the retry went to the other host');
    assert.equal(counter('cluster.pair.upstream_rq_per_try_idle_timeout'), 1);
    assert.equal(counter('cluster.pair.upstream_rq_retry'), 1);
  });

  it('answers 504 UT when no retry is left', async () => {
    const before = a.seen.filter((s) => s.url === '/hold').length;
    const pending = request(port(), '/hold');
    await waitFor(() => a.seen.filter((s) => s.url === '/hold').length > before, 'the attempt');
    clock.advance(1000);
    const res = await pending;
    assert.equal(res.status, 504);
    assert.equal(res.body, 'upstream request timeout');
    assert.equal(counter('cluster.one.upstream_rq_per_try_idle_timeout'), 1);
    const lines = await logLinesStartingWith(logFile, '/hold ', 1);
    assert.match(lines[0], /^\/hold 504 UT/);
  });

  it('keeps watching a response as it streams: each byte restarts it, a stall resets the stream', async () => {
    const c = await rawClient(port(), 'GET /trickle HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.waitForText(/\r\n\r\na$/, 'the head and a first byte');
    clock.advance(800);
    const res = held[held.length - 1];
    res.write('b');
    await c.waitForText(/ab$/, 'a second byte');
    clock.advance(800);
    assert.equal(counter('cluster.one.upstream_rq_per_try_idle_timeout'), 1, '1.6 s in, 0.8 s idle');
    clock.advance(200);
    assert.equal(counter('cluster.one.upstream_rq_per_try_idle_timeout'), 2);
    await c.closed;
    assert.match(c.text(), /ab$/, 'cut short: the response had started, so the stream is reset');
  });
});

describe('timer cost of the stream timeouts', () => {
  const manual = createManualClock();
  let created = 0;
  /** The manual clock, counting the timers the proxy asks for. */
  const clock: Clock = {
    now: () => manual.now(),
    monotonic: () => manual.monotonic(),
    setTimer(ms, fn) {
      created++;
      return manual.setTimer(ms, fn);
    },
  };
  let backend: Backend;
  let proxy: ProxyServer;

  before(async () => {
    backend = await startBackend('app');
    const routes = [{ match: { prefix: '/' }, route: { cluster: 'app' } }];
    const config = bootstrap(
      [httpListener('in', [{ name: 'v', domains: ['*'], routes }], { stream_idle_timeout: '10s' })],
      [staticCluster('app', [backend.port])],
    );
    proxy = await startProxyOnClock(config, clock);
  });
  after(async () => {
    await proxy.shutdown();
    await backend.close();
  });

  it('keep-alive requests with a route timeout and a stream idle timeout start no timer of their own', async () => {
    const port = proxy.listeners.get('in')!.address.port;
    const c = await rawClient(port, 'GET /0 HTTP/1.1\r\nHost: x\r\n\r\n');
    let answered = 1;
    const responses = () => (c.text().match(/HTTP\/1\.1 200 /g) ?? []).length;
    await waitFor(() => responses() === answered, 'the first response');
    const before = created;
    for (let i = 1; i <= 20; i++) {
      c.write(`GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
      answered++;
      await waitFor(() => responses() === answered, `response ${i}`);
    }
    assert.equal(created - before, 0, 'the connection timers armed by the first request serve the rest');
    c.destroy();
  });
});
