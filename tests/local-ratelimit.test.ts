// The HTTP local rate limit filter (envoy.filters.http.local_ratelimit) end to end: real
// proxy, real backend, real sockets on port 0. Time is a manual clock (the bucket refills
// only when the test advances it); filter_enabled / filter_enforced sampling uses an
// injected random() whose values each test sets.

import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMemoryLogger } from '../src/core/logger.js';
import { ProxyServer } from '../src/proxy/proxy-server.js';
import { createManualClock } from '../src/proxy/upstream/testing/manual-clock.js';
import {
  type Backend,
  bootstrap,
  httpListener,
  logLinesStartingWith,
  ROUTER_FILTER,
  request,
  startBackend,
  staticCluster,
  tempDir,
} from './support/harness.js';

const RL_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
const FILTER_CONFIG = 'type.googleapis.com/envoy.config.route.v3.FilterConfig';
const FILE_LOG = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
const ALL = { default_value: { numerator: 100 } };

function limit(statPrefix: string, maxTokens: number, extra: Record<string, unknown> = {}) {
  return {
    '@type': RL_TYPE,
    stat_prefix: statPrefix,
    token_bucket: { max_tokens: maxTokens, tokens_per_fill: maxTokens, fill_interval: '10s' },
    filter_enabled: ALL,
    filter_enforced: ALL,
    ...extra,
  };
}

function rlListener(name: string, filter: Record<string, unknown>, routes: unknown[], logFile: string) {
  return httpListener(name, [{ name: 'v', domains: ['*'], routes }], {
    http_filters: [{ name: 'envoy.filters.http.local_ratelimit', typed_config: filter }, ROUTER_FILTER],
    access_log: [
      {
        name: 'log',
        typed_config: {
          '@type': FILE_LOG,
          path: logFile,
          log_format: { text_format: '%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS%\n' },
        },
      },
    ],
  });
}

describe('local rate limit filter', () => {
  const clock = createManualClock();
  /** The values random() returns next, in order; 0.99 once they run out. */
  const randoms: number[] = [];
  let a: Backend;
  let proxy: ProxyServer;
  let logDir: string;

  before(async () => {
    a = await startBackend('a');
    logDir = tempDir();
    const log = (n: string) => join(logDir, `${n}.log`);
    const listeners = [
      rlListener(
        'edge',
        limit('edge', 3, {
          enable_x_ratelimit_headers: 'DRAFT_VERSION_03',
          response_headers_to_add: [{ header: { key: 'x-limited-by', value: 'weft' } }],
        }),
        [
          {
            match: { prefix: '/own' },
            route: { cluster: 'a' },
            typed_per_filter_config: {
              'envoy.filters.http.local_ratelimit': limit('own', 1, { status: { code: 503 } }),
            },
          },
          {
            match: { prefix: '/free' },
            route: { cluster: 'a' },
            typed_per_filter_config: {
              'envoy.filters.http.local_ratelimit': { '@type': FILTER_CONFIG, disabled: true },
            },
          },
          { match: { prefix: '/' }, route: { cluster: 'a' } },
        ],
        log('edge'),
      ),
      rlListener(
        'sampled',
        limit('sampled', 1, {
          filter_enabled: { default_value: { numerator: 50 } },
          filter_enforced: { default_value: { numerator: 50 } },
          request_headers_to_add_when_not_enforced: [{ header: { key: 'x-would-limit', value: 'yes' } }],
        }),
        [{ match: { prefix: '/' }, route: { cluster: 'a' } }],
        log('sampled'),
      ),
      rlListener(
        'perconn',
        limit('perconn', 1, { local_rate_limit_per_downstream_connection: true }),
        [{ match: { prefix: '/' }, route: { cluster: 'a' } }],
        log('perconn'),
      ),
    ];
    proxy = await ProxyServer.start(
      { bootstrap: bootstrap(listeners, [staticCluster('a', [a.port])]), drainTimeMs: 100 },
      { clock, logger: createMemoryLogger(), random: () => randoms.shift() ?? 0.99, hostname: 'test-host' },
    );
  });
  after(async () => {
    clock.advance(60_000);
    await proxy.shutdown();
    await a.close();
  });

  const port = (listener: string) => proxy.listeners.get(listener)!.address.port;
  const stat = (prefix: string, name: string) =>
    proxy.stats.counter(`${prefix}.http_local_rate_limit.${name}`).value;
  const logLines = (listener: string, n: number): Promise<string[]> =>
    logLinesStartingWith(join(logDir, `${listener}.log`), '', n);

  it('holds its rate: max_tokens pass, the next gets 429 RL, the bucket refills after fill_interval', async () => {
    randoms.length = 0;
    const seen = a.seen.length;
    const passed = [];
    for (let i = 0; i < 3; i++) passed.push(await request(port('edge'), `/p${i}`));
    assert.deepEqual(
      passed.map((r) => r.status),
      [200, 200, 200],
    );
    assert.deepEqual(
      passed.map((r) => r.headers['x-ratelimit-remaining']),
      ['2', '1', '0'],
    );
    assert.equal(passed[0].headers['x-ratelimit-limit'], '3');
    assert.equal(passed[0].headers['x-ratelimit-reset'], '10');
    assert.equal(
      passed[0].headers['x-limited-by'],
      undefined,
      'response_headers_to_add only on limited responses',
    );

    clock.advance(9_000);
    const limited = await request(port('edge'), '/over');
    assert.equal(limited.status, 429);
    assert.equal(limited.body, 'local_rate_limited');
    assert.equal(limited.headers['x-envoy-ratelimited'], 'true');
    assert.equal(limited.headers['x-limited-by'], 'weft');
    assert.equal(limited.headers['x-ratelimit-remaining'], '0');
    assert.equal(limited.headers['x-ratelimit-reset'], '1');
    assert.equal(a.seen.length, seen + 3, 'the limited request never reached the backend');

    clock.advance(1_000);
    const refilled = await request(port('edge'), '/again');
    assert.equal(refilled.status, 200);
    assert.equal(refilled.headers['x-ratelimit-remaining'], '2');
    assert.deepEqual(
      [stat('edge', 'enabled'), stat('edge', 'ok'), stat('edge', 'rate_limited'), stat('edge', 'enforced')],
      [5, 4, 1, 1],
    );
    assert.deepEqual(await logLines('edge', 5), [
      '/p0 200 -',
      '/p1 200 -',
      '/p2 200 -',
      '/over 429 RL',
      '/again 200 -',
    ]);
  });

  it("a route's own LocalRateLimit has its own bucket and stats; disabled routes are never limited", async () => {
    randoms.length = 0;
    const own = [await request(port('edge'), '/own'), await request(port('edge'), '/own')];
    assert.deepEqual(
      own.map((r) => r.status),
      [200, 503],
    );
    assert.equal(own[1].headers['x-envoy-ratelimited'], 'true');
    assert.equal(
      own[0].headers['x-ratelimit-limit'],
      undefined,
      "the route's config has no x-ratelimit headers",
    );
    assert.deepEqual([stat('own', 'ok'), stat('own', 'enforced')], [1, 1]);
    const edgeEnabled = stat('edge', 'enabled');
    for (let i = 0; i < 5; i++) assert.equal((await request(port('edge'), '/free')).status, 200);
    assert.equal(stat('edge', 'enabled'), edgeEnabled, 'the filter did not run on the disabled route');
  });

  it('samples filter_enabled and filter_enforced with the injected random()', async () => {
    randoms.length = 0;
    // 50/100 each: floor(r * 100) < 50 samples in.
    // req 1: not enabled (0.7) → passes without touching the bucket.
    // req 2: enabled (0.1), takes the only token.
    // req 3: enabled (0.2), over the limit, not enforced (0.8) → passes with x-would-limit.
    // req 4: enabled (0.3), over the limit, enforced (0.4) → 429.
    randoms.push(0.7, 0.1, 0.2, 0.8, 0.3, 0.4);
    const seen = a.seen.length;
    const statuses = [];
    for (let i = 1; i <= 4; i++) statuses.push((await request(port('sampled'), `/s${i}`)).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.equal(randoms.length, 0, 'every sample drew once');
    const upstream = a.seen.slice(seen);
    assert.deepEqual(
      upstream.map((r) => r.url),
      ['/s1', '/s2', '/s3'],
    );
    assert.deepEqual(
      upstream.map((r) => r.headers['x-would-limit']),
      [undefined, undefined, 'yes'],
    );
    assert.deepEqual(
      [
        stat('sampled', 'enabled'),
        stat('sampled', 'ok'),
        stat('sampled', 'rate_limited'),
        stat('sampled', 'enforced'),
      ],
      [3, 1, 2, 1],
    );
  });

  it('local_rate_limit_per_downstream_connection gives each connection its own bucket', async () => {
    randoms.length = 0;
    const one = new Agent({ keepAlive: true, maxSockets: 1 });
    const two = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const r1 = await request(port('perconn'), '/1', { agent: one });
      const r2 = await request(port('perconn'), '/2', { agent: one });
      const r3 = await request(port('perconn'), '/3', { agent: two });
      assert.deepEqual([r1.status, r2.status, r3.status], [200, 429, 200]);
    } finally {
      one.destroy();
      two.destroy();
    }
  });
});
