import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryLogger } from '../../core/logger.js';
import { createManualClock } from '../../proxy/upstream/testing/manual-clock.js';
import { ControlError } from './control-error.js';
import { createMemoryStore } from './memory-store.js';
import type { WatchEvent } from './resource-store.js';
import { eventCollector, meshKinds, workloadDoc } from './testing/fixtures.js';
import { createWorkloadLeases } from './workload-leases.js';

const key = (name: string) => ({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'Workload',
  namespace: 'default',
  name,
});

async function setup() {
  const clock = createManualClock();
  const logger = createMemoryLogger();
  const store = createMemoryStore({ kinds: meshKinds(), clock, logger });
  await store.apply([workloadDoc('vm-1', { ttlSeconds: 10 }), workloadDoc('static')]);
  const leases = await createWorkloadLeases({ store, clock, logger });
  const events = eventCollector<WatchEvent>();
  store.watch(store.revision(), (e) => events.push(e));
  return { clock, logger, store, leases, events };
}

describe('Workload TTL leases', () => {
  it('deletes a Workload whose TTL passes without a heartbeat, with a DELETED event', async () => {
    const { clock, store, leases, events, logger } = await setup();
    assert.equal(leases.size(), 1, 'only the Workload with ttlSeconds holds a lease');
    clock.advance(9_999);
    assert.ok(await store.get(key('vm-1')));
    clock.advance(1);
    const [deleted] = await events.next(1);
    assert.equal(deleted?.type, 'DELETED');
    assert.equal(deleted?.resource.metadata.name, 'vm-1');
    assert.equal(await store.get(key('vm-1')), undefined);
    assert.ok(await store.get(key('static')), 'a Workload without ttlSeconds lives on');
    assert.match(logger.lines.join('\n'), /Workload default\/vm-1 expired \(no heartbeat for 10s\)/);
    leases.close();
  });

  it('renews on heartbeat and on re-apply', async () => {
    const { clock, store, leases, events } = await setup();
    clock.advance(8_000);
    const hb = await leases.heartbeat('default', 'vm-1');
    assert.equal(hb.ttlSeconds, 10);
    assert.equal(hb.expiresAt, clock.now() + 10_000);
    clock.advance(8_000);
    assert.ok(await store.get(key('vm-1')), 'the heartbeat renewed the lease');
    await store.apply([workloadDoc('vm-1', { ttlSeconds: 20, weight: 2 })]);
    await events.next(1); // MODIFIED: the lease re-arms from the watch
    clock.advance(15_000);
    assert.ok(await store.get(key('vm-1')), 're-apply renewed it with the new TTL');
    clock.advance(5_000);
    assert.equal((await events.next(2))[1]?.type, 'DELETED');
    leases.close();
  });

  it('refuses heartbeats for missing Workloads and for Workloads without a TTL', async () => {
    const { leases } = await setup();
    await assert.rejects(
      leases.heartbeat('default', 'nope'),
      (e: unknown) => e instanceof ControlError && e.status === 404,
    );
    await assert.rejects(leases.heartbeat('default', 'static'), /has no spec\.ttlSeconds/);
    leases.close();
  });

  it('drops the lease of a deleted Workload and arms leases for Workloads present at start', async () => {
    const { clock, store, leases, events } = await setup();
    await store.delete([key('vm-1')]);
    await events.next(1);
    assert.equal(leases.size(), 0);
    clock.advance(60_000);
    assert.equal(clock.pendingTimers, 0);
    leases.close();
  });
});
