// A caller's own retry and timeout settings through `weft proxy` and real sockets:
// x-envoy-retry-on, x-envoy-max-retries, x-envoy-upstream-rq-timeout-ms,
// x-envoy-upstream-rq-per-try-timeout-ms, x-envoy-retriable-status-codes,
// x-envoy-retriable-header-names and x-envoy-upstream-rq-timeout-alt-response (Envoy's router
// request headers), an edge listener that ignores them because they come from outside, the
// x-envoy-expected-rq-timeout-ms the router sends upstream, and a router that reads it back
// (respect_expected_rq_timeout).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type Backend,
  bootstrap,
  fileAccessLog,
  httpListener,
  logLinesStartingWith,
  type RunningProxy,
  request,
  startBackend,
  startProxy,
  staticCluster,
  tempDir,
} from './support/harness.js';

describe('router request headers', () => {
  let flaky: Backend;
  let slow: Backend;
  let proxy: RunningProxy;
  let logFile: string;
  /**
   * Per path: how many requests still fail before the backend answers 200. A failure is a
   * 503 (or the path's failStatus) carrying `x-try-again`.
   */
  const failuresLeft = new Map<string, number>();
  const failStatus = new Map<string, number>();

  before(async () => {
    flaky = await startBackend('flaky', (req, res) => {
      const path = (req.url ?? '').split('?')[0];
      const left = failuresLeft.get(path) ?? 0;
      if (left > 0) {
        failuresLeft.set(path, left - 1);
        res.writeHead(failStatus.get(path) ?? 503, { 'x-try-again': '1' }).end('fail\n');
        return;
      }
      res.writeHead(200).end(`ok ${req.headers['x-envoy-attempt-count'] ?? '-'}\n`);
    });
    slow = await startBackend('slow', () => {
      /* never answers */
    });
    logFile = join(tempDir(), 'access.log');
    const routes = [
      { match: { prefix: '/plain' }, route: { cluster: 'flaky' } },
      {
        match: { prefix: '/policy' },
        route: { cluster: 'flaky', retry_policy: { retry_on: 'gateway-error' } },
      },
      {
        match: { prefix: '/slow-retry' },
        route: { cluster: 'slow', retry_policy: { retry_on: '5xx', num_retries: 1 } },
      },
      { match: { prefix: '/slow' }, route: { cluster: 'slow', timeout: '30s' } },
      {
        match: { prefix: '/codes' },
        route: { cluster: 'flaky', retry_policy: { retry_on: 'retriable-status-codes' } },
      },
      {
        match: { prefix: '/headers' },
        route: { cluster: 'flaky', retry_policy: { retry_on: 'retriable-headers' } },
      },
    ];
    const router = (options: Record<string, unknown>) => ({
      http_filters: [
        {
          name: 'envoy.filters.http.router',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
            ...options,
          },
        },
      ],
    });
    const vhosts = [{ name: 'v', domains: ['*'], routes }];
    proxy = await startProxy(
      bootstrap(
        [
          // Callers on loopback, with no x-forwarded-for, are internal here.
          httpListener('in', vhosts, {
            use_remote_address: true,
            access_log: fileAccessLog(
              logFile,
              '%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_REQUEST_ATTEMPT_COUNT%\n',
            ),
          }),
          httpListener('edge', vhosts, { use_remote_address: true }),
          httpListener('quiet', vhosts, {
            use_remote_address: true,
            ...router({ suppress_envoy_headers: true }),
          }),
          httpListener('respect', vhosts, {
            use_remote_address: true,
            ...router({ respect_expected_rq_timeout: true }),
          }),
          // A sidecar-style listener: internal only with one internal x-forwarded-for address.
          httpListener('sidecar', vhosts),
        ],
        [staticCluster('flaky', [flaky.port]), staticCluster('slow', [slow.port])],
      ),
    );
  });

  after(async () => {
    await proxy.close();
    await flaky.close();
    await slow.close();
  });

  it('x-envoy-retry-on turns retries on for a route without a policy: once by default', async () => {
    failuresLeft.set('/plain/a', 1);
    const res = await request(proxy.port('in'), '/plain/a', { headers: { 'x-envoy-retry-on': '5xx' } });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'ok 2\n');
    assert.equal(flaky.seen.at(-1)!.headers['x-envoy-retry-on'], '5xx', 'the retry headers travel on');
  });

  it('x-envoy-max-retries sets how many', async () => {
    failuresLeft.set('/plain/b', 3);
    const res = await request(proxy.port('in'), '/plain/b', {
      headers: { 'x-envoy-retry-on': 'gateway-error, not-a-condition', 'x-envoy-max-retries': '3' },
    });
    assert.equal(res.body, 'ok 4\n');
    assert.deepEqual(await logLinesStartingWith(logFile, '/plain/b ', 1), ['/plain/b 200 - 4']);
  });

  it('x-envoy-max-retries alone, or only unknown conditions, retry nothing', async () => {
    failuresLeft.set('/plain/c', 1);
    assert.equal(
      (await request(proxy.port('in'), '/plain/c', { headers: { 'x-envoy-max-retries': '3' } })).status,
      503,
    );
    failuresLeft.set('/plain/d', 1);
    const res = await request(proxy.port('in'), '/plain/d', { headers: { 'x-envoy-retry-on': 'sometimes' } });
    assert.equal(res.status, 503);
  });

  it("x-envoy-max-retries overrides the route policy's num_retries", async () => {
    failuresLeft.set('/policy/a', 1);
    const none = await request(proxy.port('in'), '/policy/a', { headers: { 'x-envoy-max-retries': '0' } });
    assert.equal(none.status, 503);
    failuresLeft.set('/policy/b', 1);
    assert.equal((await request(proxy.port('in'), '/policy/b')).body, 'ok 2\n', 'the policy retries once');
  });

  it('x-envoy-upstream-rq-timeout-ms replaces the route timeout and is not forwarded', async () => {
    const before = slow.seen.length;
    const res = await request(proxy.port('in'), '/slow/a', {
      headers: { 'x-envoy-upstream-rq-timeout-ms': '150' },
    });
    assert.equal(res.status, 504);
    assert.deepEqual(await logLinesStartingWith(logFile, '/slow/a ', 1), ['/slow/a 504 UT 1']);
    assert.equal(slow.seen.length - before, 1);
    assert.equal(slow.seen.at(-1)!.headers['x-envoy-upstream-rq-timeout-ms'], undefined);
  });

  it('x-envoy-upstream-rq-per-try-timeout-ms times out each attempt, and retries', async () => {
    const before = slow.seen.length;
    const res = await request(proxy.port('in'), '/slow-retry/a', {
      headers: { 'x-envoy-upstream-rq-per-try-timeout-ms': '100' },
    });
    assert.equal(res.status, 504);
    assert.equal(slow.seen.length - before, 2, 'the first try timed out and was retried');
    assert.equal(slow.seen.at(-1)!.headers['x-envoy-upstream-rq-per-try-timeout-ms'], undefined);
  });

  it('a per-try timeout header on a route without retries bounds its one attempt', async () => {
    const before = slow.seen.length;
    const res = await request(proxy.port('in'), '/slow/per-try', {
      headers: { 'x-envoy-upstream-rq-per-try-timeout-ms': '100' },
    });
    assert.equal(res.status, 504);
    assert.equal(slow.seen.length - before, 1);
    assert.deepEqual(await logLinesStartingWith(logFile, '/slow/per-try ', 1), ['/slow/per-try 504 UT 1']);
  });

  it('x-envoy-expected-rq-timeout-ms tells the upstream what the attempt has', async () => {
    await request(proxy.port('in'), '/plain/expected');
    const left = Number(flaky.seen.at(-1)!.headers['x-envoy-expected-rq-timeout-ms']);
    assert.ok(left > 14_000 && left <= 15_000, `what is left of the 15 s default route timeout: ${left}`);
    await request(proxy.port('in'), '/plain/expected', {
      headers: { 'x-envoy-upstream-rq-timeout-ms': '4000', 'x-envoy-expected-rq-timeout-ms': '1' },
    });
    const asked = Number(flaky.seen.at(-1)!.headers['x-envoy-expected-rq-timeout-ms']);
    assert.ok(
      asked > 3000 && asked <= 4000,
      `the request's own timeout, replacing the client's value: ${asked}`,
    );
    await request(proxy.port('in'), '/plain/expected', {
      headers: { 'x-envoy-retry-on': '5xx', 'x-envoy-upstream-rq-per-try-timeout-ms': '700' },
    });
    assert.equal(flaky.seen.at(-1)!.headers['x-envoy-expected-rq-timeout-ms'], '700', 'the per-try timeout');
    await request(proxy.port('quiet'), '/plain/expected');
    assert.equal(
      flaky.seen.at(-1)!.headers['x-envoy-expected-rq-timeout-ms'],
      undefined,
      'suppress_envoy_headers',
    );
  });

  it('x-envoy-retriable-status-codes adds codes to retriable-status-codes', async () => {
    failStatus.set('/codes/a', 418);
    failuresLeft.set('/codes/a', 1);
    assert.equal((await request(proxy.port('in'), '/codes/a')).status, 418, 'not a listed code');
    failStatus.set('/codes/b', 418);
    failuresLeft.set('/codes/b', 1);
    const res = await request(proxy.port('in'), '/codes/b', {
      headers: { 'x-envoy-retriable-status-codes': '409, 418' },
    });
    assert.equal(res.body, 'ok 2\n');
    assert.equal(flaky.seen.at(-1)!.headers['x-envoy-retriable-status-codes'], '409, 418');
    // With x-envoy-retry-on naming the condition, on a route without a policy.
    failStatus.set('/plain/teapot', 418);
    failuresLeft.set('/plain/teapot', 1);
    const asked = await request(proxy.port('in'), '/plain/teapot', {
      headers: { 'x-envoy-retry-on': 'retriable-status-codes', 'x-envoy-retriable-status-codes': '418' },
    });
    assert.equal(asked.body, 'ok 2\n');
    // Without the condition the codes retry nothing.
    failStatus.set('/plain/teapot-alone', 418);
    failuresLeft.set('/plain/teapot-alone', 1);
    const alone = await request(proxy.port('in'), '/plain/teapot-alone', {
      headers: { 'x-envoy-retriable-status-codes': '418' },
    });
    assert.equal(alone.status, 418);
  });

  it('x-envoy-retriable-header-names retries responses carrying those headers', async () => {
    failuresLeft.set('/headers/a', 1);
    assert.equal((await request(proxy.port('in'), '/headers/a')).status, 503, 'no header names: no retry');
    failuresLeft.set('/headers/b', 1);
    const res = await request(proxy.port('in'), '/headers/b', {
      headers: { 'x-envoy-retriable-header-names': 'X-Other, X-Try-Again' },
    });
    assert.equal(res.body, 'ok 2\n');
  });

  it('x-envoy-upstream-rq-timeout-alt-response turns the timeout into an empty 204', async () => {
    const res = await request(proxy.port('in'), '/slow/alt', {
      headers: { 'x-envoy-upstream-rq-timeout-ms': '100', 'x-envoy-upstream-rq-timeout-alt-response': 'yes' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.body, '');
    assert.deepEqual(await logLinesStartingWith(logFile, '/slow/alt ', 1), ['/slow/alt 204 UT 1']);
    assert.equal(slow.seen.at(-1)!.headers['x-envoy-upstream-rq-timeout-alt-response'], undefined);
    const perTry = await request(proxy.port('in'), '/slow/alt-per-try', {
      headers: {
        'x-envoy-upstream-rq-per-try-timeout-ms': '100',
        'x-envoy-upstream-rq-timeout-alt-response': '',
      },
    });
    assert.equal(perTry.status, 204, 'the per-try timeout of the last attempt too');
  });

  it('respect_expected_rq_timeout: the x-envoy-expected-rq-timeout-ms a caller sent is the route timeout', async () => {
    const headers = { 'x-envoy-expected-rq-timeout-ms': '2000' };
    await request(proxy.port('respect'), '/plain/respect', { headers });
    const left = Number(flaky.seen.at(-1)!.headers['x-envoy-expected-rq-timeout-ms']);
    assert.ok(left > 1000 && left <= 2000, `what is left of the 2 s the caller asked for: ${left}`);
    await request(proxy.port('in'), '/plain/respect', { headers });
    const ignored = Number(flaky.seen.at(-1)!.headers['x-envoy-expected-rq-timeout-ms']);
    assert.ok(ignored > 14_000, `without the option the route's 15 s: ${ignored}`);
    const res = await request(proxy.port('respect'), '/slow/respect', {
      headers: { 'x-envoy-expected-rq-timeout-ms': '100' },
    });
    assert.equal(res.status, 504);
    const sent = Number(slow.seen.at(-1)!.headers['x-envoy-expected-rq-timeout-ms']);
    assert.ok(sent > 0 && sent <= 100, `what is left of the 100 ms: ${sent}`);
  });

  it('without use_remote_address: honoured from a caller XFF names as internal, removed from any other', async () => {
    failuresLeft.set('/plain/sidecar-in', 1);
    const inside = await request(proxy.port('sidecar'), '/plain/sidecar-in', {
      headers: { 'x-forwarded-for': '10.0.0.7', 'x-envoy-retry-on': '5xx' },
    });
    assert.equal(inside.body, 'ok 2\n');
    failuresLeft.set('/plain/sidecar-out', 1);
    const outside = await request(proxy.port('sidecar'), '/plain/sidecar-out', {
      headers: { 'x-envoy-retry-on': '5xx', 'x-envoy-upstream-rq-timeout-ms': '1' },
    });
    assert.equal(outside.status, 503, 'no XFF: external, as in Envoy');
    assert.equal(flaky.seen.at(-1)!.headers['x-envoy-retry-on'], undefined);
  });

  it('an edge listener ignores them: they come from outside', async () => {
    failuresLeft.set('/plain/edge', 1);
    const res = await request(proxy.port('edge'), '/plain/edge', {
      headers: {
        'x-forwarded-for': '203.0.113.5',
        'x-envoy-retry-on': '5xx',
        'x-envoy-retriable-status-codes': '503',
        'x-envoy-retriable-header-names': 'x-try-again',
      },
    });
    assert.equal(res.status, 503);
    const seen = flaky.seen.at(-1)!.headers;
    assert.equal(seen['x-envoy-retry-on'], undefined);
    assert.equal(seen['x-envoy-retriable-status-codes'], undefined);
    assert.equal(seen['x-envoy-retriable-header-names'], undefined);
  });
});
