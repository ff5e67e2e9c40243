// Validation of a cluster's health_checks and outlier_detection: Envoy's defaults, each
// kind of check, and refused fields named by their full path.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConfigIssue } from '../core/errors.js';
import { validateCluster } from './validate-cluster.js';
import { DEFAULT_OUTLIER_DETECTION } from './validate-outlier-detection.js';

function cluster(extra: Record<string, unknown>) {
  const issues: ConfigIssue[] = [];
  const c = validateCluster(
    {
      name: 'c',
      load_assignment: {
        endpoints: [
          {
            lb_endpoints: [
              { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 1 } } } },
            ],
          },
        ],
      },
      ...extra,
    },
    'clusters[0]',
    issues,
  );
  return { c, issues: issues.map((i) => `${i.path}: ${i.message}`) };
}

const timing = { timeout: '1s', interval: '5s', unhealthy_threshold: 3, healthy_threshold: 2 };

describe('health_checks', () => {
  test('absent: not set on the model', () => {
    assert.equal(cluster({}).c.healthChecks, undefined);
    assert.equal(cluster({}).c.outlierDetection, undefined);
  });

  test('HTTP check with Envoy defaults for the optional intervals', () => {
    const { c, issues } = cluster({
      health_checks: [
        {
          ...timing,
          unhealthy_interval: '10s',
          http_health_check: {
            path: '/healthz',
            request_headers_to_add: [{ header: { key: 'X-Check', value: '1' } }],
            request_headers_to_remove: ['user-agent'],
          },
        },
      ],
    });
    assert.deepEqual(issues, []);
    const hc = c.healthChecks![0];
    assert.equal(hc.timeoutMs, 1000);
    assert.equal(hc.intervalMs, 5000);
    assert.equal(hc.noTrafficIntervalMs, 60_000);
    assert.equal(hc.noTrafficHealthyIntervalMs, 60_000);
    assert.equal(hc.unhealthyIntervalMs, 10_000);
    assert.equal(hc.unhealthyEdgeIntervalMs, 10_000, 'defaults to unhealthy_interval');
    assert.equal(hc.healthyEdgeIntervalMs, 5000, 'defaults to interval');
    assert.equal(hc.reuseConnection, true);
    assert.deepEqual(hc.checker.kind === 'http' && hc.checker.expectedStatuses, [{ start: 200, end: 201 }]);
    assert.deepEqual(hc.checker.kind === 'http' && hc.checker.requestHeadersToRemove, ['user-agent']);
  });

  test('TCP payloads (hex text and base64 binary) and gRPC', () => {
    const { c, issues } = cluster({
      health_checks: [
        { ...timing, tcp_health_check: { send: { text: '70696E67' }, receive: [{ binary: 'cG9uZw==' }] } },
      ],
    });
    assert.deepEqual(issues, []);
    const t = c.healthChecks![0].checker;
    assert.equal(t.kind === 'tcp' && t.send?.toString(), 'ping');
    assert.equal(t.kind === 'tcp' && t.receive[0].toString(), 'pong');
    const g = cluster({ health_checks: [{ ...timing, grpc_health_check: { service_name: 'a.B' } }] });
    assert.deepEqual(g.issues, []);
    assert.deepEqual(g.c.healthChecks![0].checker, { kind: 'grpc', serviceName: 'a.B', authority: '' });
  });

  test('required fields, bad values and unsupported options are named by path', () => {
    const { issues } = cluster({
      health_checks: [
        {
          interval: '0s',
          event_log_path: '/tmp/hc.log',
          http_health_check: {
            path: 'healthz',
            codec_client_type: 'HTTP2',
            expected_statuses: [{ start: 200, end: 200 }],
            service_name_matcher: { exact: 'x' },
          },
        },
      ],
    });
    assert.deepEqual(issues, [
      'clusters[0].health_checks[0].timeout: is required',
      'clusters[0].health_checks[0].interval: must be greater than 0s',
      'clusters[0].health_checks[0].unhealthy_threshold: is required',
      'clusters[0].health_checks[0].healthy_threshold: is required',
      'clusters[0].health_checks[0].event_log_path: health-check event logs are not supported by Weft; remove it',
      "clusters[0].health_checks[0].http_health_check.path: must start with '/'",
      "clusters[0].health_checks[0].http_health_check.codec_client_type: 'HTTP2' is not supported by Weft; supported: HTTP1",
      'clusters[0].health_checks[0].http_health_check.expected_statuses[0]: expected 100 <= start < end <= 600 (end exclusive), got [200, 200)',
      'clusters[0].health_checks[0].http_health_check.service_name_matcher: unsupported field',
    ]);
  });

  test('no checker, two checks, and a bad payload', () => {
    const { issues } = cluster({
      health_checks: [timing, { ...timing, tcp_health_check: { send: { text: 'abc' } } }],
    });
    assert.deepEqual(issues, [
      'clusters[0].health_checks[0]: one of http_health_check, tcp_health_check or grpc_health_check is required',
      'clusters[0].health_checks[1].tcp_health_check.send.text: expected a non-empty hex string with an even number of digits',
      'clusters[0].health_checks: only one health check per cluster is supported (as in Envoy)',
    ]);
  });
});

describe('outlier_detection', () => {
  test('empty: Envoy defaults', () => {
    const { c, issues } = cluster({ outlier_detection: {} });
    assert.deepEqual(issues, []);
    assert.deepEqual(c.outlierDetection, DEFAULT_OUTLIER_DETECTION);
  });

  test('fields read, max_ejection_time defaults to base_ejection_time when larger', () => {
    const { c, issues } = cluster({
      outlier_detection: {
        consecutive_5xx: 3,
        interval: '1s',
        base_ejection_time: '400s',
        max_ejection_percent: 50,
        success_rate_stdev_factor: 1000,
        split_external_local_origin_errors: true,
        enforcing_failure_percentage: 100,
      },
    });
    assert.deepEqual(issues, []);
    const od = c.outlierDetection!;
    assert.equal(od.consecutive5xx, 3);
    assert.equal(od.intervalMs, 1000);
    assert.equal(od.maxEjectionTimeMs, 400_000);
    assert.equal(od.maxEjectionPercent, 50);
    assert.equal(od.successRateStdevFactor, 1);
    assert.equal(od.splitExternalLocalOriginErrors, true);
    assert.equal(od.enforcingFailurePercentage, 100);
  });

  test('bad percentages, a cap below the base and unsupported fields', () => {
    const { issues } = cluster({
      outlier_detection: {
        max_ejection_percent: 101,
        base_ejection_time: '10s',
        max_ejection_time: '5s',
        detect_degraded_hosts: true,
        bogus: 1,
      },
    });
    assert.deepEqual(issues, [
      'clusters[0].outlier_detection.max_ejection_time: must not be smaller than base_ejection_time',
      'clusters[0].outlier_detection.detect_degraded_hosts: is not supported by Weft; remove it',
      'clusters[0].outlier_detection.max_ejection_percent: must be between 0 and 100, got 101',
      'clusters[0].outlier_detection.bogus: unsupported field',
    ]);
  });
});
