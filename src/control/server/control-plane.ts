// The control plane, assembled in one place (what `weft control` runs):
//
//   kinds registry (every kind) ─> file store ─> ADS port open (proxies wait) ─> Workload leases
//                                      │
//                                      ├─> mesh source (list + watch ─> index ─> translations ─> Snapshots)
//                                      │        ├─> route status writer (status back into the store)
//                                      │        └─> ADS server (xDS v3, SotW + delta) ─> proxies, gRPC clients
//                                      └─> REST API (resources, watch, proxy-status, proxy-config)
//
// start() brings them up in that order (the ADS server accepts proxies right after the store
// opens and serves them once the mesh is loaded) and unwinds what started if a step fails; stop()
// takes them down in reverse: the API first (no new writes), then the ADS streams (closed
// with UNAVAILABLE, so proxies keep their config and reconnect), the leases, the mesh
// watch, pending status writes, and the store last (final snapshot, lock released).

import { join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { type AdsServer, createAdsServer, DEFAULT_ADS_PORT } from '../../xds/ads-server.js';
import { createProtoLoader } from '../../xds/protos.js';
import { type ApiServer, createApiServer, DEFAULT_API_HOST, DEFAULT_API_PORT } from '../api/api-server.js';
import { createDestinationPolicyKind } from '../kinds/destination-policy.js';
import { createGrpcRouteKind } from '../kinds/grpc-route.js';
import { createHttpRouteKind } from '../kinds/http-route.js';
import { createHttpRouteGroupKind } from '../kinds/http-route-group.js';
import { createKindRegistry, type KindRegistry } from '../kinds/registry.js';
import { createServiceKind } from '../kinds/service.js';
import { createTcpRouteKind } from '../kinds/tcp-route.js';
import { createTrafficSplitKind } from '../kinds/traffic-split.js';
import { createWorkloadKind } from '../kinds/workload.js';
import { openFileStore } from '../store/file-store.js';
import type { ResourceStore } from '../store/resource-store.js';
import { createWorkloadLeases, type WorkloadLeases } from '../store/workload-leases.js';
import type { TranslateOptions } from '../translate/snapshot.js';
import { createMeshSource, type MeshSource } from './mesh-source.js';
import { createPendingSource } from './pending-source.js';
import { createProxyDebug } from './proxy-debug.js';
import { createRouteStatusWriter, type RouteStatusWriter } from './route-status-writer.js';

export const DEFAULT_XDS_HOST = '127.0.0.1';
export { DEFAULT_ADS_PORT as DEFAULT_XDS_PORT };

export interface ControlPlaneOptions {
  readonly stateDir: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** REST API address (default 127.0.0.1:15000; port 0 picks one). */
  readonly apiHost?: string;
  readonly apiPort?: number;
  /** ADS address (default 127.0.0.1:15010; port 0 picks one). */
  readonly xdsHost?: string;
  readonly xdsPort?: number;
  /** ADS push debounce (see createAdsServer). */
  readonly xdsDebounceMs?: number;
  readonly xdsMaxDebounceMs?: number;
  readonly translate?: TranslateOptions;
}

export interface RunningControlPlane {
  readonly apiUrl: string;
  readonly xdsAddress: { readonly host: string; readonly port: number };
  readonly store: ResourceStore;
  readonly mesh: MeshSource;
  readonly ads: AdsServer;
  /** Stops everything in reverse order; safe to call twice. */
  stop(): Promise<void>;
}

/** Every kind the control plane serves. */
export function createMeshKinds(): KindRegistry {
  return createKindRegistry([
    createServiceKind(),
    createWorkloadKind(),
    createHttpRouteKind(),
    createGrpcRouteKind(),
    createTrafficSplitKind(),
    createHttpRouteGroupKind(),
    createTcpRouteKind(),
    createDestinationPolicyKind(),
  ]);
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<RunningControlPlane> {
  const { clock, logger } = options;
  const undo: Array<() => Promise<void> | void> = [];
  const unwind = async (): Promise<void> => {
    for (const step of undo.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        logger.error(`control: shutdown step failed: ${(err as Error).message}`);
      }
    }
  };
  try {
    const kinds = createMeshKinds();
    const store = await openFileStore({ dir: options.stateDir, kinds, clock, logger });
    undo.push(() => store.close());

    // The xDS port accepts proxies as soon as the store is open: they wait for the mesh
    // (pending-source.ts) instead of being refused and backing off further.
    const source = createPendingSource();
    const ads = createAdsServer({
      source,
      // Parsed definitions kept in the state dir: a restart reads them instead of parsing.
      protos: createProtoLoader({ cacheDir: join(options.stateDir, 'cache') }).get(),
      clock,
      logger,
      host: options.xdsHost ?? DEFAULT_XDS_HOST,
      port: options.xdsPort ?? DEFAULT_ADS_PORT,
      ...(options.xdsDebounceMs === undefined ? {} : { debounceMs: options.xdsDebounceMs }),
      ...(options.xdsMaxDebounceMs === undefined ? {} : { maxDebounceMs: options.xdsMaxDebounceMs }),
      controlPlaneId: 'weft-control',
    });
    const { port: xdsPort } = await ads.start();
    // Stopped right after the API on a normal stop (below); this first step only matters when
    // a later step fails, and is then a no-op if the second already ran.
    let adsStopped = false;
    const stopAds = async (): Promise<void> => {
      if (adsStopped) return;
      adsStopped = true;
      await ads.stop();
    };
    undo.push(stopAds);

    const statuses: RouteStatusWriter = createRouteStatusWriter({ store, clock, logger });
    undo.push(() => statuses.idle());
    const leases: WorkloadLeases = await createWorkloadLeases({ store, clock, logger });
    undo.push(() => leases.close());

    const mesh = createMeshSource({
      store,
      clock,
      logger,
      ...(options.translate === undefined ? {} : { translate: options.translate }),
      onIndex: (index) => statuses.update(index),
    });
    await mesh.start();
    undo.push(() => mesh.close());
    source.attach(mesh);
    ads.flush(); // the proxies that connected meanwhile are served now, not after the debounce
    undo.push(stopAds);

    const api: ApiServer = createApiServer({
      store,
      kinds,
      clock,
      logger,
      leases,
      proxyDebug: createProxyDebug({ status: () => ads.status(), findSet: mesh.findSet }),
    });
    const bound = await api.listen(options.apiPort ?? DEFAULT_API_PORT, options.apiHost ?? DEFAULT_API_HOST);
    undo.push(() => api.close());

    return {
      apiUrl: bound.url,
      xdsAddress: { host: options.xdsHost ?? DEFAULT_XDS_HOST, port: xdsPort },
      store,
      mesh,
      ads,
      stop: unwind,
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
