import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testHost } from '../testing/fixtures.js';
import {
  describeConsistentHashProperties,
  describeLoadBalancerProperties,
  seededRandom,
} from './load-balancer-properties.js';
import { createRingHashLoadBalancer, DEFAULT_RING_HASH } from './ring-hash.js';
import { xxHash64 } from './xxhash64.js';

// A 1024-point ring gives each of 4 hosts 100-400 arcs of random length: shares are within 4%.
describeLoadBalancerProperties(
  'ring hash',
  (hosts, o) => createRingHashLoadBalancer(hosts, DEFAULT_RING_HASH, o.random, o.ignoreHealth),
  { hashing: true, tolerance: 0.04 },
);
// Envoy sizes the ring from the smallest normalized weight, so with N equal hosts each has
// ceil(1024 / N) points: going from 10 to 11 hosts every host drops from 103 to 94 points
// and the dropped arcs' keys move too. Measured with 20 000 keys: 14.1% moved on adding
// (ideal 1/11 = 9.1%; 5.9% between hosts that stay), 7.0% of the other keys on removing.
// Bound asserted: 1/(N+1) + 8%.
describeConsistentHashProperties(
  'ring hash',
  (hosts, o) => createRingHashLoadBalancer(hosts, DEFAULT_RING_HASH, o.random, o.ignoreHealth),
  0.08,
);

describe('ring hash', () => {
  it('places xxHash64("<ip:port>_<k>") points and picks the first point at or after the key', () => {
    const a = testHost('10.0.0.1');
    const lb = createRingHashLoadBalancer([a], { minimumRingSize: 4, maximumRingSize: 4 }, seededRandom(1));
    assert.equal(lb.chooseHost({ hashKey: xxHash64('10.0.0.1:80_0') }), a);
    assert.equal((lb as unknown as { size: number }).size, 4);
  });

  it('sizes the ring by the smallest normalized weight, capped by maximum_ring_size', () => {
    const hosts = [testHost('10.0.0.1', 1), testHost('10.0.0.2', 9)];
    const lb = createRingHashLoadBalancer(
      hosts,
      { minimumRingSize: 100, maximumRingSize: 8_388_608 },
      Math.random,
    );
    lb.chooseHost();
    // min weight 0.1: ceil(0.1 × 100) / 0.1 = 100 points, 10 for the first host.
    assert.equal((lb as unknown as { size: number }).size, 100);
    const capped = createRingHashLoadBalancer(
      hosts,
      { minimumRingSize: 100, maximumRingSize: 50 },
      Math.random,
    );
    capped.chooseHost();
    assert.equal((capped as unknown as { size: number }).size, 50);
  });
});
