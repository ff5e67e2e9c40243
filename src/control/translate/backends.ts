// From backendRefs to an Envoy cluster choice: resolving each reference to a Service port
// (or to the reason it is invalid), expanding a Service that is the root of an SMI
// TrafficSplit into the split's backends, and writing the result as `cluster` or
// `weighted_clusters` (Gateway API: weight / sum of weights, default 1, 0 = no traffic;
// an invalid reference's share of traffic gets an error, all-invalid gets a 500).

import { isCoreGroup } from '../kinds/gateway-common.js';
import type { BackendObjectReference } from '../kinds/gateway-types.js';
import type { ServicePort } from '../kinds/mesh-types.js';
import type { MeshIndex, Service } from './mesh-index.js';
import { INVALID_BACKEND_CLUSTER, outboundClusterName } from './names.js';
import { namespaceOf } from './snapshot.js';
import type { EnvoyJson } from './xds-resources.js';

export type ResolvedBackend =
  | { readonly ok: true; readonly service: Service; readonly port: ServicePort }
  | {
      readonly ok: false;
      readonly reason: 'InvalidKind' | 'BackendNotFound' | 'RefNotPermitted';
      readonly message: string;
    };

/**
 * Resolves a backendRef of a route in `routeNamespace` attached to `parent`. A reference
 * into another namespace is permitted only into the parent Service's own namespace (a
 * consumer route forwarding to the producer's Services); Weft has no ReferenceGrant yet.
 */
export function resolveBackendRef(
  index: MeshIndex,
  ref: BackendObjectReference,
  routeNamespace: string,
  parentNamespace: string,
): ResolvedBackend {
  const kind = ref.kind ?? 'Service';
  if (kind !== 'Service' || !isCoreGroup(ref.group)) {
    return {
      ok: false,
      reason: 'InvalidKind',
      message: `backend kind '${ref.group ? `${ref.group}/` : ''}${kind}' is not supported; use a Service`,
    };
  }
  const ns = ref.namespace ?? routeNamespace;
  if (ns !== routeNamespace && ns !== parentNamespace) {
    return {
      ok: false,
      reason: 'RefNotPermitted',
      message: `backend Service ${ns}/${ref.name} is in another namespace than the route and its parent`,
    };
  }
  const service = index.service(ns, ref.name);
  if (service === undefined)
    return { ok: false, reason: 'BackendNotFound', message: `Service ${ns}/${ref.name} not found` };
  const port = service.spec.ports.find((p) => p.port === ref.port);
  if (port === undefined) {
    return {
      ok: false,
      reason: 'BackendNotFound',
      message: `Service ${ns}/${ref.name} has no port ${ref.port ?? '(none given)'}`,
    };
  }
  return { ok: true, service, port };
}

/** One weighted destination before it is written as Envoy JSON. */
export interface WeightedTarget {
  readonly resolved: ResolvedBackend;
  readonly weight: number;
  /** Header mutations of a backendRef's own filters (ClusterWeight fields). */
  readonly mutations?: EnvoyJson;
}

interface Share {
  cluster: string;
  weight: number;
  mutations?: EnvoyJson;
}

/**
 * The Envoy RouteAction cluster specifier for the targets: `{cluster}` or
 * `{weighted_clusters}`; null when no traffic can be forwarded (every target invalid or of
 * weight 0), which the caller answers with a 500.
 */
export function clusterSpecifier(
  index: MeshIndex,
  targets: readonly WeightedTarget[],
  usedClusters: Set<string>,
): EnvoyJson | null {
  const live = targets.filter((t) => t.weight > 0);
  if (!live.some((t) => t.resolved.ok)) return null;
  const groups: Share[][] = live.map((t) =>
    t.resolved.ok
      ? expandSplit(index, t.resolved.service, t.resolved.port).map((s) => ({ ...s, mutations: t.mutations }))
      : [{ cluster: INVALID_BACKEND_CLUSTER, weight: 1 }],
  );
  const shares = scaleWeights(
    live.map((t) => t.weight),
    groups,
  );
  for (const s of shares) usedClusters.add(s.cluster);
  if (shares.length === 1 && shares[0].mutations === undefined) return { cluster: shares[0].cluster };
  return {
    weighted_clusters: {
      clusters: shares.map((s) => ({ name: s.cluster, weight: s.weight, ...(s.mutations ?? {}) })),
    },
  };
}

/**
 * The clusters traffic to a Service port really goes to: the Service's own cluster, or,
 * when the Service is the root of a TrafficSplit without `matches`, the split's backends
 * (the oldest such split; a backend is the same-numbered port of the backend Service, or
 * the same-named one). One level only: a backend that is itself a root is not re-split.
 */
export function expandSplit(index: MeshIndex, service: Service, port: ServicePort): Share[] {
  const split = index.splitsFor(service).find((s) => (s.spec.matches ?? []).length === 0);
  if (split === undefined) return [{ cluster: clusterOf(service, port), weight: 1 }];
  return splitShares(index, split.spec.backends, namespaceOf(service), port);
}

/** The shares of a TrafficSplit's backends for one root port. */
export function splitShares(
  index: MeshIndex,
  backends: readonly { service: string; weight: number }[],
  namespace: string,
  rootPort: ServicePort,
): Share[] {
  const out: Share[] = [];
  for (const b of backends) {
    if (b.weight <= 0) continue;
    const svc = index.service(namespace, b.service);
    const port =
      svc?.spec.ports.find((p) => p.port === rootPort.port) ??
      svc?.spec.ports.find((p) => p.name === rootPort.name);
    const cluster = svc !== undefined && port !== undefined ? clusterOf(svc, port) : INVALID_BACKEND_CLUSTER;
    out.push({ cluster, weight: b.weight });
  }
  return out;
}

export function clusterOf(service: Service, port: ServicePort): string {
  return outboundClusterName(service.metadata.name, namespaceOf(service), port.port);
}

/**
 * Combines outer weights (backendRefs) with inner ones (split backends) exactly: each
 * group is scaled to a common total (the LCM of the group totals), so 1:1 over a 20/80
 * split gives 10/40/10/40, not a rounded approximation. Shares to the same cluster with
 * no per-backend mutations are merged. Falls back to parts per million when exact
 * integers would not fit Envoy's uint32 weights.
 */
function scaleWeights(outer: readonly number[], groups: readonly Share[][]): Share[] {
  const totals = groups.map((g) => g.reduce((s, x) => s + x.weight, 0));
  let lcm = 1;
  for (const t of totals) lcm = t === 0 ? lcm : (lcm / gcd(lcm, t)) * t;
  let shares: Share[] = [];
  groups.forEach((g, i) => {
    if (totals[i] === 0) return;
    for (const s of g) shares.push({ ...s, weight: outer[i] * s.weight * (lcm / totals[i]) });
  });
  const sum = shares.reduce((s, x) => s + x.weight, 0);
  if (sum > 0xffff_ffff) {
    shares = shares
      .map((s) => ({ ...s, weight: Math.round((s.weight / sum) * 1_000_000) }))
      .filter((s) => s.weight > 0);
  }
  const divisor = shares.reduce((g, s) => gcd(g, s.weight), 0) || 1;
  const merged = new Map<string, Share>();
  const out: Share[] = [];
  for (const s of shares) {
    const w = s.weight / divisor;
    const existing = s.mutations === undefined ? merged.get(s.cluster) : undefined;
    if (existing !== undefined) existing.weight += w;
    else {
      const share = { ...s, weight: w };
      out.push(share);
      if (s.mutations === undefined) merged.set(s.cluster, share);
    }
  }
  return out;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
