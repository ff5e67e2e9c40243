import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testHost } from '../testing/fixtures.js';
import { createLeastRequestLoadBalancer, DEFAULT_LEAST_REQUEST } from './least-request.js';
import { describeLoadBalancerProperties, seededRandom } from './load-balancer-properties.js';

describeLoadBalancerProperties('least request', (hosts, o) =>
  createLeastRequestLoadBalancer(hosts, DEFAULT_LEAST_REQUEST, o.random, o.ignoreHealth),
);

describe('least request', () => {
  it('with equal weights, picks the less loaded of two random hosts', () => {
    const hosts = [testHost('10.0.0.1'), testHost('10.0.0.2')];
    hosts[0].stats.rqActive = 5;
    const lb = createLeastRequestLoadBalancer(hosts, DEFAULT_LEAST_REQUEST, seededRandom(3));
    let busy = 0;
    for (let i = 0; i < 1000; i++) if (lb.chooseHost() === hosts[0]) busy++;
    // The busy host wins only when both draws are it: 1/4 of the picks.
    assert.ok(busy > 180 && busy < 320, `busy host picked ${busy}`);
  });

  it('with choice_count = number of hosts, never picks a busier host when an idle one exists', () => {
    const hosts = [testHost('10.0.0.1'), testHost('10.0.0.2'), testHost('10.0.0.3')];
    hosts[0].stats.rqActive = 2;
    hosts[2].stats.rqActive = 1;
    const lb = createLeastRequestLoadBalancer(
      hosts,
      { choiceCount: 50, activeRequestBias: 1 },
      seededRandom(3),
    );
    for (let i = 0; i < 100; i++) assert.equal(lb.chooseHost(), hosts[1]);
  });

  it('with different weights, divides each weight by (active + 1)^bias', () => {
    const hosts = [testHost('10.0.0.1', 2), testHost('10.0.0.2', 1)];
    hosts[0].stats.rqActive = 3; // effective weight 2 / 4 = 0.5 against 1
    const lb = createLeastRequestLoadBalancer(hosts, DEFAULT_LEAST_REQUEST, seededRandom(3));
    const counts = [0, 0];
    for (let i = 0; i < 300; i++) counts[hosts.indexOf(lb.chooseHost()!)]++;
    assert.deepEqual(counts, [100, 200]);
    const plain = createLeastRequestLoadBalancer(
      hosts,
      { choiceCount: 2, activeRequestBias: 0 },
      seededRandom(3),
    );
    const plainCounts = [0, 0];
    for (let i = 0; i < 300; i++) plainCounts[hosts.indexOf(plain.chooseHost()!)]++;
    assert.deepEqual(plainCounts, [200, 100], 'bias 0 ignores the load');
  });
});
