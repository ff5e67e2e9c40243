import { describeLoadBalancerProperties } from './load-balancer-properties.js';
import { createRandomLoadBalancer } from './random.js';

describeLoadBalancerProperties('random', (hosts, o) =>
  createRandomLoadBalancer(hosts, o.random, o.ignoreHealth),
);
