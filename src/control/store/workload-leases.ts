// Workload TTLs: a Workload with spec.ttlSeconds is deleted (a normal DELETED watch event,
// so it leaves every endpoint set) unless a heartbeat or a re-apply renews it in time.
// VMs register themselves this way and vanish when they die.
//
// Leases live in memory and are re-armed with a full TTL when the control plane starts:
// a control-plane outage must not expire every Workload at once (static stability). The
// expiring delete carries the resourceVersion the lease saw, so it cannot remove a Workload
// that was re-applied in the meantime.

import type { Clock, Timer } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { WorkloadSpec } from '../kinds/mesh-types.js';
import { WEFT_API_VERSION } from '../kinds/mesh-types.js';
import type { Resource, ResourceKey } from '../resource.js';
import { ControlError } from './control-error.js';
import type { ResourceStore, Watch } from './resource-store.js';
import { describeKey, keyOf, keyString } from './resource-store.js';

export interface HeartbeatResult {
  readonly ttlSeconds: number;
  /** Wall-clock ms since the epoch when the Workload expires without another heartbeat. */
  readonly expiresAt: number;
}

export interface WorkloadLeases {
  /** Renews a Workload's lease. WEFT_NOT_FOUND when it does not exist, WEFT_API_REQUEST when it has no ttlSeconds. */
  heartbeat(namespace: string, name: string): Promise<HeartbeatResult>;
  /** Workloads currently holding a lease. */
  size(): number;
  close(): void;
}

interface Lease {
  timer: Timer;
  resourceVersion: string;
}

export async function createWorkloadLeases(deps: {
  store: ResourceStore;
  clock: Clock;
  logger: Logger;
}): Promise<WorkloadLeases> {
  const { store, clock, logger } = deps;
  const leases = new Map<string, Lease>();
  let closed = false;

  function arm(resource: Resource): HeartbeatResult | null {
    const key = keyOf(resource);
    const k = keyString(key);
    leases.get(k)?.timer.cancel();
    const ttl = (resource.spec as unknown as WorkloadSpec).ttlSeconds;
    if (ttl === undefined || closed) {
      leases.delete(k);
      return null;
    }
    const resourceVersion = resource.metadata.resourceVersion ?? '';
    const timer = clock.setTimer(ttl * 1000, () => expire(key, resourceVersion, ttl));
    leases.set(k, { timer, resourceVersion });
    return { ttlSeconds: ttl, expiresAt: clock.now() + ttl * 1000 };
  }

  function expire(key: ResourceKey, resourceVersion: string, ttl: number): void {
    leases.delete(keyString(key));
    store.delete([{ ...key, resourceVersion }]).then(
      () => logger.info(`leases: ${describeKey(key)} expired (no heartbeat for ${ttl}s)`),
      (err: unknown) => {
        // Changed or deleted meanwhile: the watch re-armed or dropped the lease already.
        if (err instanceof ControlError && (err.code === 'WEFT_CONFLICT' || err.code === 'WEFT_NOT_FOUND'))
          return;
        logger.error(`leases: could not expire ${describeKey(key)}: ${(err as Error).message}`);
      },
    );
  }

  const { items, revision } = await store.list({ apiVersion: WEFT_API_VERSION, kind: 'Workload' });
  for (const w of items) arm(w);
  const watch: Watch = store.watch(revision, (event) => {
    const r = event.resource;
    if (r.apiVersion !== WEFT_API_VERSION || r.kind !== 'Workload') return;
    if (event.type === 'DELETED') {
      const k = keyString(keyOf(r));
      leases.get(k)?.timer.cancel();
      leases.delete(k);
      return;
    }
    // Any change to the Workload (re-apply, status) counts as a renewal.
    arm(r);
  });

  return {
    async heartbeat(namespace, name) {
      const key: ResourceKey = { apiVersion: WEFT_API_VERSION, kind: 'Workload', namespace, name };
      const resource = await store.get(key);
      if (resource === undefined)
        throw new ControlError('WEFT_NOT_FOUND', 404, `not found: ${describeKey(key)}`);
      const result = arm(resource);
      if (result === null)
        throw new ControlError(
          'WEFT_API_REQUEST',
          400,
          `${describeKey(key)} has no spec.ttlSeconds, so it never expires and needs no heartbeat`,
        );
      return result;
    },
    size: () => leases.size,
    close() {
      closed = true;
      watch.cancel();
      for (const lease of leases.values()) lease.timer.cancel();
      leases.clear();
    },
  };
}
