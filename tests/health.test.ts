// Health end to end, through a ProxyServer started from a YAML bootstrap with two backends:
// - outlier detection: one backend starts answering 503; after consecutive_5xx it is
//   ejected, every later request is answered by the other one, and /clusters shows the
//   host's `/failed_outlier_check` flag and ejection state; a dead backend (connect
//   failures, counted as local-origin errors) is ejected the same way;
// - active health checking (on a manual clock): the cluster warms until the first checks
//   pass, then one backend dies; the next check marks it `/failed_active_hc` and traffic
//   moves to the other with no client-visible failure.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { createMemoryLogger } from '../src/core/logger.js';
import { ProxyServer } from '../src/proxy/proxy-server.js';
import { createManualClock } from '../src/proxy/upstream/testing/manual-clock.js';
import {
  type Backend,
  bootstrap,
  httpListener,
  type RunningProxy,
  request,
  startBackend,
  startProxy,
  staticCluster,
  tempDir,
} from './support/harness.js';

/** A backend answering `name` with 200, or 503 once `failing` is set. */
async function switchableBackend(name: string) {
  const state = { failing: false };
  const backend = await startBackend(name, (req, res: ServerResponse) => {
    const status = state.failing && req.url !== '/healthz' ? 503 : 200;
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(name);
  });
  return { backend, state };
}

async function adminGet(adminAddress: string, path: string): Promise<string> {
  const port = Number(adminAddress.split(':').pop());
  return (await request(port, path)).body;
}

const routes = (cluster: string) => [
  { name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster } }] },
];

describe('outlier detection end to end', () => {
  let proxy: RunningProxy;
  let a: Awaited<ReturnType<typeof switchableBackend>>;
  let b: Awaited<ReturnType<typeof switchableBackend>>;

  before(async () => {
    a = await switchableBackend('a');
    b = await switchableBackend('b');
    proxy = await startProxy(
      bootstrap(
        [httpListener('in', routes('app'))],
        [
          staticCluster('app', [a.backend.port, b.backend.port], {
            outlier_detection: {
              consecutive_5xx: 3,
              max_ejection_percent: 50,
              interval: '60s',
              base_ejection_time: '60s',
            },
          }),
        ],
      ),
      { random: () => 0 },
    );
  });
  after(async () => {
    await proxy.close();
    await a.backend.close();
    await b.backend.close();
  });

  it('a backend answering 503 is ejected and traffic moves to the other', async () => {
    const port = proxy.port('in');
    const bodies: string[] = [];
    for (let i = 0; i < 4; i++) bodies.push((await request(port, '/')).body);
    assert.deepEqual(bodies.sort(), ['a', 'a', 'b', 'b']);

    b.state.failing = true;
    const counter = (n: string) => proxy.proxy.stats.counter(`cluster.app.outlier_detection.${n}`).value;
    const active = () => proxy.proxy.stats.gauge('cluster.app.outlier_detection.ejections_active').value;
    let failures = 0;
    for (let i = 0; i < 20 && active() === 0; i++) {
      if ((await request(port, '/')).status === 503) failures++;
    }
    assert.equal(active(), 1);
    assert.equal(failures, 3, 'consecutive_5xx: 3 answers of 503, then ejected');
    assert.equal(counter('ejections_enforced_consecutive_5xx'), 1);

    const after: number[] = [];
    const seenBefore = b.backend.seen.length;
    for (let i = 0; i < 20; i++) {
      const r = await request(port, '/');
      after.push(r.status);
      assert.equal(r.body, 'a');
    }
    assert.deepEqual(new Set(after), new Set([200]));
    assert.equal(b.backend.seen.length, seenBefore, 'the ejected backend got no request');

    const admin = proxy.proxy.admin!.addressString;
    const text = await adminGet(admin, '/clusters');
    assert.ok(text.includes(`app::127.0.0.1:${b.backend.port}::health_flags::/failed_outlier_check\n`), text);
    assert.ok(text.includes(`app::127.0.0.1:${a.backend.port}::health_flags::healthy\n`));
    assert.ok(text.includes(`app::127.0.0.1:${b.backend.port}::outlier_ejections::1\n`));
    assert.ok(text.includes('app::outlier::success_rate_ejection_threshold::-1\n'));
    const json = JSON.parse(await adminGet(admin, '/clusters?format=json'));
    const hostB = json.cluster_statuses[0].host_statuses.find(
      (h: { address: { socket_address: { port_value: number } } }) =>
        h.address.socket_address.port_value === b.backend.port,
    );
    assert.deepEqual(hostB.health_status, { eds_health_status: 'HEALTHY', failed_outlier_check: true });
    assert.equal(hostB.outlier.ejected, true);
    assert.equal(hostB.outlier.ejection_period_ms, 60_000);
    const stats = await adminGet(admin, '/stats?filter=outlier_detection.ejections_active');
    assert.match(stats, /cluster\.app\.outlier_detection\.ejections_active: 1/);
  });
});

describe('outlier detection of a dead backend end to end', () => {
  let proxy: RunningProxy;
  let live: Backend;
  let dead: Backend;

  before(async () => {
    live = await startBackend('live');
    dead = await startBackend('dead');
    await dead.close();
    proxy = await startProxy(
      bootstrap(
        [httpListener('in', routes('split'))],
        [
          staticCluster('split', [live.port, dead.port], {
            outlier_detection: {
              split_external_local_origin_errors: true,
              consecutive_local_origin_failure: 2,
              max_ejection_percent: 50,
            },
          }),
        ],
      ),
      { random: () => 0 },
    );
  });
  after(async () => {
    await proxy.close();
    await live.close();
  });

  it('connect failures eject the host (local-origin errors split out); traffic moves', async () => {
    const port = proxy.port('in');
    const gauge = () => proxy.proxy.stats.gauge('cluster.split.outlier_detection.ejections_active').value;
    let failures = 0;
    for (let i = 0; i < 20 && gauge() === 0; i++) {
      const r = await request(port, '/');
      if (r.status !== 200) {
        assert.equal(r.status, 503);
        failures++;
      }
    }
    assert.equal(gauge(), 1);
    assert.equal(failures, 2, 'consecutive_local_origin_failure: 2 connect failures, then ejected');
    const stat = (n: string) => proxy.proxy.stats.counter(`cluster.split.outlier_detection.${n}`).value;
    assert.equal(stat('ejections_enforced_consecutive_local_origin_failure'), 1);
    assert.equal(stat('ejections_enforced_consecutive_5xx'), 0);
    for (let i = 0; i < 10; i++) assert.equal((await request(port, '/')).status, 200);
    const text = await adminGet(proxy.proxy.admin!.addressString, '/clusters');
    assert.ok(text.includes(`split::127.0.0.1:${dead.port}::health_flags::/failed_outlier_check\n`), text);
  });
});

describe('active health checking end to end', () => {
  const clock = createManualClock();
  let proxy: ProxyServer;
  let a: Backend;
  let b: Backend;

  before(async () => {
    a = await startBackend('a');
    b = await startBackend('b');
    const config = bootstrap(
      [httpListener('in', routes('checked'))],
      [
        staticCluster('checked', [a.port, b.port], {
          health_checks: [
            {
              timeout: '1s',
              interval: '5s',
              no_traffic_interval: '5s',
              unhealthy_threshold: 1,
              healthy_threshold: 1,
              http_health_check: { path: '/healthz' },
            },
          ],
        }),
      ],
    );
    const configPath = join(tempDir(), 'envoy.yaml');
    writeFileSync(configPath, YAML.stringify(config));
    proxy = await ProxyServer.start(
      { configPath, drainTimeMs: 1000 },
      { clock, logger: createMemoryLogger(), random: () => 0, hostname: 'test-host' },
    );
  });
  after(async () => {
    await proxy.shutdown();
    await a.close();
    await b.close();
  });

  it('warms on the first checks; a dead backend is marked unhealthy and traffic moves', async () => {
    const cluster = proxy.clusters.get('checked')!;
    const checker = cluster.healthChecker!;
    // ProxyServer.start waited for the first round: both hosts passed before any traffic.
    assert.deepEqual(
      cluster.hosts.map((h) => h.healthy),
      [true, true],
    );
    assert.deepEqual(
      [...a.seen, ...b.seen].map((r) => [r.url, r.headers.host, r.headers['user-agent']]),
      [
        ['/healthz', 'checked', 'Envoy/HC'],
        ['/healthz', 'checked', 'Envoy/HC'],
      ],
    );
    const port = proxy.listeners.get('in')!.address.port;
    const bodies: string[] = [];
    for (let i = 0; i < 4; i++) bodies.push((await request(port, '/x')).body.split(' ')[0]);
    assert.deepEqual(bodies.sort(), ['a', 'a', 'b', 'b']);

    await b.close();
    clock.advance(5_000);
    await checker.idle();
    assert.deepEqual(
      cluster.hosts.map((h) => h.healthy),
      [true, false],
    );
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await request(port, '/x');
      statuses.push(r.status);
      assert.match(r.body, /^a /);
    }
    assert.deepEqual(new Set(statuses), new Set([200]));

    const admin = proxy.admin!.addressString;
    const text = await adminGet(admin, '/clusters');
    assert.ok(text.includes(`checked::127.0.0.1:${b.port}::health_flags::/failed_active_hc\n`), text);
    const stats = await adminGet(admin, '/stats?filter=cluster.checked.health_check');
    assert.match(stats, /cluster\.checked\.health_check\.attempt: 4/);
    assert.match(stats, /cluster\.checked\.health_check\.network_failure: 1/);
    assert.match(stats, /cluster\.checked\.health_check\.healthy: 1/);
    assert.equal(proxy.stats.gauge('cluster.checked.membership_healthy').value, 1);
  });
});
