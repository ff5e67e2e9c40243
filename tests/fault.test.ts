// The fault injection filter (envoy.filters.http.fault) end to end: real proxy, real
// backend, real sockets on port 0. Time is a manual clock (a delay holds the request
// until the test advances it, no sleeping); sampling uses an injected random() whose
// values each test sets. Also: config validation names the path of each refused field.

import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDefaultHttpFilterRegistry } from '../src/config/http-filter-registry.js';
import { validateBootstrap } from '../src/config/validate-bootstrap.js';
import { systemClock } from '../src/core/clock.js';
import { createMemoryLogger } from '../src/core/logger.js';
import { ProxyServer } from '../src/proxy/proxy-server.js';
import { createManualClock } from '../src/proxy/upstream/testing/manual-clock.js';
import {
  type Backend,
  bootstrap,
  HCM_TYPE,
  httpListener,
  logLinesStartingWith,
  ROUTER_FILTER,
  request,
  startBackend,
  staticCluster,
  tempDir,
  waitFor,
} from './support/harness.js';

const FAULT_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';
const FILE_LOG = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
const HUNDRED = { numerator: 100 };

function faultFilter(config: Record<string, unknown>) {
  return { name: 'envoy.filters.http.fault', typed_config: { '@type': FAULT_TYPE, ...config } };
}

/** A listener whose routes send /a to cluster a and /b to cluster b, behind `fault`. */
function faultListener(name: string, fault: Record<string, unknown>, logFile: string, timeout = '0s') {
  return httpListener(
    name,
    [
      {
        name: 'v',
        domains: ['*'],
        routes: [
          { match: { prefix: '/b' }, route: { cluster: 'b', timeout } },
          { match: { prefix: '/' }, route: { cluster: 'a', timeout } },
        ],
      },
    ],
    {
      http_filters: [faultFilter(fault), ROUTER_FILTER],
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
    },
  );
}

/**
 * The filter itself never aborts (0%); route /b overrides it with a 100% abort 418, the
 * virtual host with a 100% abort 503, which route /off turns off with FilterConfig disabled.
 */
function perRouteListener(logFile: string) {
  const FILTER_CONFIG = 'type.googleapis.com/envoy.config.route.v3.FilterConfig';
  const abortAll = (status: number) => ({
    '@type': FAULT_TYPE,
    abort: { http_status: status, percentage: HUNDRED },
  });
  const l = faultListener('perroute', { abort: { http_status: 500, percentage: { numerator: 0 } } }, logFile);
  const vh = (
    l as { filter_chains: { filters: { typed_config: { route_config: { virtual_hosts: unknown[] } } }[] }[] }
  ).filter_chains[0].filters[0].typed_config.route_config;
  vh.virtual_hosts = [
    {
      name: 'v',
      domains: ['*'],
      typed_per_filter_config: { 'envoy.filters.http.fault': abortAll(503) },
      routes: [
        {
          match: { prefix: '/b' },
          route: { cluster: 'b' },
          typed_per_filter_config: { 'envoy.filters.http.fault': abortAll(418) },
        },
        {
          match: { prefix: '/off' },
          route: { cluster: 'a' },
          typed_per_filter_config: { 'envoy.filters.http.fault': { '@type': FILTER_CONFIG, disabled: true } },
        },
        { match: { prefix: '/' }, route: { cluster: 'a' } },
      ],
    },
  ];
  return l;
}

describe('fault filter', () => {
  const clock = createManualClock();
  /** The values random() returns next, in order; 0.99 once they run out. */
  const randoms: number[] = [];
  let a: Backend;
  let b: Backend;
  let proxy: ProxyServer;
  let logDir: string;

  before(async () => {
    a = await startBackend('a');
    b = await startBackend('b');
    logDir = tempDir();
    const log = (n: string) => join(logDir, `${n}.log`);
    const listeners = [
      faultListener('abort100', { abort: { http_status: 503, percentage: HUNDRED } }, log('abort100')),
      faultListener('abort0', { abort: { http_status: 503, percentage: { numerator: 0 } } }, log('abort0')),
      faultListener('half', { abort: { http_status: 500, percentage: { numerator: 50 } } }, log('half')),
      faultListener(
        'delay',
        { delay: { fixed_delay: '2s', percentage: HUNDRED }, max_active_faults: 1 },
        log('delay'),
        '1s',
      ),
      faultListener(
        'headers',
        {
          abort: { http_status: 418, percentage: HUNDRED },
          headers: [{ name: 'x-chaos', string_match: { exact: 'on' } }],
        },
        log('headers'),
      ),
      faultListener(
        'cluster',
        { abort: { http_status: 503, percentage: HUNDRED }, upstream_cluster: 'b' },
        log('cluster'),
      ),
      faultListener('hdr', { abort: { header_abort: {}, percentage: HUNDRED } }, log('hdr')),
      faultListener('grpc', { abort: { grpc_status: 14, percentage: HUNDRED } }, log('grpc')),
      perRouteListener(log('perroute')),
    ];
    proxy = await ProxyServer.start(
      {
        bootstrap: bootstrap(listeners, [staticCluster('a', [a.port]), staticCluster('b', [b.port])]),
        drainTimeMs: 100,
      },
      { clock, logger: createMemoryLogger(), random: () => randoms.shift() ?? 0.99, hostname: 'test-host' },
    );
  });
  after(async () => {
    clock.advance(60_000); // ends any delay a failed test left pending, and the drain
    await proxy.shutdown();
    await a.close();
    await b.close();
  });

  const port = (listener: string) => proxy.listeners.get(listener)!.address.port;
  const stat = (listener: string, name: string) =>
    proxy.stats.counter(`http.${listener}.fault.${name}`).value;
  const gauge = (listener: string, name: string) => proxy.stats.gauge(`http.${listener}.fault.${name}`).value;
  /** The access-log lines of a listener, once `n` are written. */
  const logLines = (listener: string, n: number): Promise<string[]> =>
    logLinesStartingWith(join(logDir, `${listener}.log`), '', n);

  it('aborts every request at 100% with FI and counts it', async () => {
    randoms.length = 0;
    const before = a.seen.length;
    const res = await request(port('abort100'), '/x');
    assert.equal(res.status, 503);
    assert.equal(res.body, 'fault filter abort');
    assert.equal(a.seen.length, before, 'the backend saw nothing');
    assert.equal(stat('abort100', 'aborts_injected'), 1);
    assert.equal(stat('abort100', 'delays_injected'), 0);
    assert.equal(gauge('abort100', 'active_faults'), 0, 'released at the end of the stream');
    assert.deepEqual(await logLines('abort100', 1), ['/x 503 FI']);
  });

  it('a per-route HTTPFault replaces the filter config: route over virtual host over filter, disabled turns it off', async () => {
    randoms.length = 0;
    const beforeA = a.seen.length;
    const beforeB = b.seen.length;
    const routeOwn = await request(port('perroute'), '/b/1');
    const off = await request(port('perroute'), '/off');
    const vhLevel = await request(port('perroute'), '/x');
    assert.equal(routeOwn.status, 418, "the route's own abort");
    assert.equal(b.seen.length, beforeB, 'b saw nothing');
    assert.equal(
      off.status,
      200,
      'disabled on this route: not aborted, although the filter and the virtual host would',
    );
    assert.equal(a.seen.length, beforeA + 1);
    assert.equal(vhLevel.status, 503, "the virtual host's abort, not the filter's 0%");
    assert.equal(stat('perroute', 'aborts_injected'), 2, 'per-route faults count in the filter stats');
    assert.deepEqual(await logLines('perroute', 3), ['/b/1 418 FI', '/off 200 -', '/x 503 FI']);
  });

  it('passes every request through at 0%', async () => {
    randoms.length = 0;
    randoms.push(0);
    const res = await request(port('abort0'), '/x');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'a GET /x\n');
    assert.equal(stat('abort0', 'aborts_injected'), 0);
    assert.deepEqual(await logLines('abort0', 1), ['/x 200 -']);
  });

  it('samples the percentage with the injected random()', async () => {
    randoms.length = 0;
    // 50/100: floor(r * 100) < 50 fires.
    randoms.push(0.1, 0.9, 0.49, 0.5);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await request(port('half'), '/x')).status);
    assert.deepEqual(statuses, [500, 200, 500, 200]);
    assert.equal(stat('half', 'aborts_injected'), 2);
  });

  it('delays by fixed_delay on the manual clock (DI), the route timeout starting after it', async () => {
    randoms.length = 0;
    const before = a.seen.length;
    const pending = request(port('delay'), '/slow');
    await waitFor(() => gauge('delay', 'active_faults') === 1, 'the delay to start');
    assert.equal(stat('delay', 'delays_injected'), 1);
    clock.advance(1999);
    // A probe on a fresh connection after the delayed request: had the delayed request been
    // forwarded, the backend would have seen it first.
    assert.equal((await request(port('abort0'), '/probe')).status, 200);
    assert.equal(a.seen.length - before, 1, 'only the probe reached the backend');
    assert.equal(a.seen.at(-1)?.url, '/probe');
    // The route timeout (1s) would have fired by now had it started with the request.
    clock.advance(1);
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(res.body, 'a GET /slow\n');
    assert.equal(gauge('delay', 'active_faults'), 0);
    assert.deepEqual(await logLines('delay', 1), ['/slow 200 DI']);
  });

  it('does not delay past max_active_faults (faults_overflow)', async () => {
    randoms.length = 0;
    const first = request(port('delay'), '/first');
    await waitFor(() => gauge('delay', 'active_faults') === 1, 'the first delay');
    const second = await request(port('delay'), '/second');
    assert.equal(second.status, 200, 'the second request went straight through');
    assert.equal(stat('delay', 'faults_overflow'), 1);
    clock.advance(2000);
    assert.equal((await first).status, 200);
    assert.equal(stat('delay', 'delays_injected'), 2);
  });

  it('injects only into requests matching `headers`', async () => {
    randoms.length = 0;
    assert.equal((await request(port('headers'), '/x')).status, 200);
    assert.equal((await request(port('headers'), '/x', { headers: { 'x-chaos': 'off' } })).status, 200);
    assert.equal((await request(port('headers'), '/x', { headers: { 'x-chaos': 'on' } })).status, 418);
    assert.equal(stat('headers', 'aborts_injected'), 1);
  });

  it('injects only into requests routed to upstream_cluster', async () => {
    randoms.length = 0;
    const toA = await request(port('cluster'), '/a');
    assert.equal(toA.status, 200);
    assert.equal(toA.body, 'a GET /a\n');
    assert.equal((await request(port('cluster'), '/b')).status, 503);
    assert.equal(stat('cluster', 'aborts_injected'), 1);
  });

  it('takes the abort from x-envoy-fault-abort-request with header_abort', async () => {
    randoms.length = 0;
    const hdr = port('hdr');
    assert.equal((await request(hdr, '/x')).status, 200, 'no header, no fault');
    const aborted = await request(hdr, '/x', { headers: { 'x-envoy-fault-abort-request': '429' } });
    assert.equal(aborted.status, 429);
    assert.equal(
      (await request(hdr, '/x', { headers: { 'x-envoy-fault-abort-request': '700' } })).status,
      200,
      'a status outside 200-599 is ignored',
    );
    const lowered = await request(hdr, '/x', {
      headers: { 'x-envoy-fault-abort-request': '429', 'x-envoy-fault-abort-request-percentage': '0' },
    });
    assert.equal(lowered.status, 200, 'the percentage header lowers the configured 100%');
    const grpc = await request(hdr, '/x', { headers: { 'x-envoy-fault-abort-grpc-request': '8' } });
    assert.equal(grpc.status, 200);
    assert.equal(grpc.headers['grpc-status'], '8');
    assert.equal(stat('hdr', 'aborts_injected'), 2);
  });

  it('answers a grpc_status abort as a trailers-only gRPC response', async () => {
    randoms.length = 0;
    const res = await request(port('grpc'), '/pkg.Svc/Method', {
      method: 'POST',
      headers: { 'content-type': 'application/grpc' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/grpc');
    assert.equal(res.headers['grpc-status'], '14');
    assert.equal(res.headers['grpc-message'], 'fault filter abort');
    assert.equal(res.body, '');
    assert.deepEqual(await logLines('grpc', 1), ['/pkg.Svc/Method 200 FI']);
  });
});

describe('fault filter validation', () => {
  const HCM = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config';
  const F = `${HCM}.http_filters[0].typed_config`;

  function issuesFor(fault: Record<string, unknown>, filters?: unknown[]) {
    const config = bootstrap(
      [
        {
          name: 'l',
          address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'hcm',
                  typed_config: {
                    '@type': HCM_TYPE,
                    stat_prefix: 'l',
                    route_config: { name: 'r', virtual_hosts: [] },
                    http_filters: filters ?? [faultFilter(fault), ROUTER_FILTER],
                  },
                },
              ],
            },
          ],
        },
      ],
      [],
    );
    return validateBootstrap(config, createDefaultHttpFilterRegistry()).issues.map(
      (i) => `${i.path}: ${i.message}`,
    );
  }

  it('accepts a full config', () => {
    assert.deepEqual(
      issuesFor({
        delay: { fixed_delay: '0.5s', percentage: { numerator: 5, denominator: 'TEN_THOUSAND' } },
        abort: { http_status: 503, percentage: HUNDRED },
        headers: [{ name: 'x-a', present_match: true }],
        upstream_cluster: 'c',
        max_active_faults: 10,
      }),
      [],
    );
    assert.deepEqual(issuesFor({ delay: { header_delay: {} }, abort: { header_abort: {} } }), []);
  });

  it('names the path of every refused or invalid field', () => {
    assert.deepEqual(
      issuesFor({
        delay: { exponential_delay: {}, percentage: { numerator: 1, denominator: 'BILLION' } },
        abort: { http_status: 600 },
        headers: [{ name: 'x', exact_matc: 'y' }],
        downstream_nodes: ['n'],
        response_rate_limit: { fixed_limit: { limit_kbps: 1 } },
      }),
      [
        `${F}.delay.percentage.denominator: unknown value "BILLION"; expected one of HUNDRED, TEN_THOUSAND, MILLION`,
        `${F}.abort.http_status: must be between 200 and 599, got 600`,
        `${F}.headers[0].exact_matc: unsupported field`,
        `${F}.delay.exponential_delay: unsupported field`,
        `${F}.downstream_nodes: unsupported field`,
        `${F}.response_rate_limit: unsupported field`,
      ],
    );
    assert.deepEqual(issuesFor({ abort: {} }), [
      `${F}.abort: one of http_status, grpc_status, header_abort is required`,
    ]);
    assert.deepEqual(issuesFor({ delay: { fixed_delay: '0s' } }), [
      `${F}.delay.fixed_delay: must be greater than 0s`,
    ]);
  });

  it('refuses a second fault filter', () => {
    const f = faultFilter({ abort: { http_status: 503 } });
    assert.deepEqual(issuesFor({}, [f, f, ROUTER_FILTER]), [
      `${HCM}.http_filters[1].typed_config.@type: only one fault filter (envoy.filters.http.fault) is supported per connection manager`,
    ]);
  });
});

describe('fault filter with the real random()', () => {
  // What users rely on, sampled as in production: a 10% abort fails about 10% of requests.
  const REQUESTS = 2000;
  let a: Backend;
  let proxy: ProxyServer;

  before(async () => {
    a = await startBackend('a');
    const log = join(tempDir(), 'ten.log');
    const listener = faultListener(
      'ten',
      { abort: { http_status: 503, percentage: { numerator: 10 } } },
      log,
    );
    proxy = await ProxyServer.start(
      {
        bootstrap: bootstrap([listener], [staticCluster('a', [a.port]), staticCluster('b', [a.port])]),
        drainTimeMs: 100,
      },
      { clock: systemClock, logger: createMemoryLogger() },
    );
  });
  after(async () => {
    await proxy.shutdown();
    await a.close();
  });

  it(`a 10% abort fails about 10% of ${REQUESTS} requests; the others reach the backend`, async () => {
    const port = proxy.listeners.get('ten')!.address.port;
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const counts = new Map<number, number>();
    for (let sent = 0; sent < REQUESTS; sent += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => request(port, '/x', { agent })));
      for (const r of batch) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    }
    agent.destroy();
    const aborted = counts.get(503) ?? 0;
    assert.equal(aborted + (counts.get(200) ?? 0), REQUESTS, `only 200 and 503: ${[...counts]}`);
    // Binomial(2000, 0.1): mean 200, sd 13.4; 140..260 is beyond 4.4 sd either way.
    assert.ok(aborted >= 140 && aborted <= 260, `aborted ${aborted} of ${REQUESTS}`);
    assert.equal(proxy.stats.counter('http.ten.fault.aborts_injected').value, aborted);
    assert.equal(proxy.stats.counter('cluster.a.upstream_rq_total').value, REQUESTS - aborted);
  });
});
