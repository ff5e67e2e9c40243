// RetryState unit tests: the previous_hosts predicate with host_selection_retry_max_attempts,
// the retry limit, the budget overflow, the replay limit, and the jittered back-off.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RetryPolicy } from '../../config/model.js';
import { CompiledRetryPolicy } from '../router/retry-policy.js';
import { StatsStore } from '../stats/store.js';
import type { UpstreamCluster } from '../upstream/cluster.js';
import { ClusterCircuitBreakers } from '../upstream/cluster-circuit-breakers.js';
import { createClusterStats } from '../upstream/cluster-stats.js';
import type { Host } from '../upstream/host.js';
import { createManualClock } from '../upstream/testing/manual-clock.js';
import { RetryDecision, RetryState } from './retry-state.js';

function policy(overrides: Partial<RetryPolicy> = {}): CompiledRetryPolicy {
  return new CompiledRetryPolicy({
    retryOn: ['5xx'],
    numRetries: 1,
    perTryTimeoutMs: null,
    baseIntervalMs: 25,
    maxIntervalMs: 250,
    retriableStatusCodes: [],
    retriableHeaders: [],
    previousHostsPredicate: false,
    hostSelectionRetryMaxAttempts: 1,
    ...overrides,
  });
}

/** A cluster whose load balancer returns `picks` in order. */
function fakeCluster(picks: Host[], budget = { budgetPercent: 20, minRetryConcurrency: 3 }) {
  const store = new StatsStore();
  let i = 0;
  return {
    chooseHost: () => picks[i++ % picks.length],
    stats: createClusterStats(store, 'c'),
    circuitBreakers: new ClusterCircuitBreakers(
      {
        maxConnections: 1024,
        maxPendingRequests: 1024,
        maxRequests: 1024,
        maxRetries: 3,
        retryBudget: budget,
      },
      store,
      'c',
    ),
    random: () => 0.5,
  } as unknown as UpstreamCluster;
}

const owner = { onBackoffElapsed() {}, onPerTryTimeout() {}, onPerTryIdleTimeout() {} };
const A = { addressString: 'a' } as Host;
const B = { addressString: 'b' } as Host;

describe('RetryState', () => {
  test('previous_hosts re-picks up to host_selection_retry_max_attempts times', () => {
    const clock = createManualClock();
    const one = new RetryState(
      policy({ previousHostsPredicate: true }),
      fakeCluster([A, A, A, B]),
      clock,
      0,
      owner,
    );
    one.recordHost(one.chooseHost()!);
    assert.equal(one.chooseHost(), A, 'one re-pick, still A: the last pick is used');
    const three = new RetryState(
      policy({ previousHostsPredicate: true, hostSelectionRetryMaxAttempts: 3 }),
      fakeCluster([A, A, A, B]),
      clock,
      0,
      owner,
    );
    three.recordHost(three.chooseHost()!);
    assert.equal(three.chooseHost(), B);
  });

  test('num_retries, then limit exceeded', () => {
    const cluster = fakeCluster([A]);
    const s = new RetryState(policy(), cluster, createManualClock(), 0, owner);
    assert.equal(s.decide(false), RetryDecision.No);
    assert.equal(s.decide(true), RetryDecision.Retry);
    assert.equal(s.attempt, 2);
    assert.equal(s.decide(true), RetryDecision.LimitExceeded);
    assert.equal(cluster.stats.upstream_rq_retry.value, 1);
    assert.equal(cluster.stats.upstream_rq_retry_limit_exceeded.value, 1);
    s.end();
    assert.equal(cluster.circuitBreakers.retries.count, 0, 'the slot is given back');
  });

  test('the budget bounds retries in flight', () => {
    const cluster = fakeCluster([A], { budgetPercent: 20, minRetryConcurrency: 2 });
    const clock = createManualClock();
    const states = [1, 2, 3].map(() => new RetryState(policy(), cluster, clock, 0, owner));
    assert.deepEqual(
      states.map((s) => s.decide(true)),
      [RetryDecision.Retry, RetryDecision.Retry, RetryDecision.Overflow],
    );
    assert.equal(cluster.stats.upstream_rq_retry_overflow.value, 1);
    states[0].end();
    assert.equal(states[2].decide(true), RetryDecision.Retry, 'a slot came back');
  });

  test('a body past the limit is not replayable', () => {
    const s = new RetryState(policy(), fakeCluster([A]), createManualClock(), 4, owner);
    s.keepBody(Buffer.from('abcd'));
    assert.equal(s.replayable, true);
    assert.equal(Buffer.concat(s.replayBody().chunks).toString(), 'abcd');
    s.keepBody(Buffer.from('e'));
    assert.equal(s.replayable, false);
    assert.equal(s.decide(true), RetryDecision.No);
  });

  test('back-off: full jitter under min(max, base * 2^(n-1))', () => {
    const p = policy({ baseIntervalMs: 10, maxIntervalMs: 35 });
    assert.equal(
      p.backoffMs(1, () => 0.999),
      9,
    );
    assert.equal(
      p.backoffMs(2, () => 0.5),
      10,
    );
    assert.equal(
      p.backoffMs(3, () => 0.999),
      34,
      'capped at max_interval',
    );
    assert.equal(
      p.backoffMs(3, () => 0),
      0,
    );
  });
});
