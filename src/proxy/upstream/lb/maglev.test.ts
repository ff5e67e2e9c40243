import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testHost } from '../testing/fixtures.js';
import {
  describeConsistentHashProperties,
  describeLoadBalancerProperties,
  randomKeys,
  seededRandom,
} from './load-balancer-properties.js';
import { createMaglevLoadBalancer, DEFAULT_MAGLEV_TABLE_SIZE } from './maglev.js';

describeLoadBalancerProperties(
  'maglev',
  (hosts, o) => createMaglevLoadBalancer(hosts, DEFAULT_MAGLEV_TABLE_SIZE, o.random, o.ignoreHealth),
  { hashing: true },
);
// Maglev trades a little disruption for balance: the new host's slots displace a few
// slots between the hosts that stay. Measured with 10 → 11 hosts and 20 000 keys: 9.13%
// moved (ideal 9.09%), 0.13% between hosts that stay; 0.18% of the others on removal.
// Bound asserted: 1/(N+1) + 1%.
describeConsistentHashProperties(
  'maglev',
  (hosts, o) => createMaglevLoadBalancer(hosts, DEFAULT_MAGLEV_TABLE_SIZE, o.random, o.ignoreHealth),
  0.01,
);

describe('maglev', () => {
  it('fills every slot of a small prime table, each host getting about M / N', () => {
    const hosts = [testHost('10.0.0.1'), testHost('10.0.0.2'), testHost('10.0.0.3')];
    const lb = createMaglevLoadBalancer(hosts, 13, seededRandom(1));
    const counts = new Map<unknown, number>();
    for (let slot = 0; slot < 13; slot++) {
      const h = lb.chooseHost({ hashKey: BigInt(slot) });
      assert.ok(h !== null);
      counts.set(h, (counts.get(h) ?? 0) + 1);
    }
    for (const h of hosts) assert.ok((counts.get(h) ?? 0) >= 4 && (counts.get(h) ?? 0) <= 5);
  });

  it('uses hash mod table_size: keys M apart pick the same host', () => {
    const hosts = [testHost('10.0.0.1'), testHost('10.0.0.2'), testHost('10.0.0.3')];
    const lb = createMaglevLoadBalancer(hosts, 13, seededRandom(1));
    for (const k of randomKeys(20, 5))
      assert.equal(lb.chooseHost({ hashKey: k }), lb.chooseHost({ hashKey: k + 13n }));
  });
});
