// The proxy's xDS side, assembled: the ADS client (stream, ACK/NACK, back-off), the xDS state
// (validation, warming, subscriptions) and the callback that applies a config to the proxy.
// Started by ProxyServer when the bootstrap has `dynamic_resources`.
//
// Subscriptions are made in Envoy's order, CDS before LDS: the server answers (and later
// pushes) types in the order they were first requested, so clusters arrive before the
// listeners that name them; RDS and EDS follow from what those contain.

import type { HttpFilterRegistry } from '../../config/http-filter-registry.js';
import type { Bootstrap } from '../../config/model.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { createJsonCodec, type JsonObject } from '../../xds/json-codec.js';
import type { XdsProtos } from '../../xds/protos.js';
import { shortTypeName, TYPE_URLS } from '../../xds/type-urls.js';
import type { StatsStore } from '../stats/store.js';
import type { AdsHandler } from './ads-client.js';
import { type AdsClient, type AdsClientStatus, createAdsClient } from './ads-client.js';
import type { DynamicConfig } from './dynamic-config.js';
import { createDynamicResources, type DynamicResources, type XdsDump } from './dynamic-resources.js';
import { grpcTargetOf } from './grpc-target.js';
import { createResourceTypes } from './resource-types.js';

export interface XdsRuntimeOptions {
  /** A validated bootstrap with `dynamicResources`. */
  readonly bootstrap: Bootstrap;
  readonly registry: HttpFilterRegistry;
  readonly protos: XdsProtos;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  /** Applies a dynamic config to the proxy; throws when it cannot (the update is NACKed). */
  apply(config: DynamicConfig): Promise<void>;
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  readonly initialFetchTimeoutMs?: number;
  /** Sent as node.user_agent_version. */
  readonly version?: string;
  /** Where `control_plane.connected_state` and `xds.<type>.update_success/_rejected` are kept. */
  readonly stats?: StatsStore;
}

export interface XdsRuntime {
  start(): void;
  status(): AdsClientStatus;
  dump(): XdsDump;
  /** Settles once every response received so far has been handled. */
  idle(): Promise<void>;
  close(): void;
}

export function createXdsRuntime(o: XdsRuntimeOptions): XdsRuntime {
  const dynamic = o.bootstrap.dynamicResources;
  if (dynamic === null) throw new Error('the bootstrap has no dynamic_resources');
  const adsCluster = o.bootstrap.staticResources.clusters.find((c) => c.name === dynamic.ads.clusterName);
  if (adsCluster === undefined) throw new Error(`xDS cluster '${dynamic.ads.clusterName}' is not defined`);
  const codec = createJsonCodec(o.protos);
  let client: AdsClient | null = null;
  const state: DynamicResources = createDynamicResources({
    types: createResourceTypes(o.registry),
    clock: o.clock,
    logger: o.logger,
    staticListeners: o.bootstrap.staticResources.listeners,
    staticClusters: o.bootstrap.staticResources.clusters,
    apply: o.apply,
    subscribe: (typeUrl, names) => client?.subscribe(typeUrl, names),
    initialFetchTimeoutMs: o.initialFetchTimeoutMs,
  });
  client = createAdsClient({
    protos: o.protos,
    codec,
    target: grpcTargetOf(adsCluster),
    node: nodeJson(o.bootstrap, o.version),
    protocol: dynamic.ads.apiType === 'DELTA_GRPC' ? 'delta' : 'sotw',
    setNodeOnFirstMessageOnly: dynamic.ads.setNodeOnFirstMessageOnly,
    handler: counted(state, o.stats),
    onConnectedChange: (up) => {
      if (o.stats !== undefined) o.stats.gauge('control_plane.connected_state').value = up ? 1 : 0;
    },
    clock: o.clock,
    random: o.random,
    logger: o.logger,
    backoff: o.backoff,
  });
  const ads = client;
  return {
    start() {
      if (dynamic.cds) ads.subscribe(TYPE_URLS.cluster, '*');
      if (dynamic.lds) ads.subscribe(TYPE_URLS.listener, '*');
      state.start();
      ads.start();
      o.logger.info(
        `xds: ${dynamic.ads.apiType === 'DELTA_GRPC' ? 'delta' : 'state-of-the-world'} ADS to ${grpcTargetOf(adsCluster)} (cluster '${adsCluster.name}')`,
      );
    },
    status: () => ads.status(),
    dump: () => state.dump(),
    async idle() {
      await ads.idle();
      await state.idle();
    },
    close() {
      ads.close();
      state.close();
    },
  };
}

/** envoy.config.core.v3.Node from the bootstrap's node. */
function nodeJson(bootstrap: Bootstrap, version: string | undefined): JsonObject {
  const n = bootstrap.node;
  const out: JsonObject = {
    id: n?.id ?? '',
    cluster: n?.cluster ?? '',
    user_agent_name: 'weft',
  };
  if (version !== undefined) out.user_agent_version = version;
  if (n !== null && Object.keys(n.metadata).length > 0) out.metadata = n.metadata as JsonObject;
  if (n?.locality != null) {
    out.locality = { region: n.locality.region, zone: n.locality.zone, sub_zone: n.locality.subZone };
  }
  return out;
}

/**
 * Counts every update accepted or rejected per type (Envoy's `update_success` /
 * `update_rejected`), so a NACK shows in /stats as well as in the log.
 */
function counted(handler: AdsHandler, stats: StatsStore | undefined): AdsHandler {
  if (stats === undefined) return handler;
  return {
    async onUpdate(update) {
      const verdict = await handler.onUpdate(update);
      const type = shortTypeName(update.typeUrl).toLowerCase();
      stats.counter(`xds.${type}.${verdict.ok ? 'update_success' : 'update_rejected'}`).value++;
      return verdict;
    },
  };
}
