// Writes Gateway API route status (Accepted / ResolvedRefs per parentRef) back to the store
// after each mesh rebuild, so `weft get httproutes` shows it. A status is written only when
// it differs from the stored one: computeRouteStatuses keeps lastTransitionTime while a
// condition holds, so an unchanged mesh computes an unchanged status and the write-back
// (which is itself a store event) cannot loop. Each write carries the route's
// resourceVersion: a route changed meanwhile gets a 409, which is ignored because that
// change triggers its own rebuild and status pass. Passes never overlap; a rebuild during a
// pass queues the newest index for the next one.

import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { ControlError } from '../store/control-error.js';
import { describeKey, keyOf, keyString, type ResourceStore } from '../store/resource-store.js';
import type { MeshIndex } from '../translate/mesh-index.js';
import { computeRouteStatuses } from '../translate/status.js';

export interface RouteStatusWriter {
  /** Computes statuses for this index and writes the changed ones (asynchronously). */
  update(index: MeshIndex): void;
  /** Resolves when no pass is running or queued. */
  idle(): Promise<void>;
  /** Status writes so far. */
  readonly writes: number;
}

export function createRouteStatusWriter(deps: {
  store: ResourceStore;
  clock: Clock;
  logger: Logger;
}): RouteStatusWriter {
  const { store, clock, logger } = deps;
  let queued: MeshIndex | undefined;
  let running: Promise<void> | undefined;
  let writes = 0;

  async function pass(index: MeshIndex): Promise<void> {
    const routes = new Map(
      [...index.snapshot.httpRoutes, ...index.snapshot.grpcRoutes].map((r) => [keyString(keyOf(r)), r]),
    );
    const now = new Date(clock.now()).toISOString();
    for (const { key, status } of computeRouteStatuses(index, { now })) {
      const route = routes.get(keyString(key));
      if (route === undefined || canonicalJson(route.status ?? {}) === canonicalJson(status)) continue;
      try {
        await store.updateStatus(
          key,
          status as unknown as Record<string, unknown>,
          route.metadata.resourceVersion,
        );
        writes++;
      } catch (err) {
        if (err instanceof ControlError && (err.code === 'WEFT_CONFLICT' || err.code === 'WEFT_NOT_FOUND'))
          continue;
        logger.error(`status: cannot write the status of ${describeKey(key)}: ${(err as Error).message}`);
      }
    }
  }

  function run(index: MeshIndex): void {
    running = pass(index)
      .catch((err: unknown) => logger.error(`status: pass failed: ${(err as Error).stack ?? String(err)}`))
      .then(() => {
        const next = queued;
        queued = undefined;
        if (next === undefined) running = undefined;
        else run(next);
      });
  }

  return {
    update(index) {
      if (running !== undefined) queued = index;
      else run(index);
    },
    async idle() {
      while (running !== undefined) await running;
    },
    get writes() {
      return writes;
    },
  };
}

/** JSON with object keys sorted, so equal statuses compare equal whatever their key order. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}
