// The translator's entry point: one proxy's complete xDS (LDS, RDS, CDS, EDS) from a
// MeshIndex. Pure: the same snapshot and identity always give the same resources.

import { withStdoutAccessLogs } from './access-logs.js';
import { inboundClusters, invalidBackendCluster, outboundClusters } from './clusters.js';
import { clusterLoadAssignments } from './endpoints.js';
import { type InboundPort, inboundPorts } from './inbound.js';
import {
  inboundListeners,
  type ListenerOptions,
  outboundHttpListener,
  outboundTcpListeners,
} from './listeners.js';
import { type LocalPorts, localPortsOf, NO_LOCAL_PORTS } from './local-ports.js';
import type { MeshIndex } from './mesh-index.js';
import { INVALID_BACKEND_CLUSTER } from './names.js';
import { outboundRouteConfiguration } from './routes.js';
import type { ProxyIdentity, TranslateOptions } from './snapshot.js';
import { upstreamListeners } from './upstream-listeners.js';
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
  /** A Weft sidecar (even when its Workload is missing): sidecar-protocols.ts applies. */
  readonly sidecar: boolean;
  readonly namespace: string;
  readonly inbound: readonly InboundPort[];
  /** The local ports its Workload's annotations ask for (local-ports.ts). */
  readonly local: LocalPorts;
  readonly warnings: readonly string[];
}

export function planProxy(index: MeshIndex, identity: ProxyIdentity): ProxyPlan {
  const warnings: string[] = [];
  const base = { namespace: identity.namespace, inbound: [], local: NO_LOCAL_PORTS, warnings };
  if (identity.kind === 'consumer') return { ...base, sidecar: false };
  const workload = index.workload(identity.namespace, identity.workload);
  if (workload === undefined) {
    warnings.push(
      `Workload ${identity.namespace}/${identity.workload} not found; serving outbound config only`,
    );
    return { ...base, sidecar: true };
  }
  return {
    ...base,
    sidecar: true,
    inbound: inboundPorts(index, workload, warnings),
    local: localPortsOf(index, workload, warnings),
  };
}

/**
 * The options in force for a plan. The outbound HTTP port: node metadata (`nodeOutboundHttpPort`)
 * over the Workload annotation over the `outboundHttpPort` option over 15001.
 */
export function resolveOptions(
  options: TranslateOptions,
  plan?: ProxyPlan,
): ListenerOptions & { appAddress: string } {
  return {
    outboundHttpPort:
      options.nodeOutboundHttpPort ?? plan?.local.outboundHttpPort ?? options.outboundHttpPort ?? 15001,
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
  const opts = resolveOptions(options, plan);
  // Shape warnings (not naming the Workload: proxies of one shape share them).
  const warnings: string[] = [];
  const used = new Set<string>();
  const routeConfig = outboundRouteConfiguration(index, plan.namespace, used);
  // Local ports, first come first served: inbound, outbound HTTP, upstream, implicit TCP.
  const owners = new Map<number, string>();
  for (const p of plan.inbound) owners.set(p.port, `the inbound listener ${p.port}`);
  owners.set(opts.outboundHttpPort, 'the outbound HTTP listener');
  const upstream = upstreamListeners(index, plan.local, plan.namespace, opts, owners, used, warnings);
  const listeners = [
    ...inboundListeners(plan.inbound, opts),
    outboundHttpListener(opts),
    ...upstream.listeners,
    // A Workload that declares its local ports gets only those (local-ports.ts).
    ...(plan.local.declared ? [] : outboundTcpListeners(index, opts, owners, used, warnings)),
  ];
  const clusters = [
    ...outboundClusters(index, plan.sidecar),
    ...inboundClusters(plan.inbound, opts.appAddress),
  ];
  if (used.has(INVALID_BACKEND_CLUSTER)) clusters.push(invalidBackendCluster());
  return {
    resources: {
      [LISTENER_TYPE]: (options.accessLog === 'stdout' ? withStdoutAccessLogs(listeners) : listeners).sort(
        byName,
      ),
      [ROUTE_TYPE]: [routeConfig, ...upstream.routes].sort(byName),
      [CLUSTER_TYPE]: clusters.sort(byName),
      [ENDPOINT_TYPE]: [...endpoints].sort(byName),
    },
    warnings,
  };
}

/** One proxy's xDS resources (its own Workload's warnings first). */
export function translateProxy(
  index: MeshIndex,
  identity: ProxyIdentity,
  options: TranslateOptions = {},
): Translation {
  const plan = planProxy(index, identity);
  const t = translatePlan(index, plan, options);
  return { resources: t.resources, warnings: [...plan.warnings, ...t.warnings] };
}
