// A shared test suite every LoadBalancer implementation must pass (imported by each
// balancer's *.test.ts): weights honoured, unhealthy hosts never picked, empty or
// all-unhealthy → null, host-list changes take effect. Tolerance: over N = 1000 × total
// weight picks each host's share is within 2% (absolute) of weight / total weight.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Host } from '../host.js';
import { testHost } from '../testing/fixtures.js';
import type { LoadBalancer } from './load-balancer.js';

export type TestLoadBalancerFactory = (hosts: readonly Host[]) => LoadBalancer;

function pickCounts(lb: LoadBalancer, picks: number): Map<Host | null, number> {
  const counts = new Map<Host | null, number>();
  for (let i = 0; i < picks; i++) {
    const h = lb.chooseHost();
    counts.set(h, (counts.get(h) ?? 0) + 1);
  }
  return counts;
}

export function describeLoadBalancerProperties(name: string, factory: TestLoadBalancerFactory): void {
  describe(`${name}: load balancer properties`, () => {
    it('returns null with no hosts', () => {
      const lb = factory([]);
      assert.equal(lb.chooseHost(), null);
    });

    it('returns null when every host is unhealthy', () => {
      const lb = factory([testHost('10.0.0.1', 1, false), testHost('10.0.0.2', 3, false)]);
      assert.equal(lb.chooseHost(), null);
    });

    it('spreads equal weights evenly', () => {
      const hosts = [testHost('10.0.0.1'), testHost('10.0.0.2'), testHost('10.0.0.3')];
      const counts = pickCounts(factory(hosts), 3000);
      for (const h of hosts) {
        const share = (counts.get(h) ?? 0) / 3000;
        assert.ok(Math.abs(share - 1 / 3) <= 0.02, `${h.address} share ${share}`);
      }
    });

    it('honours weights within 2%', () => {
      const weights = [1, 2, 3, 4];
      const hosts = weights.map((w, i) => testHost(`10.0.0.${i + 1}`, w));
      const total = 10;
      const picks = 1000 * total;
      const counts = pickCounts(factory(hosts), picks);
      for (const h of hosts) {
        const share = (counts.get(h) ?? 0) / picks;
        assert.ok(
          Math.abs(share - h.weight / total) <= 0.02,
          `${h.address} weight ${h.weight} share ${share}`,
        );
      }
    });

    it('never picks an unhealthy host, and picks it again once healthy', () => {
      const hosts = [testHost('10.0.0.1', 1), testHost('10.0.0.2', 5, false), testHost('10.0.0.3', 2)];
      const lb = factory(hosts);
      const counts = pickCounts(lb, 800);
      assert.equal(counts.get(hosts[1]) ?? 0, 0);
      assert.equal(counts.get(null) ?? 0, 0);
      hosts[1].healthy = true;
      assert.ok((pickCounts(lb, 800).get(hosts[1]) ?? 0) > 0);
    });

    it('uses only the new hosts after hostsChanged', () => {
      const a = [testHost('10.0.0.1'), testHost('10.0.0.2', 2)];
      const b = [testHost('10.0.1.1'), testHost('10.0.1.2')];
      const lb = factory(a);
      lb.chooseHost();
      lb.hostsChanged(b);
      const counts = pickCounts(lb, 100);
      for (const h of a) assert.equal(counts.get(h) ?? 0, 0);
      assert.equal((counts.get(b[0]) ?? 0) + (counts.get(b[1]) ?? 0), 100);
      lb.hostsChanged([]);
      assert.equal(lb.chooseHost(), null);
    });
  });
}
