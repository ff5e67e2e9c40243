// The translator's entry point: one proxy's complete xDS (LDS, RDS, CDS, EDS) from a
// MeshIndex. Pure: the same snapshot and identity always give the same resources.

import { inboundClusters, invalidBackendCluster, outboundClusters } from './clusters.js';
import { clusterLoadAssignments } from './endpoints.js';
import { type InboundPort, inboundPorts } from './inbound.js';
import {
  inboundListeners,
  type ListenerOptions,
  outboundHttpListener,
  outboundTcpListeners,
} from './listeners.js';
import type { MeshIndex } from './mesh-index.js';
import { INVALID_BACKEND_CLUSTER } from './names.js';
import { outboundRouteConfiguration } from './routes.js';
import { namespaceOf, type ProxyIdentity, type TranslateOptions } from './snapshot.js';
import {
  byName,
  CLUSTER_TYPE,
  ENDPOINT_TYPE,
  LISTENER_TYPE,
  ROUTE_TYPE,
  type Translation,
  type XdsResource,
} from './xds-resources.js';

/** What a proxy's translation depends on besides the snapshot: see translation-cache.ts. */
export interface ProxyPlan {
  readonly namespace: string;
  readonly inbound: readonly InboundPort[];
  readonly warnings: readonly string[];
}

export function planProxy(index: MeshIndex, identity: ProxyIdentity): ProxyPlan {
  const warnings: string[] = [];
  if (identity.kind === 'consumer') return { namespace: identity.namespace, inbound: [], warnings };
  const workload = index.snapshot.workloads.find(
    (w) => namespaceOf(w) === identity.namespace && w.metadata.name === identity.workload,
  );
  if (workload === undefined) {
    warnings.push(
      `Workload ${identity.namespace}/${identity.workload} not found; serving outbound config only`,
    );
    return { namespace: identity.namespace, inbound: [], warnings };
  }
  return { namespace: identity.namespace, inbound: inboundPorts(index, workload, warnings), warnings };
}

export function resolveOptions(options: TranslateOptions): ListenerOptions & { appAddress: string } {
  return {
    outboundHttpPort: options.outboundHttpPort ?? 15001,
    outboundAddress: options.outboundAddress ?? '127.0.0.1',
    inboundAddress: options.inboundAddress ?? '0.0.0.0',
    appAddress: options.appAddress ?? '127.0.0.1',
  };
}

/** Translates a planned proxy; `endpoints` may be shared between proxies of one snapshot. */
export function translatePlan(
  index: MeshIndex,
  plan: ProxyPlan,
  options: TranslateOptions = {},
  endpoints: readonly XdsResource[] = clusterLoadAssignments(index),
): Translation {
  const opts = resolveOptions(options);
  const warnings = [...plan.warnings];
  const used = new Set<string>();
  const routeConfig = outboundRouteConfiguration(index, plan.namespace, used);
  const reserved = new Set<number>([opts.outboundHttpPort, ...plan.inbound.map((p) => p.port)]);
  const listeners = [
    ...inboundListeners(plan.inbound, opts),
    outboundHttpListener(opts),
    ...outboundTcpListeners(index, opts, reserved, used, warnings),
  ];
  const clusters = [...outboundClusters(index), ...inboundClusters(plan.inbound, opts.appAddress)];
  if (used.has(INVALID_BACKEND_CLUSTER)) clusters.push(invalidBackendCluster());
  return {
    resources: {
      [LISTENER_TYPE]: listeners.sort(byName),
      [ROUTE_TYPE]: [routeConfig],
      [CLUSTER_TYPE]: clusters.sort(byName),
      [ENDPOINT_TYPE]: [...endpoints].sort(byName),
    },
    warnings,
  };
}

/** One proxy's xDS resources. */
export function translateProxy(
  index: MeshIndex,
  identity: ProxyIdentity,
  options: TranslateOptions = {},
): Translation {
  return translatePlan(index, planProxy(index, identity), options);
}
