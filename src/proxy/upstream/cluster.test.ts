import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatsStore } from '../stats/store.js';
import { createUpstreamCluster, type UpstreamClusterDeps } from './cluster.js';
import { seededRandom } from './lb/load-balancer-properties.js';
import { DEFAULT_LB_CONFIG } from './lb/policy.js';
import {
  clusterConfig,
  createFakeResolver,
  endpoint,
  type FakeResolver,
  flushMicrotasks,
} from './testing/fixtures.js';
import { createManualClock, type ManualClock } from './testing/manual-clock.js';

function deps(): UpstreamClusterDeps & { clock: ManualClock; resolver: FakeResolver; stats: StatsStore } {
  return {
    stats: new StatsStore(),
    clock: createManualClock(),
    resolver: createFakeResolver(),
    random: () => 0,
  };
}

describe('STATIC cluster', () => {
  it('builds hosts from load_assignment with weights, health and membership gauges', async () => {
    const d = deps();
    const c = createUpstreamCluster(
      clusterConfig('web', [
        endpoint('10.0.0.1', 80, 2),
        endpoint('::1', 81, 1, 'DRAINING'),
        endpoint('10.0.0.3', 82),
      ]),
      d,
    );
    await c.initialized;
    assert.deepEqual(
      c.hosts.map((h) => [h.addressString, h.weight, h.healthy]),
      [
        ['10.0.0.1:80', 2, true],
        ['[::1]:81', 1, false],
        ['10.0.0.3:82', 1, true],
      ],
    );
    assert.equal(d.stats.gauge('cluster.web.membership_total').value, 3);
    assert.equal(d.stats.gauge('cluster.web.membership_healthy').value, 2);
    const picked = new Set(Array.from({ length: 9 }, () => c.chooseHost()?.addressString));
    assert.deepEqual([...picked].sort(), ['10.0.0.1:80', '10.0.0.3:82']);
  });

  it('with no healthy host, panics (routes to any host) or, with the panic threshold at 0, returns null', () => {
    const d = deps();
    const eps = [endpoint('10.0.0.1', 80, 1, 'UNHEALTHY')];
    const c = createUpstreamCluster(clusterConfig('web', eps), d);
    assert.equal(c.chooseHost()?.addressString, '10.0.0.1:80');
    assert.equal(d.stats.counter('cluster.web.lb_healthy_panic').value, 1);
    const lbConfig = { ...DEFAULT_LB_CONFIG, healthyPanicThresholdPercent: 0 };
    const strict = createUpstreamCluster(clusterConfig('strict', eps, { lbConfig }), deps());
    assert.equal(strict.chooseHost(), null);
  });

  it('recordResponse bumps the class and per-code counters', () => {
    const d = deps();
    const c = createUpstreamCluster(clusterConfig('web', []), d);
    c.recordResponse(200);
    c.recordResponse(204);
    c.recordResponse(503);
    c.recordResponse(503);
    assert.equal(d.stats.counter('cluster.web.upstream_rq_2xx').value, 2);
    assert.equal(d.stats.counter('cluster.web.upstream_rq_5xx').value, 2);
    assert.equal(d.stats.counter('cluster.web.upstream_rq_503').value, 2);
    assert.equal(d.stats.counter('cluster.web.upstream_rq_204').value, 1);
    assert.equal(d.stats.counter('cluster.web.upstream_rq_4xx').value, 0);
  });
});

describe('STRICT_DNS cluster', () => {
  it('resolves every endpoint, refreshes on dns_refresh_rate, keeps surviving hosts', async () => {
    const d = deps();
    d.resolver.answers.set('a.svc', ['10.0.0.1', '10.0.0.2']);
    d.resolver.answers.set('b.svc', ['10.0.1.1']);
    const c = createUpstreamCluster(
      clusterConfig('dns', [endpoint('a.svc', 80, 3), endpoint('b.svc', 90)], {
        type: 'STRICT_DNS',
        dnsRefreshRateMs: 1000,
      }),
      d,
    );
    assert.equal(c.chooseHost(), null, 'no hosts before the first answer');
    await c.initialized;
    assert.deepEqual(
      c.hosts.map((h) => `${h.addressString}/${h.weight}`),
      ['10.0.0.1:80/3', '10.0.0.2:80/3', '10.0.1.1:90/1'],
    );
    const kept = c.hosts[1];
    d.resolver.answers.set('a.svc', ['10.0.0.2', '10.0.0.3']);
    d.clock.advance(999);
    await flushMicrotasks();
    assert.equal(d.resolver.calls.length, 2, 'not refreshed before the rate');
    d.clock.advance(1);
    await flushMicrotasks();
    assert.equal(d.resolver.calls.length, 4);
    assert.deepEqual(
      c.hosts.map((h) => h.addressString),
      ['10.0.0.2:80', '10.0.0.3:80', '10.0.1.1:90'],
    );
    assert.equal(c.hosts[0], kept, 'a surviving address keeps its Host (and pool)');
    assert.equal(d.stats.counter('cluster.dns.update_attempt').value, 4);
    assert.equal(d.stats.counter('cluster.dns.update_success').value, 4);
    assert.equal(d.stats.gauge('cluster.dns.membership_total').value, 3);
  });

  it('keeps the previous hosts when a resolution fails', async () => {
    const d = deps();
    d.resolver.answers.set('a.svc', ['10.0.0.1']);
    const c = createUpstreamCluster(clusterConfig('dns', [endpoint('a.svc', 80)], { type: 'STRICT_DNS' }), d);
    await c.initialized;
    const before = c.hosts;
    d.resolver.answers.set('a.svc', new Error('SERVFAIL'));
    d.clock.advance(5000);
    await flushMicrotasks();
    assert.equal(c.hosts, before);
    assert.equal(d.stats.counter('cluster.dns.update_failure').value, 1);
    d.resolver.answers.set('a.svc', ['10.0.0.9']);
    d.clock.advance(5000);
    await flushMicrotasks();
    assert.deepEqual(
      c.hosts.map((h) => h.addressString),
      ['10.0.0.9:80'],
    );
  });

  it('is initialized even when the first resolution fails, and stops refreshing once drained', async () => {
    const d = deps();
    const c = createUpstreamCluster(
      clusterConfig('dns', [endpoint('nx.svc', 80)], { type: 'STRICT_DNS' }),
      d,
    );
    await c.initialized;
    assert.equal(c.hosts.length, 0);
    assert.equal(d.stats.counter('cluster.dns.update_failure').value, 1);
    c.drain();
    d.clock.advance(60_000);
    await flushMicrotasks();
    assert.equal(d.resolver.calls.length, 1);
  });
});

describe('LOGICAL_DNS cluster', () => {
  it('has one logical host at the first address, whose address follows DNS', async () => {
    const d = deps();
    d.resolver.answers.set('api.example', ['10.1.0.1', '10.1.0.2']);
    const c = createUpstreamCluster(
      clusterConfig('logical', [endpoint('api.example', 443, 4)], {
        type: 'LOGICAL_DNS',
        dnsRefreshRateMs: 2000,
      }),
      d,
    );
    await c.initialized;
    assert.equal(c.hosts.length, 1);
    const host = c.hosts[0];
    assert.equal(host.addressString, '10.1.0.1:443');
    assert.equal(host.weight, 4);
    d.resolver.answers.set('api.example', ['10.1.0.7']);
    d.clock.advance(2000);
    await flushMicrotasks();
    assert.equal(c.hosts[0], host, 'the same host (and pool) is kept');
    assert.equal(host.address, '10.1.0.7');
    assert.equal(host.addressString, '10.1.0.7:443');
    d.resolver.answers.set('api.example', new Error('timeout'));
    d.clock.advance(2000);
    await flushMicrotasks();
    assert.equal(host.address, '10.1.0.7');
    assert.equal(d.stats.counter('cluster.logical.update_failure').value, 1);
    assert.equal(c.chooseHost(), host);
  });
});

describe('EDS cluster priorities', () => {
  it('follows priority moves and the overprovisioning factor of each assignment', () => {
    const c = createUpstreamCluster(clusterConfig('web', [], { type: 'EDS', edsServiceName: 'web' }), {
      ...deps(),
      random: seededRandom(4),
    });
    const assignment = (p2: number, healthy1: boolean) => ({
      clusterName: 'web',
      overprovisioningFactor: 100,
      endpoints: [
        {
          locality: null,
          lbEndpoints: [
            endpoint('10.0.0.1', 80, 1, healthy1 ? 'HEALTHY' : 'UNHEALTHY'),
            endpoint('10.0.0.3', 80),
          ],
          loadBalancingWeight: null,
          priority: 0,
        },
        { locality: null, lbEndpoints: [endpoint('10.0.0.2', 80)], loadBalancingWeight: null, priority: p2 },
      ],
    });
    c.updateEndpoints(assignment(1, true));
    const picked = () => new Set(Array.from({ length: 20 }, () => c.chooseHost()?.addressString));
    assert.deepEqual([...picked()].sort(), ['10.0.0.1:80', '10.0.0.3:80'], 'P0 only');
    // Half of P0 healthy with overprovisioning 100: P0 50% (not in panic at 50%), P1 50%.
    c.updateEndpoints(assignment(1, false));
    assert.ok(picked().has('10.0.0.2:80'));
    // 10.0.0.2 moves to P0: a new host object at priority 0.
    const before = c.hosts.find((h) => h.address === '10.0.0.2')!;
    c.updateEndpoints(assignment(0, true));
    const after = c.hosts.find((h) => h.address === '10.0.0.2')!;
    assert.notEqual(after, before);
    assert.equal(after.priority, 0);
    assert.deepEqual([...picked()].sort(), ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80']);
  });
});
