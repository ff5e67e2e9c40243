// From a flat list of validated resources to the MeshSnapshot the translator (and the
// analysers) read, and the "what if I apply this" merge: resources from files replace the
// live ones with the same key, keeping the live creationTimestamp as an apply would (so
// route precedence by age comes out as it will after the apply).

import { GATEWAY_API_VERSION } from '../kinds/gateway-types.js';
import { SMI_SPECS_API_VERSION } from '../kinds/http-route-group.js';
import { WEFT_API_VERSION } from '../kinds/mesh-types.js';
import { TRAFFIC_SPLIT_API_VERSION } from '../kinds/traffic-split.js';
import type { Resource } from '../resource.js';
import { EMPTY_SNAPSHOT, type MeshSnapshot } from '../translate/snapshot.js';

type Field = keyof MeshSnapshot;

const FIELD_OF: ReadonlyMap<string, Field> = new Map<string, Field>([
  [`${WEFT_API_VERSION}|Service`, 'services'],
  [`${WEFT_API_VERSION}|Workload`, 'workloads'],
  [`${WEFT_API_VERSION}|DestinationPolicy`, 'destinationPolicies'],
  [`${GATEWAY_API_VERSION}|HTTPRoute`, 'httpRoutes'],
  [`${GATEWAY_API_VERSION}|GRPCRoute`, 'grpcRoutes'],
  [`${TRAFFIC_SPLIT_API_VERSION}|TrafficSplit`, 'trafficSplits'],
  [`${SMI_SPECS_API_VERSION}|HTTPRouteGroup`, 'httpRouteGroups'],
  [`${SMI_SPECS_API_VERSION}|TCPRoute`, 'tcpRoutes'],
]);

/** `apiVersion|kind|namespace|name`: one stored resource. */
export function resourceKey(r: Resource<unknown, unknown>): string {
  return `${r.apiVersion}|${r.kind}|${r.metadata.namespace ?? ''}|${r.metadata.name}`;
}

/** Sorts validated resources into a MeshSnapshot; kinds the translator does not read are left out. */
export function snapshotOfResources(resources: readonly Resource<unknown, unknown>[]): MeshSnapshot {
  const out: Record<Field, Resource<unknown, unknown>[]> = {
    services: [],
    workloads: [],
    httpRoutes: [],
    grpcRoutes: [],
    trafficSplits: [],
    httpRouteGroups: [],
    tcpRoutes: [],
    destinationPolicies: [],
  };
  for (const r of resources) {
    const field = FIELD_OF.get(`${r.apiVersion}|${r.kind}`);
    if (field !== undefined) out[field].push(r);
  }
  return { ...EMPTY_SNAPSHOT, ...(out as unknown as MeshSnapshot) };
}

/**
 * The live resources with `overrides` applied on top: a same-key override replaces the live
 * resource but keeps its creationTimestamp (an update keeps it) and its status; new ones
 * are added without a timestamp (they count as the newest).
 */
export function mergeResources(
  live: readonly Resource[],
  overrides: readonly Resource[],
): { readonly resources: Resource[]; readonly replaced: number } {
  const byKey = new Map<string, Resource>();
  for (const r of live) byKey.set(resourceKey(r), r);
  let replaced = 0;
  for (const o of overrides) {
    const key = resourceKey(o);
    const before = byKey.get(key);
    if (before === undefined) {
      byKey.set(key, o);
      continue;
    }
    replaced++;
    const metadata = { ...o.metadata };
    if (before.metadata.creationTimestamp !== undefined)
      metadata.creationTimestamp = before.metadata.creationTimestamp;
    byKey.set(key, { ...o, metadata, ...(before.status === undefined ? {} : { status: before.status }) });
  }
  return { resources: [...byKey.values()], replaced };
}
