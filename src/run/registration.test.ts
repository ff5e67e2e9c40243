// The heartbeat loop of `weft run` on a manual clock: against a real API server whose
// Workload leases run on the same clock, heartbeats keep a 15 s Workload alive for a minute
// and it expires once they stop; with a scripted API, an outage is logged once and retried,
// the end of it is logged, a Workload that vanished is registered again, and an update is
// retried until the control plane stores it.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { ApiError, createControlClient } from '../cli/control-client.js';
import { type ApiServer, createApiServer } from '../control/api/api-server.js';
import type { Resource } from '../control/resource.js';
import { createMemoryStore } from '../control/store/memory-store.js';
import type { ResourceStore } from '../control/store/resource-store.js';
import { meshKinds } from '../control/store/testing/fixtures.js';
import { createWorkloadLeases, type WorkloadLeases } from '../control/store/workload-leases.js';
import { createMemoryLogger } from '../core/logger.js';
import { createManualClock } from '../proxy/upstream/testing/manual-clock.js';
import { createRegistration, createWorkloadApi, type WorkloadApi } from './registration.js';

function workload(name: string, extra: Record<string, unknown> = {}): Resource {
  return {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'Workload',
    metadata: { name, namespace: 'default', labels: { app: 'vm' } },
    spec: { address: '127.0.0.1', ports: { http: 8080 }, ttlSeconds: 15, ...extra },
  };
}

/** Real I/O settles in real time: poll (without moving the manual clock) until `done`. */
async function until(what: string, done: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`never happened: ${what}`);
}

describe('registration against a real API with leases on the same manual clock', () => {
  const clock = createManualClock();
  let store: ResourceStore;
  let leases: WorkloadLeases;
  let server: ApiServer;
  let api: WorkloadApi;

  before(async () => {
    const logger = createMemoryLogger();
    const kinds = meshKinds();
    store = createMemoryStore({ kinds, clock, logger, historyLimit: 50 });
    leases = await createWorkloadLeases({ store, clock, logger });
    server = createApiServer({ store, kinds, clock, logger, leases });
    const { url } = await server.listen(0, '127.0.0.1');
    api = createWorkloadApi(createControlClient(url), clock, 5_000);
  });
  after(async () => {
    leases.close();
    await server.close();
    await store.close();
  });

  const exists = async () =>
    (await store.get({
      apiVersion: 'weft.dev/v1alpha1',
      kind: 'Workload',
      namespace: 'default',
      name: 'vm-1',
    })) !== undefined;

  it('keeps a 15 s Workload alive for 60 s by heartbeats every 5 s, and lets it expire after stop', async () => {
    const lines: string[] = [];
    const reg = createRegistration({ api, clock, workload: workload('vm-1'), log: (l) => lines.push(l) });
    await reg.register();
    reg.start();
    for (let second = 1; second <= 60; second++) {
      clock.advance(1000);
      const expected = Math.floor(second / 5);
      await until(`heartbeat ${expected}`, () => reg.stats.renewed >= expected);
      assert.ok(await exists(), `the Workload is still there after ${second}s`);
    }
    assert.equal(reg.stats.renewed, 12);
    assert.equal(reg.stats.failed, 0);
    assert.deepEqual(lines, []);

    await reg.stop();
    clock.advance(15_000);
    await until('the lease expired', async () => !(await exists()));
  });
});

/** A WorkloadApi whose answers the test scripts. */
function scriptedApi() {
  const calls: string[] = [];
  const state = {
    down: false,
    gone: false,
    refusePut: false,
    stored: undefined as Resource | undefined,
  };
  const unreachable = () =>
    new ApiError('WEFT_CONTROL_UNREACHABLE', 0, 'cannot reach the control plane (ECONNREFUSED)');
  const api: WorkloadApi = {
    async put(w) {
      calls.push('put');
      if (state.down || state.refusePut) throw unreachable();
      state.stored = w;
      state.gone = false;
    },
    async heartbeat() {
      calls.push('heartbeat');
      if (state.down) throw unreachable();
      if (state.gone) throw new ApiError('WEFT_NOT_FOUND', 404, 'workload default/vm-1 not found');
    },
    async remove() {
      calls.push('delete');
      if (state.down) throw unreachable();
      return true;
    },
  };
  return { api, calls, state };
}

async function tickOnce(clock: ReturnType<typeof createManualClock>, ms: number): Promise<void> {
  clock.advance(ms);
  for (let i = 0; i < 10; i++) await turn();
}

describe('registration with a scripted API', () => {
  it('logs an outage once, retries every ttl/3, says when it ends, and re-registers a Workload that is gone', async () => {
    const clock = createManualClock();
    const { api, calls, state } = scriptedApi();
    const lines: string[] = [];
    const reg = createRegistration({ api, clock, workload: workload('vm-1'), log: (l) => lines.push(l) });
    await reg.register();
    reg.start();
    await tickOnce(clock, 5_000);
    assert.deepEqual(calls, ['put', 'heartbeat']);

    state.down = true;
    for (let i = 0; i < 4; i++) await tickOnce(clock, 5_000);
    assert.equal(reg.stats.failed, 4);
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(
      lines[0]!,
      /heartbeat for default\/vm-1 failed: .*ECONNREFUSED.*retrying every 5s \(the sidecar keeps serving/,
    );

    // Back, but the lease ran out meanwhile: registered again, and the outage's end is logged.
    state.down = false;
    state.gone = true;
    await tickOnce(clock, 5_000);
    assert.deepEqual(calls.slice(-2), ['heartbeat', 'put']);
    assert.equal(reg.stats.reregistered, 1);
    assert.match(lines[1]!, /is gone from the control plane .*registering it again/);
    assert.match(lines[2]!, /control plane reachable again; Workload default\/vm-1 renewed/);

    await tickOnce(clock, 5_000);
    assert.deepEqual(calls.slice(-1), ['heartbeat']);
    assert.equal(await reg.deregister(), true);
    assert.deepEqual(calls.slice(-1), ['delete']);
    await tickOnce(clock, 20_000);
    assert.deepEqual(calls.slice(-1), ['delete'], 'no heartbeat after deregister');
  });

  it('PUTs an updated Workload at once and retries it on later ticks until stored', async () => {
    const clock = createManualClock();
    const { api, calls, state } = scriptedApi();
    const reg = createRegistration({
      api,
      clock,
      workload: workload('vm-1', { healthy: false }),
      log: () => {},
    });
    await reg.register();
    reg.start();
    state.refusePut = true;
    reg.update(workload('vm-1', { healthy: true }));
    for (let i = 0; i < 10; i++) await turn();
    assert.deepEqual(calls, ['put', 'put']);
    await tickOnce(clock, 5_000);
    assert.deepEqual(calls, ['put', 'put', 'put'], 'the next tick PUTs again instead of a heartbeat');
    state.refusePut = false;
    await tickOnce(clock, 5_000);
    assert.equal((state.stored!.spec as { healthy: boolean }).healthy, true);
    await tickOnce(clock, 5_000);
    assert.deepEqual(calls.slice(-1), ['heartbeat']);
    await reg.stop();
  });

  it('reports a failed deregistration with the TTL that will remove the Workload', async () => {
    const clock = createManualClock();
    const { api, state } = scriptedApi();
    const lines: string[] = [];
    const reg = createRegistration({ api, clock, workload: workload('vm-1'), log: (l) => lines.push(l) });
    await reg.register();
    state.down = true;
    assert.equal(await reg.deregister(), false);
    assert.match(lines.at(-1)!, /could not deregister Workload default\/vm-1: .*it expires within 15s/);
  });
});
