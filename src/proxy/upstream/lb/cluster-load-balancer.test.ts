import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterLbConfig, ClusterLoadAssignment, LbPolicy } from '../../../config/model.js';
import { StatsStore } from '../../stats/store.js';
import { createClusterStats } from '../cluster-stats.js';
import type { Host } from '../host.js';
import { testHostAt } from '../testing/fixtures.js';
import { createManualClock } from '../testing/manual-clock.js';
import { createClusterLoadBalancer, localityKey } from './cluster-load-balancer.js';
import { randomKeys, seededRandom } from './load-balancer-properties.js';
import { DEFAULT_LB_CONFIG, isHashingPolicy } from './policy.js';

const POLICIES: readonly LbPolicy[] = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV'];

function setup(
  policy: LbPolicy,
  hosts: readonly Host[],
  config: Partial<ClusterLbConfig> = {},
  assignment: Partial<ClusterLoadAssignment> = {},
  local: string | null = null,
) {
  const stats = createClusterStats(new StatsStore(), 'c');
  const lb = createClusterLoadBalancer(
    policy,
    { ...DEFAULT_LB_CONFIG, ...config },
    {
      random: seededRandom(9),
      stats,
      localLocality: local === null ? null : { region: 'r', zone: local, subZone: '' },
    },
  );
  lb.setLoadAssignment({ clusterName: 'c', endpoints: [], ...assignment });
  lb.hostsChanged(hosts);
  const keys = isHashingPolicy(policy) ? randomKeys(10_000, 5) : null;
  const ctx = { hashKey: null as bigint | null };
  /** Shares of picks per host over `n` picks (distinct keys for hashing policies). */
  const shares = (n = 10_000) => {
    const counts = new Map<Host | null, number>();
    for (let i = 0; i < n; i++) {
      if (keys !== null) ctx.hashKey = keys[i % keys.length];
      const h = lb.chooseHost(ctx);
      counts.set(h, (counts.get(h) ?? 0) + 1);
    }
    return (pred: (h: Host) => boolean) => {
      let sum = 0;
      for (const [h, c] of counts) if (h !== null && pred(h)) sum += c;
      return sum / n;
    };
  };
  return { lb, stats, shares };
}

const level = (p: number, n: number, healthy: number, zone?: string) =>
  Array.from({ length: n }, (_, i) =>
    testHostAt(`10.${p}.${zone?.charCodeAt(0) ?? 0}.${i + 1}`, { priority: p, healthy: i < healthy, zone }),
  );

// The cluster-level properties every policy must pass. Tolerance: 3% absolute over 10 000 picks.
for (const policy of POLICIES) {
  describe(`${policy}: priorities and panic`, () => {
    it('sends everything to a healthy priority 0', () => {
      const hosts = [...level(0, 10, 10), ...level(1, 10, 10)];
      const share = setup(policy, hosts).shares();
      assert.equal(
        share((h) => h.priority === 0),
        1,
      );
    });

    it('spills over: 6 of 10 healthy at P0 (health 84%) sends 16% to P1, never to an unhealthy host', () => {
      const hosts = [...level(0, 10, 6), ...level(1, 10, 10)];
      const { shares, stats } = setup(policy, hosts);
      const share = shares();
      assert.ok(
        Math.abs(share((h) => h.priority === 0) - 0.84) <= 0.03,
        `P0 ${share((h) => h.priority === 0)}`,
      );
      assert.equal(
        share((h) => !h.healthy),
        0,
      );
      assert.equal(stats.lb_healthy_panic.value, 0);
    });

    it('honours overprovisioning_factor (100: health = healthy share)', () => {
      const hosts = [...level(0, 10, 6), ...level(1, 10, 10)];
      const share = setup(policy, hosts, {}, { overprovisioningFactor: 100 }).shares();
      assert.ok(Math.abs(share((h) => h.priority === 0) - 0.6) <= 0.03);
    });

    it('below healthy_panic_threshold a level routes to all its hosts, counted in lb_healthy_panic', () => {
      const hosts = level(0, 10, 4); // 40% < 50%
      const { shares, stats } = setup(policy, hosts);
      const share = shares();
      assert.ok(Math.abs(share((h) => !h.healthy) - 0.6) <= 0.03, `unhealthy ${share((h) => !h.healthy)}`);
      assert.equal(stats.lb_healthy_panic.value, 10_000);
    });

    it('with healthy_panic_threshold 0 never panics; with no healthy host returns null', () => {
      const hosts = level(0, 10, 1);
      const share = setup(policy, hosts, { healthyPanicThresholdPercent: 0 }).shares();
      assert.equal(
        share((h) => h.healthy),
        1,
      );
      const none = setup(policy, level(0, 3, 0), { healthyPanicThresholdPercent: 0 });
      assert.equal(none.lb.chooseHost(), null);
    });

    it('with no healthy host anywhere, spreads load by host count in panic', () => {
      const hosts = [...level(0, 3, 0), ...level(1, 1, 0)];
      const share = setup(policy, hosts).shares();
      assert.ok(Math.abs(share((h) => h.priority === 0) - 0.75) <= 0.03);
    });

    it('follows health flips without notification', () => {
      const hosts = [...level(0, 2, 2), ...level(1, 2, 2)];
      const { shares } = setup(policy, hosts);
      assert.equal(
        shares(1000)((h) => h.priority === 0),
        1,
      );
      hosts[0].healthy = false;
      hosts[1].healthy = false;
      assert.equal(
        shares(1000)((h) => h.priority === 1),
        1,
      );
    });
  });
}

describe('priority choice of a hashed request', () => {
  it('is taken from the hash, so a key sticks to one level', () => {
    const hosts = [...level(0, 10, 6), ...level(1, 10, 10)];
    const { lb } = setup('RING_HASH', hosts);
    for (const key of randomKeys(100, 8)) {
      const first = lb.chooseHost({ hashKey: key });
      for (let i = 0; i < 3; i++) assert.equal(lb.chooseHost({ hashKey: key }), first);
    }
  });
});

describe('locality weighted', () => {
  const assignment = (wa: number | null, wb: number | null): Partial<ClusterLoadAssignment> => ({
    endpoints: [
      {
        locality: { region: 'r', zone: 'a', subZone: '' },
        lbEndpoints: [],
        loadBalancingWeight: wa,
        priority: 0,
      },
      {
        locality: { region: 'r', zone: 'b', subZone: '' },
        lbEndpoints: [],
        loadBalancingWeight: wb,
        priority: 0,
      },
    ],
  });

  it('splits by locality weight, scaled by overprovisioned health', () => {
    const hosts = [...level(0, 4, 4, 'a'), ...level(0, 2, 2, 'b')];
    const { shares } = setup('ROUND_ROBIN', hosts, { localityWeighted: true }, assignment(1, 3));
    assert.ok(Math.abs(shares()((h) => h.locality?.zone === 'a') - 0.25) <= 0.01);
    // Half of b unhealthy: its weight 3 × min(1, 1.4 × 1/2) = 2.1 against 1.
    hosts[5].healthy = false;
    const share = shares();
    assert.ok(Math.abs(share((h) => h.locality?.zone === 'a') - 1 / 3.1) <= 0.01);
    assert.equal(
      share((h) => !h.healthy),
      0,
    );
  });

  it('sends nothing to a locality without load_balancing_weight', () => {
    const hosts = [...level(0, 2, 2, 'a'), ...level(0, 2, 2, 'b')];
    const { shares } = setup('LEAST_REQUEST', hosts, { localityWeighted: true }, assignment(5, null));
    assert.equal(
      shares()((h) => h.locality?.zone === 'a'),
      1,
    );
  });

  it('keys localities by priority and locality', () => {
    assert.equal(localityKey(1, { region: 'x', zone: 'y', subZone: 'z' }), '1|x|y|z');
    assert.equal(localityKey(0, null), '0|||');
  });
});

describe('zone aware', () => {
  const zoneAware = { zoneAware: { routingEnabledPercent: 100, minClusterSize: 6 } };
  const hostsOf = () => [...level(0, 2, 2, 'a'), ...level(0, 2, 2, 'b'), ...level(0, 2, 2, 'c')];

  it('keeps every request in the local zone while it is as healthy as the others', () => {
    const { shares, stats } = setup('ROUND_ROBIN', hostsOf(), zoneAware, {}, 'a');
    assert.equal(
      shares(3000)((h) => h.locality?.zone === 'a'),
      1,
    );
    assert.equal(stats.lb_zone_routing_all_directly.value, 3000);
  });

  it('samples local traffic down when the local zone degrades, and sends the rest cross-zone', () => {
    const hosts = hostsOf();
    hosts[0].healthy = false; // zone a: 1/3 of the hosts, 1/5 of the healthy ones
    const { shares, stats } = setup('RANDOM', hosts, zoneAware, {}, 'a');
    const share = shares();
    assert.ok(
      Math.abs(share((h) => h.locality?.zone === 'a') - 0.6) <= 0.03,
      `local ${share((h) => h.locality?.zone === 'a')}`,
    );
    assert.equal(
      share((h) => !h.healthy),
      0,
    );
    assert.ok(Math.abs(stats.lb_zone_routing_sampled.value / 10_000 - 0.6) <= 0.03);
    assert.ok(Math.abs(stats.lb_zone_routing_cross_zone.value / 10_000 - 0.4) <= 0.03);
  });

  it('is off below min_cluster_size, and for a proxy in no upstream zone', () => {
    const small = setup(
      'ROUND_ROBIN',
      hostsOf(),
      { zoneAware: { routingEnabledPercent: 100, minClusterSize: 7 } },
      {},
      'a',
    );
    assert.ok(small.shares(3000)((h) => h.locality?.zone === 'a') < 0.4);
    assert.equal(small.stats.lb_zone_cluster_too_small.value, 3000);
    const elsewhere = setup('ROUND_ROBIN', hostsOf(), zoneAware, {}, 'z');
    assert.ok(elsewhere.shares(3000)((h) => h.locality?.zone === 'a') < 0.4);
  });

  it('routes only routing_enabled percent of requests by zone', () => {
    const { shares } = setup(
      'RANDOM',
      hostsOf(),
      { zoneAware: { routingEnabledPercent: 50, minClusterSize: 6 } },
      {},
      'a',
    );
    // Half zone-routed (all to a) + half over all hosts (1/3 to a) = 2/3.
    assert.ok(Math.abs(shares()((h) => h.locality?.zone === 'a') - 2 / 3) <= 0.03);
  });
});

describe('slow start', () => {
  for (const policy of ['ROUND_ROBIN', 'LEAST_REQUEST'] as const) {
    it(`${policy}: a host added later ramps from min_weight_percent to its full weight over the window`, () => {
      const clock = createManualClock();
      const stats = createClusterStats(new StatsStore(), 'c');
      const slowStart = { windowMs: 10_000, aggression: 1, minWeightPercent: 10 };
      const lb = createClusterLoadBalancer(
        policy,
        { ...DEFAULT_LB_CONFIG, slowStart },
        { random: seededRandom(2), stats, localLocality: null, clock },
      );
      const [a, b, c] = [testHostAt('10.0.0.1', {}), testHostAt('10.0.0.2', {}), testHostAt('10.0.0.3', {})];
      lb.hostsChanged([a, b]); // the first host set: not in slow start
      const shareOfC = () => {
        let n = 0;
        for (let i = 0; i < 4200; i++) if (lb.chooseHost() === c) n++;
        return n / 4200;
      };
      lb.hostsChanged([a, b, c]);
      // Weights 1, 1, 0.1 at the start; 1, 1, 0.5 halfway; 1, 1, 1 after the window.
      assert.ok(Math.abs(shareOfC() - 0.1 / 2.1) <= 0.02, `start ${shareOfC()}`);
      clock.advance(5_000);
      assert.ok(Math.abs(shareOfC() - 0.5 / 2.5) <= 0.02, `halfway ${shareOfC()}`);
      clock.advance(5_000);
      assert.ok(Math.abs(shareOfC() - 1 / 3) <= 0.02, `after ${shareOfC()}`);
      // A host kept across an update does not restart its window.
      lb.hostsChanged([a, b, c]);
      assert.ok(Math.abs(shareOfC() - 1 / 3) <= 0.02);
    });
  }

  it('aggression bends the ramp: (t / window)^(1 / aggression)', () => {
    const clock = createManualClock();
    const lb = createClusterLoadBalancer(
      'ROUND_ROBIN',
      { ...DEFAULT_LB_CONFIG, slowStart: { windowMs: 10_000, aggression: 2, minWeightPercent: 1 } },
      {
        random: seededRandom(2),
        stats: createClusterStats(new StatsStore(), 'c'),
        localLocality: null,
        clock,
      },
    );
    const [a, c] = [testHostAt('10.0.0.1', {}), testHostAt('10.0.0.3', {})];
    lb.hostsChanged([a]);
    lb.hostsChanged([a, c]);
    clock.advance(2_500); // (0.25)^(1/2) = 0.5
    let n = 0;
    for (let i = 0; i < 3000; i++) if (lb.chooseHost() === c) n++;
    assert.ok(Math.abs(n / 3000 - 0.5 / 1.5) <= 0.02, `share ${n / 3000}`);
  });
});
