// Cluster circuit breakers and the retry budget end to end: a saturated cluster sheds load
// with 503 UO instead of queuing forever, the pool never opens more than max_connections,
// and retries in flight stay within the budget (URX on the rest). Backends hold responses
// until the test releases them, so every count is exact; nothing is timed.

import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  bootstrap,
  httpListener,
  logLinesStartingWith,
  pathCodeFlagsLog,
  type RunningProxy,
  request,
  type SimpleResponse,
  startBackend,
  startProxy,
  staticCluster,
  tempDir,
  waitFor,
} from './support/harness.js';

/** A backend that holds every response until release() (answering `status`). */
async function holdingBackend(name: string) {
  const held: Array<{ req: IncomingMessage; res: ServerResponse }> = [];
  const backend = await startBackend(name, (req, res) => held.push({ req, res }));
  return {
    backend,
    held,
    release(status = 200, filter: (req: IncomingMessage) => boolean = () => true): number {
      let n = 0;
      for (let i = held.length - 1; i >= 0; i--) {
        const { req, res } = held[i];
        if (!filter(req)) continue;
        held.splice(i, 1);
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(`${name} ${status}\n`);
        n++;
      }
      return n;
    },
  };
}

async function statsText(proxy: RunningProxy, filter: string): Promise<string> {
  const url = new URL(proxy.adminUrl(`/stats?filter=${encodeURIComponent(filter)}`));
  return (await request(Number(url.port), `${url.pathname}${url.search}`)).body;
}

function statLine(text: string, name: string): number {
  const m = new RegExp(`^${name.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec(text);
  assert.ok(m !== null, `stat ${name} in /stats`);
  return Number(m[1]);
}

describe('circuit breakers', () => {
  let proxy: RunningProxy;
  let logFile: string;
  let limited: Awaited<ReturnType<typeof holdingBackend>>;
  let single: Awaited<ReturnType<typeof holdingBackend>>;
  let failing: Awaited<ReturnType<typeof holdingBackend>>;

  before(async () => {
    limited = await holdingBackend('limited');
    single = await holdingBackend('single');
    failing = await holdingBackend('failing');
    logFile = join(tempDir(), 'access.log');
    const routes = [
      { match: { prefix: '/limited' }, route: { cluster: 'limited' } },
      { match: { prefix: '/single' }, route: { cluster: 'single' } },
      {
        match: { prefix: '/budget' },
        route: { cluster: 'failing', retry_policy: { retry_on: '5xx', num_retries: 1 } },
      },
    ];
    proxy = await startProxy(
      bootstrap(
        [
          httpListener('in', [{ name: 'v', domains: ['*'], routes }], {
            access_log: pathCodeFlagsLog(logFile),
          }),
        ],
        [
          staticCluster('limited', [limited.backend.port], {
            circuit_breakers: { thresholds: [{ priority: 'DEFAULT', max_requests: 2 }] },
          }),
          staticCluster('single', [single.backend.port], {
            circuit_breakers: { thresholds: [{ max_connections: 1, max_pending_requests: 1 }] },
          }),
          staticCluster('failing', [failing.backend.port], {
            circuit_breakers: {
              thresholds: [{ retry_budget: { budget_percent: { value: 20 }, min_retry_concurrency: 3 } }],
            },
          }),
        ],
      ),
      { random: () => 0 },
    );
  });
  after(async () => {
    limited.release();
    single.release();
    failing.release();
    await proxy.close();
    await limited.backend.close();
    await single.backend.close();
    await failing.backend.close();
  });

  const counter = (name: string) => proxy.proxy.stats.counter(`cluster.${name}`).value;

  it('max_requests: the third concurrent request gets 503 UO; gauges show the open breaker', async () => {
    const port = proxy.port('in');
    const first = [request(port, '/limited/1'), request(port, '/limited/2')];
    await waitFor(() => limited.held.length === 2, 'two requests at the backend');
    const third = await request(port, '/limited/3');
    assert.equal(third.status, 503);
    assert.equal(
      third.body,
      'upstream connect error or disconnect/reset before headers. reset reason: overflow',
    );
    assert.deepEqual(await logLinesStartingWith(logFile, '/limited/3 ', 1), ['/limited/3 503 UO']);
    assert.equal(counter('limited.upstream_rq_pending_overflow'), 1);
    let text = await statsText(proxy, '^cluster\\.limited\\.circuit_breakers');
    assert.equal(statLine(text, 'cluster.limited.circuit_breakers.default.rq_open'), 1);
    assert.equal(statLine(text, 'cluster.limited.circuit_breakers.default.remaining_rq'), 0);
    assert.equal(statLine(text, 'cluster.limited.circuit_breakers.default.cx_open'), 0);
    assert.equal(statLine(text, 'cluster.limited.circuit_breakers.default.remaining_cx'), 1022);

    assert.equal(limited.release(), 2);
    const done = await Promise.all(first);
    assert.deepEqual(
      done.map((r) => r.status),
      [200, 200],
    );
    text = await statsText(proxy, '^cluster\\.limited\\.circuit_breakers');
    assert.equal(statLine(text, 'cluster.limited.circuit_breakers.default.rq_open'), 0);

    const url = new URL(proxy.adminUrl('/clusters'));
    const clusters = (await request(Number(url.port), url.pathname)).body;
    assert.match(clusters, /^limited::default_priority::max_requests::2$/m);
    assert.match(clusters, /^limited::default_priority::retry_budget_percent::20$/m, "Weft's default budget");
    assert.equal(statLine(text, 'cluster.limited.circuit_breakers.default.remaining_rq'), 2);
  });

  it('max_connections 1 + max_pending_requests 1: one connection, one waiter, the rest 503 UO', async () => {
    const port = proxy.port('in');
    const first = request(port, '/single/1');
    await waitFor(() => single.held.length === 1, 'the first request at the backend');
    const second = request(port, '/single/2');
    await waitFor(() => counter('single.upstream_cx_overflow') === 1, 'the second request to wait');
    const third = await request(port, '/single/3');
    assert.equal(third.status, 503);
    assert.deepEqual(await logLinesStartingWith(logFile, '/single/3 ', 1), ['/single/3 503 UO']);
    assert.equal(counter('single.upstream_rq_pending_overflow'), 1);
    const text = await statsText(proxy, '^cluster\\.single\\.circuit_breakers');
    assert.equal(statLine(text, 'cluster.single.circuit_breakers.default.cx_open'), 1);
    assert.equal(statLine(text, 'cluster.single.circuit_breakers.default.remaining_cx'), 0);
    assert.equal(statLine(text, 'cluster.single.circuit_breakers.default.rq_pending_open'), 1);
    assert.equal(statLine(text, 'cluster.single.circuit_breakers.default.remaining_pending'), 0);
    assert.equal(single.held.length, 1, 'the waiter did not get a second connection');

    single.release();
    await waitFor(() => single.held.length === 1, 'the waiter on the reused connection');
    single.release();
    assert.deepEqual(
      (await Promise.all([first, second])).map((r: SimpleResponse) => r.status),
      [200, 200],
    );
    assert.equal(counter('single.upstream_cx_total'), 1, 'never more than max_connections');
  });

  it('retry budget 20% / min 3: ten failing requests make at most three retries, URX on the rest', async () => {
    const port = proxy.port('in');
    const all: Promise<SimpleResponse>[] = [];
    for (let i = 0; i < 10; i++) all.push(request(port, `/budget/${i}`));
    await waitFor(() => failing.held.length === 10, 'ten first attempts at the backend');
    assert.equal(failing.release(503), 10);
    await waitFor(
      () => counter('failing.upstream_rq_retry_overflow') === 7 && failing.held.length === 3,
      'three retries in flight, seven refused',
    );
    assert.equal(counter('failing.upstream_rq_retry'), 3);
    for (const h of failing.held) assert.equal(h.req.headers['x-envoy-attempt-count'], '2');
    const text = await statsText(proxy, '^cluster\\.failing\\.circuit_breakers');
    assert.equal(statLine(text, 'cluster.failing.circuit_breakers.default.rq_retry_open'), 1);
    assert.equal(statLine(text, 'cluster.failing.circuit_breakers.default.remaining_retries'), 0);

    assert.equal(failing.release(200), 3);
    const results = await Promise.all(all);
    assert.equal(results.filter((r) => r.status === 200).length, 3);
    assert.equal(results.filter((r) => r.status === 503).length, 7);
    const lines = await logLinesStartingWith(logFile, '/budget/', 10);
    assert.equal(lines.filter((l) => l.endsWith(' 503 URX')).length, 7);
    assert.equal(lines.filter((l) => l.endsWith(' 200 -')).length, 3);
  });
});
