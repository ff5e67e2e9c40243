import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testHost } from '../testing/fixtures.js';
import { describeLoadBalancerProperties } from './load-balancer-properties.js';
import { createRoundRobinLoadBalancer } from './round-robin.js';

describeLoadBalancerProperties('round robin', (hosts, o) =>
  createRoundRobinLoadBalancer(hosts, o.random, o.ignoreHealth),
);

describe('round robin', () => {
  it('interleaves weights smoothly (5,1,1 → a a b a c a a)', () => {
    const [a, b, c] = [testHost('10.0.0.1', 5), testHost('10.0.0.2', 1), testHost('10.0.0.3', 1)];
    const lb = createRoundRobinLoadBalancer([a, b, c], () => 0);
    const seq = Array.from({ length: 14 }, () => lb.chooseHost()?.address);
    const one = ['10.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.1', '10.0.0.3', '10.0.0.1', '10.0.0.1'];
    assert.deepEqual(seq, [...one, ...one]);
  });

  it('is exact over every window of total weight', () => {
    const hosts = [testHost('10.0.0.1', 3), testHost('10.0.0.2', 2), testHost('10.0.0.3', 1)];
    const lb = createRoundRobinLoadBalancer(hosts, () => 0);
    for (let round = 0; round < 5; round++) {
      const counts = [0, 0, 0];
      for (let i = 0; i < 6; i++) counts[hosts.indexOf(lb.chooseHost()!)]++;
      assert.deepEqual(counts, [3, 2, 1]);
    }
  });

  it('rotates equal weights from a random start, skipping unhealthy hosts', () => {
    const hosts = [
      testHost('10.0.0.1'),
      testHost('10.0.0.2', 1, false),
      testHost('10.0.0.3'),
      testHost('10.0.0.4'),
    ];
    const lb = createRoundRobinLoadBalancer(hosts, () => 0.3); // start index 1
    const seq = Array.from({ length: 6 }, () => lb.chooseHost()?.address);
    assert.deepEqual(seq, ['10.0.0.3', '10.0.0.4', '10.0.0.1', '10.0.0.3', '10.0.0.4', '10.0.0.1']);
  });
});
