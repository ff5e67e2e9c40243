// Route retry_policy end to end: real proxy, real backends on port 0. A flaky upstream is
// retried and the client sees success; exhausted retries answer the last upstream response
// with URX; connect failures move to another host; bodies past the buffer limit are not
// retried; per_try_timeout is driven by a manual clock (no sleeping).
// Back-off jitter uses an injected random() of 0, so retries go out at once.

import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ProxyServer } from '../src/proxy/proxy-server.js';
import { createManualClock } from '../src/proxy/upstream/testing/manual-clock.js';
import {
  type Backend,
  bootstrap,
  fileAccessLog,
  httpListener,
  logLinesStartingWith,
  type RunningProxy,
  request,
  SOCKET_PATHS,
  startBackend,
  startProxy,
  startProxyOnClock,
  staticCluster,
  tempDir,
  waitFor,
} from './support/harness.js';

/** A port nothing listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function route(prefix: string, cluster: string, retryPolicy?: unknown, extra: Record<string, unknown> = {}) {
  return {
    match: { prefix },
    route: retryPolicy === undefined ? { cluster } : { cluster, retry_policy: retryPolicy },
    ...extra,
  };
}

for (const sockets of SOCKET_PATHS) {
  describe(`retries (${sockets} sockets)`, () => {
    let flaky: Backend;
    let live: Backend;
    let proxy: RunningProxy;
    let logFile: string;
    /** Per path: how many requests still fail before the backend answers 200. */
    const failuresLeft = new Map<string, number>();

    before(async () => {
      flaky = await startBackend('flaky', (req, res, body) => {
        const path = (req.url ?? '').split('?')[0];
        const statusFor: Record<string, number> = { '/codes': 418, '/not-listed': 500, '/ratelimited': 429 };
        const left = failuresLeft.get(path) ?? Number.POSITIVE_INFINITY;
        if (left > 0) {
          failuresLeft.set(path, left - 1);
          if (path === '/reset') {
            req.socket.destroy();
            return;
          }
          if (path === '/ratelimited') res.setHeader('x-envoy-ratelimited', 'true');
          res.writeHead(statusFor[path] ?? 503, { 'content-type': 'text/plain' });
          res.end(`fail ${req.headers['x-envoy-attempt-count']}\n`);
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`ok ${req.headers['x-envoy-attempt-count']} ${body}\n`);
      });
      live = await startBackend('live');
      const dead = await deadPort();
      logFile = join(tempDir(), 'access.log');
      const vhost = {
        name: 'v',
        domains: ['*'],
        // The virtual host's policy applies to routes without their own.
        retry_policy: { retry_on: 'gateway-error', num_retries: 1 },
        routes: [
          route('/flaky', 'flaky', { retry_on: '5xx', num_retries: 3 }),
          route('/exhausted', 'flaky', { retry_on: '5xx', num_retries: 2 }),
          route('/codes', 'flaky', { retry_on: 'retriable-status-codes', retriable_status_codes: [418] }),
          route('/not-listed', 'flaky', {
            retry_on: 'retriable-status-codes',
            retriable_status_codes: [418],
          }),
          route('/big', 'flaky', { retry_on: '5xx', num_retries: 1 }, { per_request_buffer_limit_bytes: 10 }),
          route('/vhost', 'flaky'),
          route('/ratelimited', 'flaky', { retry_on: 'envoy-ratelimited' }),
          route('/reset', 'flaky', { retry_on: 'reset-before-request' }),
          route('/before-request', 'two', { retry_on: 'reset-before-request', num_retries: 2 }),
          route('/idempotent', 'flaky', {
            retry_on: '5xx',
            retriable_request_headers: [{ name: ':method', string_match: { exact: 'GET' } }],
          }),
          route('/hosts', 'two', {
            retry_on: 'connect-failure',
            num_retries: 2,
            retry_host_predicate: [{ name: 'envoy.retry_host_predicates.previous_hosts' }],
            host_selection_retry_max_attempts: 3,
          }),
        ],
      };
      proxy = await startProxy(
        bootstrap(
          [
            httpListener('in', [vhost], {
              access_log: fileAccessLog(
                logFile,
                '%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_REQUEST_ATTEMPT_COUNT%\n',
              ),
            }),
          ],
          [staticCluster('flaky', [flaky.port]), staticCluster('two', [dead, live.port])],
        ),
        { random: () => 0, sockets },
      );
    });
    after(async () => {
      await proxy.close();
      await flaky.close();
      await live.close();
    });

    const counter = (name: string) => proxy.proxy.stats.counter(`cluster.${name}`).value;

    it('retries a 503 until the backend succeeds, replaying the body, with x-envoy-attempt-count', async () => {
      failuresLeft.set('/flaky', 2);
      const before = flaky.seen.length;
      const retried = counter('flaky.upstream_rq_retry');
      const res = await request(proxy.port('in'), '/flaky', { method: 'POST', body: 'hello' });
      assert.equal(res.status, 200);
      assert.equal(res.body, 'ok 3 hello\n');
      const seen = flaky.seen.slice(before);
      assert.deepEqual(
        seen.map((s) => s.headers['x-envoy-attempt-count']),
        ['1', '2', '3'],
      );
      assert.deepEqual(
        seen.map((s) => s.body),
        ['hello', 'hello', 'hello'],
      );
      assert.equal(counter('flaky.upstream_rq_retry') - retried, 2);
      assert.equal(counter('flaky.upstream_rq_retry_success'), 1);
      assert.equal(counter('flaky.upstream_rq_503'), 2);
      assert.deepEqual(await logLinesStartingWith(logFile, '/flaky ', 1), ['/flaky 200 - 3']);
    });

    it('answers the last upstream response with URX when retries are used up', async () => {
      failuresLeft.set('/exhausted', 100);
      const before = flaky.seen.length;
      const res = await request(proxy.port('in'), '/exhausted');
      assert.equal(res.status, 503);
      assert.equal(res.body, 'fail 3\n', 'the upstream body of the last attempt');
      assert.equal(flaky.seen.length - before, 3);
      assert.equal(counter('flaky.upstream_rq_retry_limit_exceeded'), 1);
      assert.deepEqual(await logLinesStartingWith(logFile, '/exhausted ', 1), ['/exhausted 503 URX 3']);
    });

    it('retries retriable_status_codes only', async () => {
      failuresLeft.set('/codes', 1);
      const res = await request(proxy.port('in'), '/codes');
      assert.equal(res.status, 200);
      assert.equal(res.body, 'ok 2 \n');

      failuresLeft.set('/not-listed', 1);
      const before = flaky.seen.length;
      const res2 = await request(proxy.port('in'), '/not-listed');
      assert.equal(res2.status, 500, 'a 500 is not in retriable_status_codes');
      assert.equal(flaky.seen.length - before, 1);
    });

    it('does not retry a request whose body passed per_request_buffer_limit_bytes', async () => {
      failuresLeft.set('/big', 1);
      let before = flaky.seen.length;
      const small = await request(proxy.port('in'), '/big', { method: 'POST', body: '0123456789' });
      assert.equal(small.status, 200, 'a 10-byte body fits the limit and is replayed');
      assert.equal(flaky.seen.length - before, 2);

      failuresLeft.set('/big', 1);
      before = flaky.seen.length;
      const big = await request(proxy.port('in'), '/big', { method: 'POST', body: 'x'.repeat(11) });
      assert.equal(big.status, 503, 'an 11-byte body is not kept, so not retried');
      assert.equal(flaky.seen.length - before, 1);
    });

    it("uses the virtual host's retry_policy for a route without one", async () => {
      failuresLeft.set('/vhost', 1);
      const res = await request(proxy.port('in'), '/vhost');
      assert.equal(res.status, 200);
      assert.equal(res.body, 'ok 2 \n');
    });

    it('retries a connect failure on another host (previous_hosts)', async () => {
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await request(proxy.port('in'), '/hosts'));
      assert.deepEqual(
        results.map((r) => r.status),
        [200, 200, 200, 200],
      );
      assert.ok(counter('two.upstream_cx_connect_fail') >= 1, 'the dead host was tried');
      assert.equal(counter('two.upstream_rq_retry'), counter('two.upstream_cx_connect_fail'));
      assert.equal(live.seen.length, 4);
    });

    it('envoy-ratelimited retries a response carrying x-envoy-ratelimited', async () => {
      failuresLeft.set('/ratelimited', 1);
      const res = await request(proxy.port('in'), '/ratelimited');
      assert.equal(res.status, 200);
      assert.deepEqual(await logLinesStartingWith(logFile, '/ratelimited ', 1), ['/ratelimited 200 - 2']);
    });

    it('reset-before-request retries a request that never left, not one the upstream reset', async () => {
      // Every connection is reset, so Weft's retry of a stale keep-alive connection cannot hide it.
      failuresLeft.set('/reset', 10);
      const reset = await request(proxy.port('in'), '/reset');
      assert.equal(reset.status, 502, 'the request was sent before the reset: not retried');
      assert.deepEqual(await logLinesStartingWith(logFile, '/reset ', 1), ['/reset 502 UC 1']);
      const failsBefore = counter('two.upstream_cx_connect_fail');
      const retriesBefore = counter('two.upstream_rq_retry');
      for (let i = 0; i < 2; i++)
        assert.equal((await request(proxy.port('in'), '/before-request')).status, 200);
      const fails = counter('two.upstream_cx_connect_fail') - failsBefore;
      assert.ok(fails >= 1, 'the dead host was tried');
      assert.equal(
        counter('two.upstream_rq_retry') - retriesBefore,
        fails,
        'every connect failure was retried',
      );
    });

    it('retriable_request_headers: only matching requests are retried', async () => {
      failuresLeft.set('/idempotent', 1);
      assert.equal((await request(proxy.port('in'), '/idempotent')).status, 200, 'GET matches');
      failuresLeft.set('/idempotent', 1);
      const post = await request(proxy.port('in'), '/idempotent', { method: 'POST', body: 'x' });
      assert.equal(post.status, 503, 'POST does not');
    });
  });
}

describe('per_try_timeout (manual clock)', () => {
  const clock = createManualClock();
  let backend: Backend;
  let proxy: ProxyServer;
  const held: ServerResponse[] = [];
  /** Per path: requests the backend leaves unanswered before it answers. */
  const hang = new Map<string, number>();
  /** Per path: requests answered 429 with `retry-after: 3` before it answers. */
  const rateLimited = new Map<string, number>();

  before(async () => {
    backend = await startBackend('slow', (req, res) => {
      const path = req.url ?? '';
      const left = hang.get(path) ?? 0;
      if (left > 0) {
        hang.set(path, left - 1);
        held.push(res);
        return;
      }
      const limited = rateLimited.get(path) ?? 0;
      if (limited > 0) {
        rateLimited.set(path, limited - 1);
        res.writeHead(429, { 'retry-after': '3' }).end('slow down\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`ok ${req.headers['x-envoy-attempt-count']}\n`);
    });
    const config = bootstrap(
      [
        httpListener('in', [
          {
            name: 'v',
            domains: ['*'],
            routes: [
              route('/retry', 'slow', { retry_on: 'reset', num_retries: 1, per_try_timeout: '1s' }),
              route('/once', 'slow', { retry_on: 'reset', num_retries: 0, per_try_timeout: '1s' }),
              route('/limited', 'slow', {
                retry_on: 'retriable-status-codes',
                retriable_status_codes: [429],
                rate_limited_retry_back_off: { reset_headers: [{ name: 'Retry-After', format: 'SECONDS' }] },
              }),
            ],
          },
        ]),
      ],
      [staticCluster('slow', [backend.port])],
    );
    proxy = await startProxyOnClock(config, clock);
  });
  after(async () => {
    for (const r of held) r.destroy();
    await proxy.shutdown();
    await backend.close();
  });

  const port = () => proxy.listeners.get('in')!.address.port;
  const counter = (name: string) => proxy.stats.counter(`cluster.slow.${name}`).value;

  it('retries an attempt that passed per_try_timeout', async () => {
    hang.set('/retry', 1);
    const before = backend.seen.length;
    const pending = request(port(), '/retry');
    await waitFor(() => backend.seen.length - before === 1, 'the first attempt');
    clock.advance(999);
    assert.equal(counter('upstream_rq_per_try_timeout'), 0, 'not yet');
    clock.advance(1); // the per-try timeout, then the (zero) back-off
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(res.body, 'ok 2\n');
    assert.equal(counter('upstream_rq_per_try_timeout'), 1);
    assert.equal(counter('upstream_rq_retry'), 1);
  });

  it('answers 504 when the per-try timeout passes and no retry is left', async () => {
    hang.set('/once', 1);
    const before = backend.seen.length;
    const pending = request(port(), '/once');
    await waitFor(() => backend.seen.length - before === 1, 'the attempt');
    clock.advance(1000);
    const res = await pending;
    assert.equal(res.status, 504);
    assert.equal(counter('upstream_rq_per_try_timeout'), 2);
    assert.equal(counter('upstream_rq_retry_limit_exceeded'), 1);
  });

  it('rate_limited_retry_back_off: a 429 with retry-after: 3 is retried 3 s later, not at once', async () => {
    rateLimited.set('/limited', 1);
    const before = backend.seen.length;
    const pending = request(port(), '/limited');
    await waitFor(() => backend.seen.length - before === 1, 'the first attempt');
    clock.advance(2999);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(backend.seen.length - before, 1, 'the exponential back-off (0 here) is not used');
    clock.advance(1);
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(res.body, 'ok 2\n');
  });
});
