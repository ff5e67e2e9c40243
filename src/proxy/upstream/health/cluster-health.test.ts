// Health wiring in UpstreamCluster: hosts of an actively checked cluster start failed and
// pending, the cluster warms on their first checks, EDS health and active health combine
// into one set of flags, removed hosts and drained clusters stop being checked, and the
// router's results reach outlier detection through `host.outlier`.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { ClusterLoadAssignment, HealthCheck } from '../../../config/model.js';
import { DEFAULT_OUTLIER_DETECTION } from '../../../config/validate-outlier-detection.js';
import { StatsStore } from '../../stats/store.js';
import { createUpstreamCluster } from '../cluster.js';
import { clusterConfig, createFakeResolver, endpoint } from '../testing/fixtures.js';
import { createManualClock } from '../testing/manual-clock.js';
import { formatHealthFlags } from './health-flags.js';

const server = createServer((_req, res) => res.end('ok'));
let port = 0;
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const check: HealthCheck = {
  timeoutMs: 1_000,
  intervalMs: 5_000,
  initialJitterMs: 0,
  intervalJitterMs: 0,
  intervalJitterPercent: 0,
  unhealthyThreshold: 1,
  healthyThreshold: 1,
  reuseConnection: true,
  noTrafficIntervalMs: 5_000,
  noTrafficHealthyIntervalMs: 5_000,
  unhealthyIntervalMs: 5_000,
  unhealthyEdgeIntervalMs: 5_000,
  healthyEdgeIntervalMs: 5_000,
  alwaysLogHealthCheckFailures: false,
  checker: {
    kind: 'http',
    host: '',
    path: '/',
    method: 'GET',
    expectedStatuses: [{ start: 200, end: 201 }],
    retriableStatuses: [],
    requestHeadersToAdd: [],
    requestHeadersToRemove: [],
  },
};

function deps() {
  return {
    stats: new StatsStore(),
    clock: createManualClock(),
    resolver: createFakeResolver(),
    random: () => 0,
  };
}

describe('cluster health', () => {
  it('starts hosts failed and pending, warms on the first checks, stops checking when drained', async () => {
    const d = deps();
    const c = createUpstreamCluster(
      clusterConfig('web', [endpoint('127.0.0.1', port)], {
        healthChecks: [check],
        outlierDetection: DEFAULT_OUTLIER_DETECTION,
      }),
      d,
    );
    const [host] = c.hosts;
    assert.equal(formatHealthFlags(host.healthFlags), '/failed_active_hc/pending_active_hc');
    // Every host failed: below the panic threshold, the balancer routes to all of them
    // (Envoy's healthy_panic_threshold); the cluster is still warming, so no listener uses it yet.
    assert.equal(c.chooseHost(), host);
    assert.equal(d.stats.counter('cluster.web.lb_healthy_panic').value, 1);
    assert.equal(d.stats.gauge('cluster.web.membership_healthy').value, 0);
    await c.initialized;
    assert.equal(formatHealthFlags(host.healthFlags), 'healthy');
    assert.equal(c.chooseHost(), host);
    assert.equal(d.stats.gauge('cluster.web.membership_healthy').value, 1);
    assert.equal(host.outlier, c.outlierDetector!.monitor(host));
    c.drain();
    assert.equal(d.clock.pendingTimers, 0, 'no health-check or outlier timer left');
  });

  it('EDS: status and active checks combine; a removed host stops being checked', async () => {
    const d = deps();
    const c = createUpstreamCluster(clusterConfig('eds', [], { type: 'EDS', healthChecks: [check] }), d);
    const assignment = (status: 'HEALTHY' | 'UNHEALTHY', ports: number[]): ClusterLoadAssignment => ({
      clusterName: 'eds',
      endpoints: [
        {
          locality: null,
          loadBalancingWeight: null,
          priority: 0,
          lbEndpoints: ports.map((p) => endpoint('127.0.0.1', p, 1, status)),
        },
      ],
    });
    c.updateEndpoints(assignment('UNHEALTHY', [port]));
    const [host] = c.hosts;
    await c.healthChecker!.idle();
    assert.equal(
      formatHealthFlags(host.healthFlags),
      '/failed_eds_health',
      'the check passed; EDS still says no',
    );
    c.updateEndpoints(assignment('HEALTHY', [port]));
    assert.equal(c.hosts[0], host);
    assert.equal(host.healthy, true);
    assert.equal(d.stats.gauge('cluster.eds.health_check.healthy').value, 1);
    c.updateEndpoints(assignment('HEALTHY', []));
    assert.equal(d.clock.pendingTimers, 0, 'the removed host has no check scheduled');
    assert.equal(d.stats.gauge('cluster.eds.health_check.healthy').value, 0);
    c.close();
  });
});
