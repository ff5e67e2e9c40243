// The control plane's xDS cache: keeps a MeshSnapshot of every mesh resource in the store
// (list, then watch from the list's revision; re-list when the watch falls off the kept
// history), rebuilds the mesh index when something changed (bursts coalesced on the injected
// clock), and implements the ADS server's SnapshotSource:
//
//   node --(node-identity.ts)--> ProxyIdentity --(translation cache, one per shape)-->
//   Translation --(snapshot-builder.ts, content-addressed)--> Snapshot
//
// Proxies of one shape share one Snapshot object, and an unchanged shape keeps its object
// across rebuilds, so the ADS server skips it by identity. Subscribers are told after each
// rebuild that changed the mesh (all proxies: comparing identities is what makes that cheap).
// A change to status only (route status written back by the control plane) does not rebuild
// translations; it still reaches onIndex, which the route status writer listens to.

import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { createPushDebouncer } from '../../xds/push-debouncer.js';
import type { ProxyNode, ResourceSet, Snapshot, SnapshotChange, SnapshotSource } from '../../xds/snapshot.js';
import { GATEWAY_API_VERSION } from '../kinds/gateway-types.js';
import { SMI_SPECS_API_VERSION } from '../kinds/http-route-group.js';
import { WEFT_API_VERSION } from '../kinds/mesh-types.js';
import { TRAFFIC_SPLIT_API_VERSION } from '../kinds/traffic-split.js';
import type { Resource } from '../resource.js';
import { ControlError } from '../store/control-error.js';
import {
  keyOf,
  keyString,
  type ResourceStore,
  type Watch,
  type WatchEvent,
} from '../store/resource-store.js';
import { createMeshIndex, type MeshIndex } from '../translate/mesh-index.js';
import type { MeshSnapshot, TranslateOptions } from '../translate/snapshot.js';
import { createTranslationCache, type TranslationCache } from '../translate/translation-cache.js';
import {
  CLUSTER_TYPE,
  ENDPOINT_TYPE,
  LISTENER_TYPE,
  ROUTE_TYPE,
  type Translation,
  type XdsResource,
} from '../translate/xds-resources.js';
import { type NodeIdentity, nodeIdentityOf } from './node-identity.js';
import {
  grpcApiListeners,
  grpcClusters,
  grpcEndpoints,
  grpcRouteConfiguration,
  withLocalityWeights,
} from './proxyless-grpc.js';
import { createSnapshotBuilder, type ResourcesByType } from './snapshot-builder.js';

type Field = keyof MeshSnapshot;

/** Proxies whose Snapshot warm() prepares per event-loop turn. */
const WARM_BATCH = 100;

/** The kinds the translator reads, and where each goes in the MeshSnapshot. */
const MESH_KINDS: ReadonlyArray<readonly [apiVersion: string, kind: string, field: Field]> = [
  [WEFT_API_VERSION, 'Service', 'services'],
  [WEFT_API_VERSION, 'Workload', 'workloads'],
  [GATEWAY_API_VERSION, 'HTTPRoute', 'httpRoutes'],
  [GATEWAY_API_VERSION, 'GRPCRoute', 'grpcRoutes'],
  [TRAFFIC_SPLIT_API_VERSION, 'TrafficSplit', 'trafficSplits'],
  [SMI_SPECS_API_VERSION, 'HTTPRouteGroup', 'httpRouteGroups'],
  [SMI_SPECS_API_VERSION, 'TCPRoute', 'tcpRoutes'],
  [WEFT_API_VERSION, 'DestinationPolicy', 'destinationPolicies'],
];

export interface MeshSourceOptions {
  readonly store: ResourceStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly translate?: TranslateOptions;
  /** Quiet period before a rebuild, ms (default 10): one transaction's events become one rebuild. */
  readonly rebuildQuietMs?: number;
  /** Longest a change waits for its rebuild during a burst, ms (default 100). */
  readonly rebuildMaxMs?: number;
  /** Called with the new index after every rebuild (mesh or status-only change), and after start. */
  readonly onIndex?: (index: MeshIndex) => void;
}

export interface MeshSource extends SnapshotSource {
  /** Lists the store and starts watching; snapshotFor works once this resolves. */
  start(): Promise<void>;
  /** Runs a pending rebuild now. */
  flush(): void;
  /** Stops watching; no more notifications. */
  close(): void;
  /** The index of the latest rebuild. */
  index(): MeshIndex;
  /** The store revision the mesh reflects. */
  revision(): number;
  /** A resource set handed to some proxy, by type URL and version (for `weft proxy-config`). */
  findSet(typeUrl: string, version: string): ResourceSet | undefined;
  /** Rebuilds of the translation so far (status-only changes excluded). */
  readonly generation: number;
}

export function createMeshSource(options: MeshSourceOptions): MeshSource {
  const { store, clock, logger } = options;
  const maps = new Map<Field, Map<string, Resource>>(MESH_KINDS.map(([, , f]) => [f, new Map()]));
  const fieldOf = new Map<string, Field>(MESH_KINDS.map(([v, k, f]) => [`${v}|${k}`, f]));
  const listeners = new Set<(change: SnapshotChange) => void>();
  const builder = createSnapshotBuilder();
  let listedAt = new Map<Field, number>();
  let revision = 0;
  let meshChanged = false;
  let closed = false;
  let watch: Watch | undefined;
  // `index` is the latest (status included); `cacheIndex` the one translations come from.
  let index: MeshIndex = createMeshIndex(snapshotOfMaps());
  let cacheIndex = index;
  // One translation cache per set of per-node overrides (node-identity.ts), per generation.
  let caches = new Map<string, TranslationCache>();
  let generation = 0;
  // Per generation: a node's Snapshot (the ADS server asks on every refresh and status()),
  // and the proxyless variant of each shape's resources.
  let perNode = new WeakMap<ProxyNode, Snapshot>();
  // The proxies whose Snapshot was asked for in this generation: the next rebuild prepares
  // theirs while the ADS server's push debounce waits (see warm()).
  let asked: ProxyNode[] = [];
  let proxyless = new WeakMap<Translation['resources'], ResourcesByType>();
  let weighted = new WeakMap<XdsResource, XdsResource>();
  const warned = new WeakSet<ProxyNode>();
  // A node's identity depends on the node alone (its id and metadata never change on a stream).
  const identities = new WeakMap<ProxyNode, NodeIdentity>();

  const debouncer = createPushDebouncer<true>(
    clock,
    { quietMs: options.rebuildQuietMs ?? 10, maxMs: options.rebuildMaxMs ?? 100 },
    () => rebuild(),
  );

  function snapshotOfMaps(): MeshSnapshot {
    const out: Record<string, Resource[]> = {};
    for (const [field, map] of maps) out[field] = [...map.values()];
    return out as unknown as MeshSnapshot;
  }

  function rebuild(): void {
    if (closed) return;
    index = createMeshIndex(snapshotOfMaps());
    if (meshChanged) {
      meshChanged = false;
      cacheIndex = index;
      caches = new Map();
      builder.nextGeneration();
      generation++;
      perNode = new WeakMap();
      proxyless = new WeakMap();
      weighted = new WeakMap();
      logger.debug(`mesh: rebuilt at revision ${revision} (generation ${generation})`);
      const previous = asked;
      asked = [];
      for (const l of listeners) l({});
      warm(previous, generation);
    }
    options.onIndex?.(index);
  }

  async function list(): Promise<number> {
    listedAt = new Map();
    for (const map of maps.values()) map.clear();
    let from = Number.POSITIVE_INFINITY;
    for (const [apiVersion, kind, field] of MESH_KINDS) {
      const result = await store.list({ apiVersion, kind });
      for (const r of result.items) maps.get(field)!.set(keyString(keyOf(r)), r);
      listedAt.set(field, result.revision);
      from = Math.min(from, result.revision);
      revision = Math.max(revision, result.revision);
    }
    return from;
  }

  /** List every kind, then watch from the oldest list revision (events a list already holds are skipped). */
  async function sync(): Promise<void> {
    for (;;) {
      const from = await list();
      if (closed) return;
      try {
        watch = store.watch(from, onEvent, (reason) => {
          if (reason === 'closed' && !closed) logger.info('mesh: the store closed; no more updates');
        });
        return;
      } catch (err) {
        if (err instanceof ControlError && err.code === 'WEFT_REVISION_COMPACTED') {
          logger.info(`mesh: ${err.message}; listing again`);
          continue;
        }
        throw err;
      }
    }
  }

  function onEvent(event: WatchEvent): void {
    if (closed) return;
    const r = event.resource;
    const field = fieldOf.get(`${r.apiVersion}|${r.kind}`);
    if (field === undefined) return;
    revision = Math.max(revision, event.revision);
    if (event.revision <= (listedAt.get(field) ?? 0)) return;
    const map = maps.get(field)!;
    const k = keyString(keyOf(r));
    const before = map.get(k);
    if (event.type === 'DELETED') map.delete(k);
    else map.set(k, r);
    if (!(event.type === 'MODIFIED' && before !== undefined && onlyStatusChanged(before, r)))
      meshChanged = true;
    debouncer.trigger(true);
  }

  /**
   * Builds the new generation's Snapshots of proxies served in the previous one, WARM_BATCH per
   * event-loop turn, so the ADS server's push (after its debounce, 100 ms by default) finds
   * them ready instead of translating inside its pass over every stream (bench:control,
   * issue 5). Stops when another rebuild or close() overtakes it; a proxy that has gone
   * away costs one lookup.
   */
  function warm(nodes: readonly ProxyNode[], forGeneration: number): void {
    let at = 0;
    const step = (): void => {
      if (closed || generation !== forGeneration) return;
      const end = Math.min(nodes.length, at + WARM_BATCH);
      for (; at < end; at++) snapshotFor(nodes[at]);
      if (at < nodes.length) setImmediate(step);
    };
    if (nodes.length > 0) setImmediate(step);
  }

  function snapshotFor(node: ProxyNode): Snapshot {
    let snapshot = perNode.get(node);
    if (snapshot === undefined) {
      snapshot = builder.build(resourcesFor(node));
      perNode.set(node, snapshot);
      asked.push(node);
    }
    return snapshot;
  }

  function resourcesFor(node: ProxyNode): ResourcesByType {
    let who = identities.get(node);
    if (who === undefined) identities.set(node, (who = nodeIdentityOf(node)));
    if (who.problem !== undefined && !warned.has(node)) {
      warned.add(node);
      logger.warn(`xds: ${who.problem}`);
    }
    let cache = caches.get(who.overridesKey);
    if (cache === undefined) {
      cache = createTranslationCache(cacheIndex, { ...options.translate, ...who.overrides });
      caches.set(who.overridesKey, cache);
    }
    const translation = cache.get(who.identity);
    if (!who.proxyless) return translation.resources;
    let out = proxyless.get(translation.resources);
    if (out === undefined) {
      const t = translation.resources;
      out = {
        [LISTENER_TYPE]: grpcApiListeners(cacheIndex, who.identity.namespace),
        [ROUTE_TYPE]: t[ROUTE_TYPE].map(grpcRouteConfiguration),
        [CLUSTER_TYPE]: grpcClusters(t[CLUSTER_TYPE]),
        [ENDPOINT_TYPE]: grpcEndpoints(t[ENDPOINT_TYPE], (e) => {
          let w = weighted.get(e);
          if (w === undefined) weighted.set(e, (w = withLocalityWeights(e)));
          return w;
        }),
      };
      proxyless.set(translation.resources, out);
    }
    return out;
  }

  return {
    async start() {
      await sync();
      index = cacheIndex = createMeshIndex(snapshotOfMaps());
      caches = new Map();
      generation = 1;
      logger.info(`mesh: ${MESH_KINDS.map(([, , f]) => `${maps.get(f)!.size} ${f}`).join(', ')}`);
      options.onIndex?.(index);
    },
    snapshotFor,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    flush() {
      debouncer.flush();
    },
    close() {
      closed = true;
      debouncer.cancel();
      watch?.cancel();
      listeners.clear();
    },
    index: () => index,
    revision: () => revision,
    findSet: (typeUrl, version) => builder.findSet(typeUrl, version),
    get generation() {
      return generation;
    },
  };
}

/** The change touched only status (and resourceVersion): nothing the translator reads. */
function onlyStatusChanged(before: Resource, after: Resource): boolean {
  return (
    before.metadata.generation === after.metadata.generation &&
    JSON.stringify(before.metadata.labels ?? {}) === JSON.stringify(after.metadata.labels ?? {}) &&
    JSON.stringify(before.metadata.annotations ?? {}) === JSON.stringify(after.metadata.annotations ?? {})
  );
}
