// Unit tests of the outlier detector on a manual clock with fixed randomness: consecutive
// errors eject, ejection time grows with repeats and is capped, the multiplier decays,
// max_ejection_percent and enforcing percentages hold, and the success-rate and
// failure-percentage math gives the expected ejections for known inputs.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OutlierDetection } from '../../../config/model.js';
import { DEFAULT_OUTLIER_DETECTION } from '../../../config/validate-outlier-detection.js';
import { StatsStore } from '../../stats/store.js';
import type { Host } from '../host.js';
import { testHost } from '../testing/fixtures.js';
import { createManualClock, type ManualClock } from '../testing/manual-clock.js';
import { formatHealthFlags } from './health-flags.js';
import {
  createOutlierDetector,
  type OutlierDetector,
  OutlierResult,
  successRateEjectionThreshold,
} from './outlier-detector.js';

interface Setup {
  clock: ManualClock;
  stats: StatsStore;
  hosts: Host[];
  detector: OutlierDetector;
  changes: string[];
  stat(name: string): number;
}

function setup(n: number, overrides: Partial<OutlierDetection> = {}, random = () => 0): Setup {
  const clock = createManualClock();
  const stats = new StatsStore();
  const hosts = Array.from({ length: n }, (_, i) => testHost(`10.0.0.${i + 1}`));
  const changes: string[] = [];
  const detector = createOutlierDetector(
    { ...DEFAULT_OUTLIER_DETECTION, ...overrides },
    {
      clock,
      random,
      stats,
      clusterName: 'web',
      onHostHealthChanged: (h) => changes.push(`${h.address} ${h.healthy ? 'back' : 'out'}`),
    },
  );
  detector.hostsChanged(hosts);
  return {
    clock,
    stats,
    hosts,
    detector,
    changes,
    stat(name) {
      const full = `cluster.web.outlier_detection.${name}`;
      return name === 'ejections_active' ? stats.gauge(full).value : stats.counter(full).value;
    },
  };
}

function codes(host: Host, code: number, times: number): void {
  for (let i = 0; i < times; i++) host.outlier!.putHttpResponseCode(code);
}

describe('outlier detection: consecutive errors', () => {
  it('consecutive_5xx ejects at the threshold; a success in between resets the count', () => {
    const s = setup(2, { maxEjectionPercent: 50 });
    const [a] = s.hosts;
    codes(a, 500, 4);
    a.outlier!.putHttpResponseCode(200);
    codes(a, 503, 4);
    assert.equal(a.healthy, true);
    a.outlier!.putHttpResponseCode(502);
    assert.equal(a.healthy, false);
    assert.equal(formatHealthFlags(a.healthFlags), '/failed_outlier_check');
    assert.equal(s.stat('ejections_active'), 1);
    assert.equal(s.stat('ejections_enforced_total'), 1);
    assert.equal(s.stat('ejections_enforced_consecutive_5xx'), 1);
    assert.equal(s.stat('ejections_detected_consecutive_5xx'), 1);
    // Envoy's default enforcing_consecutive_gateway_failure is 0: detected, never enforced.
    assert.equal(s.stat('ejections_enforced_consecutive_gateway_failure'), 0);
    assert.deepEqual(s.changes, ['10.0.0.1 out']);
  });

  it('4xx answers are successes; a 5xx other than 502-504 breaks a gateway-failure run', () => {
    const s = setup(2, {
      maxEjectionPercent: 50,
      consecutive5xx: 0,
      consecutiveGatewayFailure: 3,
      enforcingConsecutiveGatewayFailure: 100,
    });
    const [a] = s.hosts;
    codes(a, 503, 2);
    codes(a, 500, 1);
    codes(a, 504, 2);
    codes(a, 404, 1);
    codes(a, 502, 2);
    assert.equal(a.healthy, true);
    codes(a, 502, 1);
    assert.equal(a.healthy, false);
    assert.equal(s.stat('ejections_enforced_consecutive_gateway_failure'), 1);
    assert.equal(s.stat('ejections_detected_consecutive_5xx'), 0);
  });

  it('an enforcing percentage of 0 detects without ejecting; the run can trigger again', () => {
    const s = setup(2, { maxEjectionPercent: 50, enforcingConsecutive5xx: 0 });
    const [a] = s.hosts;
    codes(a, 500, 10);
    assert.equal(a.healthy, true);
    assert.equal(s.stat('ejections_detected_consecutive_5xx'), 2);
    assert.equal(s.stat('ejections_enforced_total'), 0);
  });

  it('enforcing percentages sample the injected randomness', () => {
    let r = 0.5;
    const s = setup(2, { maxEjectionPercent: 50, enforcingConsecutive5xx: 40 }, () => r);
    const [a] = s.hosts;
    codes(a, 500, 5);
    assert.equal(a.healthy, true, '0.5 * 100 >= 40: not enforced');
    r = 0.39;
    codes(a, 500, 5);
    assert.equal(a.healthy, false, '0.39 * 100 < 40: enforced');
  });

  it('max_ejection_percent caps ejections (overflow counted); always_eject_one_host overrides it for one', () => {
    const s = setup(4, { maxEjectionPercent: 25 });
    const [a, b] = s.hosts;
    codes(a, 500, 5);
    codes(b, 500, 5);
    assert.equal(a.healthy, false);
    assert.equal(b.healthy, true);
    assert.equal(s.stat('ejections_active'), 1);
    assert.equal(s.stat('ejections_overflow'), 1);

    const t = setup(2, { maxEjectionPercent: 10 });
    codes(t.hosts[0], 500, 5);
    assert.equal(t.hosts[0].healthy, true, '1 of 2 hosts is 50% > 10%');
    const u = setup(2, { maxEjectionPercent: 10, alwaysEjectOneHost: true });
    codes(u.hosts[0], 500, 5);
    codes(u.hosts[1], 500, 5);
    assert.deepEqual(
      u.hosts.map((h) => h.healthy),
      [false, true],
    );
  });

  it('local-origin errors count as 503/504 without the split, and separately with it', () => {
    const s = setup(2, { maxEjectionPercent: 50 });
    const [a] = s.hosts;
    for (let i = 0; i < 3; i++) a.outlier!.putResult(OutlierResult.LocalOriginConnectFailed);
    // A plain connect success is not a result without the split: the run continues.
    a.outlier!.putResult(OutlierResult.LocalOriginConnectSuccess);
    a.outlier!.putResult(OutlierResult.LocalOriginTimeout);
    a.outlier!.putResult(OutlierResult.LocalOriginTimeout);
    assert.equal(a.healthy, false);
    assert.equal(s.stat('ejections_enforced_consecutive_5xx'), 1);

    const t = setup(2, {
      maxEjectionPercent: 50,
      splitExternalLocalOriginErrors: true,
      consecutiveLocalOriginFailure: 3,
    });
    const [b] = t.hosts;
    codes(b, 500, 4);
    b.outlier!.putResult(OutlierResult.LocalOriginConnectFailed);
    b.outlier!.putResult(OutlierResult.LocalOriginConnectFailed);
    b.outlier!.putResult(OutlierResult.LocalOriginConnectSuccess);
    b.outlier!.putResult(OutlierResult.LocalOriginConnectFailed);
    b.outlier!.putResult(OutlierResult.LocalOriginTimeout);
    assert.equal(b.healthy, true, 'the connect success reset the local-origin run; 4 × 500 is below 5');
    b.outlier!.putResult(OutlierResult.LocalOriginConnectFailed);
    assert.equal(b.healthy, false);
    assert.equal(t.stat('ejections_enforced_consecutive_local_origin_failure'), 1);
    assert.equal(t.stat('ejections_enforced_consecutive_5xx'), 0);
  });
});

describe('outlier detection: ejection time', () => {
  it('grows with repeated ejections (base × count), is capped by max_ejection_time, and decays', () => {
    const s = setup(2, {
      maxEjectionPercent: 50,
      intervalMs: 10_000,
      baseEjectionTimeMs: 30_000,
      maxEjectionTimeMs: 70_000,
    });
    const [a] = s.hosts;
    const m = s.detector.monitor(a)!;
    const ejectedFor = (): number => {
      codes(a, 500, 5);
      assert.equal(a.healthy, false);
      const start = s.clock.monotonic();
      while (!a.healthy) s.clock.advance(10_000);
      return s.clock.monotonic() - start;
    };
    assert.equal(ejectedFor(), 30_000);
    assert.equal(ejectedFor(), 60_000);
    assert.equal(ejectedFor(), 70_000, '90 s capped at 70 s');
    assert.equal(ejectedFor(), 70_000);
    assert.equal(m.numEjections, 4);
    assert.equal(m.ejectTimeMultiplier, 3, 'stops growing once base × multiplier reaches the cap');
    // Each whole interval spent back in rotation decays the multiplier by one.
    s.clock.advance(10_000);
    assert.equal(m.ejectTimeMultiplier, 2);
    s.clock.advance(20_000);
    assert.equal(m.ejectTimeMultiplier, 0);
    assert.equal(ejectedFor(), 30_000);
    assert.equal(s.stat('ejections_active'), 0);
    assert.equal(s.stat('ejections_enforced_total'), 5);
  });

  it('adds max_ejection_time_jitter from the injected randomness', () => {
    const s = setup(
      2,
      { maxEjectionPercent: 50, intervalMs: 1_000, maxEjectionTimeJitterMs: 9_999 },
      () => 0.5,
    );
    const [a] = s.hosts;
    codes(a, 500, 5);
    // enforcing: 0.5 * 100 < 100; jitter floor(0.5 * 10000) = 5000 → 35 s, returned at the 35 s tick.
    assert.equal(s.detector.ejectionPeriodMs(s.detector.monitor(a)!), 35_000);
    s.clock.advance(34_000);
    assert.equal(a.healthy, false);
    s.clock.advance(1_000);
    assert.equal(a.healthy, true);
  });

  it('a removed host leaves the ejection count; an active check success returns a host', () => {
    const s = setup(3, { maxEjectionPercent: 100 });
    const [a, b, c] = s.hosts;
    codes(a, 500, 5);
    codes(b, 500, 5);
    assert.equal(s.stat('ejections_active'), 2);
    s.detector.hostsChanged([b, c]);
    assert.equal(s.stat('ejections_active'), 1);
    assert.equal(a.outlier, null);
    assert.equal(a.healthy, true);
    s.detector.onActiveHealthCheckSuccess(b);
    assert.equal(b.healthy, true);
    assert.equal(s.stat('ejections_active'), 0);
  });
});

describe('outlier detection: success rate and failure percentage', () => {
  it('the threshold is mean − factor × stdev (Envoy’s worked example)', () => {
    const { mean, threshold } = successRateEjectionThreshold(450, [50, 100, 100, 100, 100], 1.9);
    assert.equal(mean, 90);
    assert.equal(threshold, 52);
  });

  it('ejects the host below the threshold at the interval, given enough hosts and volume', () => {
    const s = setup(6, { maxEjectionPercent: 100, intervalMs: 10_000, consecutive5xx: 0 });
    const [bad, ...good] = s.hosts;
    codes(bad, 200, 50);
    codes(bad, 500, 50);
    for (const h of good.slice(0, 4)) codes(h, 200, 100);
    // The sixth host has too little volume (99 < 100): it does not qualify.
    codes(good[4], 500, 4);
    codes(good[4], 200, 95);
    s.clock.advance(10_000);
    assert.equal(bad.healthy, false);
    assert.equal(s.stat('ejections_enforced_success_rate'), 1);
    assert.equal(s.stat('ejections_detected_success_rate'), 1);
    assert.equal(s.detector.externalNumbers.average, 90);
    assert.equal(s.detector.externalNumbers.ejectionThreshold, 52);
    assert.equal(s.detector.monitor(bad)!.external.rate, 50);
    assert.ok(good.every((h) => h.healthy));
  });

  it('does nothing with fewer qualifying hosts than success_rate_minimum_hosts', () => {
    const s = setup(6, { maxEjectionPercent: 100, consecutive5xx: 0 });
    const [bad, ...good] = s.hosts;
    codes(bad, 500, 100);
    for (const h of good.slice(0, 3)) codes(h, 200, 100);
    s.clock.advance(10_000);
    assert.equal(bad.healthy, true);
    assert.equal(s.detector.externalNumbers.ejectionThreshold, -1);
  });

  it('failure percentage ejects hosts failing at least the threshold (when enforced)', () => {
    const s = setup(5, {
      maxEjectionPercent: 100,
      consecutive5xx: 0,
      successRateMinimumHosts: 100,
      enforcingFailurePercentage: 100,
      failurePercentageThreshold: 85,
    });
    const [bad, border, fine, ...rest] = s.hosts;
    codes(bad, 500, 45);
    codes(bad, 200, 5); // 90% failures
    codes(border, 500, 40);
    codes(border, 200, 10); // 80%
    codes(fine, 200, 50);
    for (const h of rest) codes(h, 200, 50);
    s.clock.advance(10_000);
    assert.deepEqual(
      s.hosts.map((h) => h.healthy),
      [false, true, true, true, true],
    );
    assert.equal(s.stat('ejections_enforced_failure_percentage'), 1);
    // The counters start over each interval: the same host's next interval is judged alone.
    s.clock.advance(30_000);
    assert.equal(bad.healthy, true);
    codes(bad, 200, 50);
    for (const h of s.hosts.slice(1)) codes(h, 200, 50);
    s.clock.advance(10_000);
    assert.equal(bad.healthy, true);
  });

  it('the local-origin success rate is judged separately with the split', () => {
    const s = setup(5, {
      maxEjectionPercent: 100,
      splitExternalLocalOriginErrors: true,
      consecutiveLocalOriginFailure: 0,
    });
    const [bad, ...good] = s.hosts;
    for (let i = 0; i < 100; i++)
      bad.outlier!.putResult(
        i % 2 === 0 ? OutlierResult.LocalOriginConnectFailed : OutlierResult.LocalOriginConnectSuccess,
      );
    for (const h of good)
      for (let i = 0; i < 100; i++) h.outlier!.putResult(OutlierResult.LocalOriginConnectSuccess);
    s.clock.advance(10_000);
    assert.equal(bad.healthy, false);
    assert.equal(s.stat('ejections_enforced_local_origin_success_rate'), 1);
    assert.equal(s.detector.localOriginNumbers.ejectionThreshold, 52);
    assert.equal(s.detector.externalNumbers.ejectionThreshold, -1);
  });
});
