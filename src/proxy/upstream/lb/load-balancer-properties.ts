// A shared test suite every LoadBalancer implementation must pass (imported by each
// balancer's *.test.ts): weights honoured, unhealthy hosts never picked, empty or
// all-unhealthy → null, host-list changes take effect, panic mode (ignoreHealth) picks
// unhealthy hosts too. Weights: over N = 1000 × total weight picks (hashing balancers: one
// distinct random key per pick) each host's share is within `tolerance` (absolute; 2%
// unless the balancer states otherwise) of weight / total weight.
//
// Consistent-hash balancers also run describeConsistentHashProperties: with N equal hosts
// and 20 000 random keys, adding one host moves at most 1/(N+1) + `slack` of the keys,
// removing one moves the removed host's keys plus at most `slack` of the others.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../../core/seeded-random.js';
import type { Host } from '../host.js';
import { testHost } from '../testing/fixtures.js';
import type { LoadBalancer, LoadBalancerContext, LoadBalancerOptions } from './load-balancer.js';

export type TestLoadBalancerFactory = (hosts: readonly Host[], options: LoadBalancerOptions) => LoadBalancer;

export interface PropertyOptions {
  /** Picks carry a distinct random hash key each. */
  readonly hashing?: boolean;
  /** Allowed absolute deviation of a host's share from its weight share; default 0.02. */
  readonly tolerance?: number;
}

/** `count` pseudo-random 64-bit hash keys from `seed`. */
export function randomKeys(count: number, seed: number): bigint[] {
  const r = seededRandom(seed);
  const keys: bigint[] = [];
  for (let i = 0; i < count; i++) {
    const hi = BigInt(Math.floor(r() * 4294967296));
    const lo = BigInt(Math.floor(r() * 4294967296));
    keys.push((hi << 32n) | lo);
  }
  return keys;
}

function pickCounts(lb: LoadBalancer, picks: number, hashing: boolean): Map<Host | null, number> {
  const counts = new Map<Host | null, number>();
  const keys = hashing ? randomKeys(picks, 7) : null;
  const context: { hashKey: bigint | null } = { hashKey: null };
  for (let i = 0; i < picks; i++) {
    if (keys !== null) context.hashKey = keys[i];
    const h = lb.chooseHost(context);
    counts.set(h, (counts.get(h) ?? 0) + 1);
  }
  return counts;
}

export function describeLoadBalancerProperties(
  name: string,
  factory: TestLoadBalancerFactory,
  props: PropertyOptions = {},
): void {
  const hashing = props.hashing ?? false;
  const tolerance = props.tolerance ?? 0.02;
  const make = (hosts: readonly Host[], ignoreHealth = false) =>
    factory(hosts, { random: seededRandom(42), ignoreHealth });

  describe(`${name}: load balancer properties`, () => {
    it('returns null with no hosts', () => {
      const lb = make([]);
      assert.equal(lb.chooseHost(), null);
    });

    it('returns null when every host is unhealthy', () => {
      const lb = make([testHost('10.0.0.1', 1, false), testHost('10.0.0.2', 3, false)]);
      assert.equal(lb.chooseHost({ hashKey: 12345n }), null);
      assert.equal(lb.chooseHost(), null);
    });

    it(`spreads equal weights evenly (within ${tolerance * 100}%)`, () => {
      const hosts = [testHost('10.0.0.1'), testHost('10.0.0.2'), testHost('10.0.0.3')];
      const counts = pickCounts(make(hosts), 3000, hashing);
      for (const h of hosts) {
        const share = (counts.get(h) ?? 0) / 3000;
        assert.ok(Math.abs(share - 1 / 3) <= tolerance, `${h.address} share ${share}`);
      }
    });

    it(`honours weights within ${tolerance * 100}%`, () => {
      const weights = [1, 2, 3, 4];
      const hosts = weights.map((w, i) => testHost(`10.0.0.${i + 1}`, w));
      const total = 10;
      const picks = 1000 * total;
      const counts = pickCounts(make(hosts), picks, hashing);
      for (const h of hosts) {
        const share = (counts.get(h) ?? 0) / picks;
        assert.ok(
          Math.abs(share - h.weight / total) <= tolerance,
          `${h.address} weight ${h.weight} share ${share}`,
        );
      }
    });

    it('never picks an unhealthy host, and picks it again once healthy', () => {
      const hosts = [testHost('10.0.0.1', 1), testHost('10.0.0.2', 5, false), testHost('10.0.0.3', 2)];
      const lb = make(hosts);
      const counts = pickCounts(lb, 800, hashing);
      assert.equal(counts.get(hosts[1]) ?? 0, 0);
      assert.equal(counts.get(null) ?? 0, 0);
      hosts[1].healthy = true;
      assert.ok((pickCounts(lb, 800, hashing).get(hosts[1]) ?? 0) > 0);
    });

    it('in panic mode (ignoreHealth) picks unhealthy hosts by weight too', () => {
      const hosts = [testHost('10.0.0.1', 1, false), testHost('10.0.0.2', 1, false)];
      const counts = pickCounts(make(hosts, true), 2000, hashing);
      assert.equal(counts.get(null) ?? 0, 0);
      for (const h of hosts) assert.ok(Math.abs((counts.get(h) ?? 0) / 2000 - 0.5) <= tolerance);
    });

    it('uses only the new hosts after hostsChanged', () => {
      const a = [testHost('10.0.0.1'), testHost('10.0.0.2', 2)];
      const b = [testHost('10.0.1.1'), testHost('10.0.1.2')];
      const lb = make(a);
      lb.chooseHost();
      lb.hostsChanged(b);
      const counts = pickCounts(lb, 100, hashing);
      for (const h of a) assert.equal(counts.get(h) ?? 0, 0);
      assert.equal((counts.get(b[0]) ?? 0) + (counts.get(b[1]) ?? 0), 100);
      lb.hostsChanged([]);
      assert.equal(lb.chooseHost(), null);
    });

    if (hashing) {
      it('maps a key to the same host every time, and picks at random without a key', () => {
        const hosts = [testHost('10.0.0.1'), testHost('10.0.0.2'), testHost('10.0.0.3')];
        const lb = make(hosts);
        for (const key of randomKeys(50, 3)) {
          const first = lb.chooseHost({ hashKey: key });
          for (let i = 0; i < 5; i++) assert.equal(lb.chooseHost({ hashKey: key }), first);
        }
        const counts = pickCounts(lb, 3000, false);
        for (const h of hosts) assert.ok(Math.abs((counts.get(h) ?? 0) / 3000 - 1 / 3) <= tolerance);
      });
    }
  });
}

const KEY_COUNT = 20_000;

function assignment(lb: LoadBalancer, keys: readonly bigint[]): (Host | null)[] {
  const context: LoadBalancerContext & { hashKey: bigint | null } = { hashKey: null };
  return keys.map((k) => {
    context.hashKey = k;
    return lb.chooseHost(context);
  });
}

/** Key movement bounds of a consistent-hash balancer (see the header comment). */
export function describeConsistentHashProperties(
  name: string,
  factory: TestLoadBalancerFactory,
  slack: number,
): void {
  describe(`${name}: consistent hashing`, () => {
    const N = 10;
    const keys = randomKeys(KEY_COUNT, 11);
    const hostsOf = (n: number) => Array.from({ length: n }, (_, i) => testHost(`10.1.0.${i + 1}`));

    it(`adding a host to ${N} moves at most 1/(N+1) + ${slack * 100}% of the keys, onto the new host`, () => {
      const hosts = hostsOf(N + 1);
      const lb = factory(hosts.slice(0, N), { random: seededRandom(1) });
      const before = assignment(lb, keys);
      lb.hostsChanged(hosts);
      const after = assignment(lb, keys);
      let moved = 0;
      let movedElsewhere = 0;
      for (let i = 0; i < keys.length; i++) {
        if (before[i] === after[i]) continue;
        moved++;
        if (after[i] !== hosts[N]) movedElsewhere++;
      }
      assert.ok(moved / keys.length <= 1 / (N + 1) + slack, `moved ${moved / keys.length}`);
      assert.ok(
        movedElsewhere / keys.length <= slack,
        `moved between old hosts ${movedElsewhere / keys.length}`,
      );
      assert.ok(moved > 0, 'the new host takes some keys');
    });

    it(`removing one of ${N} hosts moves its keys and at most ${slack * 100}% of the others`, () => {
      const hosts = hostsOf(N);
      const lb = factory(hosts, { random: seededRandom(1) });
      const before = assignment(lb, keys);
      lb.hostsChanged(hosts.slice(1));
      const after = assignment(lb, keys);
      let others = 0;
      for (let i = 0; i < keys.length; i++) {
        assert.notEqual(after[i], hosts[0]);
        if (before[i] !== hosts[0] && before[i] !== after[i]) others++;
      }
      assert.ok(others / keys.length <= slack, `other keys moved ${others / keys.length}`);
    });

    it('an unhealthy host moves only its own keys (up to the slack), and they come back', () => {
      const hosts = hostsOf(N);
      const lb = factory(hosts, { random: seededRandom(1) });
      const before = assignment(lb, keys);
      hosts[3].healthy = false;
      const during = assignment(lb, keys);
      let others = 0;
      for (let i = 0; i < keys.length; i++) {
        assert.notEqual(during[i], hosts[3]);
        if (before[i] !== hosts[3] && before[i] !== during[i]) others++;
      }
      assert.ok(others / keys.length <= slack, `other keys moved ${others / keys.length}`);
      hosts[3].healthy = true;
      assert.deepEqual(assignment(lb, keys), before);
    });
  });
}

/** Seeded randomness for balancer tests (core/seeded-random.ts), so every run sees the same sequence. */
export { seededRandom };
