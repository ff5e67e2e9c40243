// The part of the running config that came over xDS, as the proxy server applies it: the
// clusters and listeners that are *active* (warmed), the route configurations RDS listeners
// use, and the EDS endpoints by service name. Produced by the xDS state
// (dynamic-resources.ts); consumed by ProxyServer.applyDynamic.

import type { Cluster, ClusterLoadAssignment, Listener, RouteConfiguration } from '../../config/model.js';

export interface DynamicConfig {
  readonly clusters: readonly Cluster[];
  readonly listeners: readonly Listener[];
  /** Route configurations by name, for HCMs with `rds` (static or dynamic listeners). */
  readonly routes: ReadonlyMap<string, RouteConfiguration>;
  /** ClusterLoadAssignments by EDS service name. */
  readonly endpoints: ReadonlyMap<string, ClusterLoadAssignment>;
}

export const EMPTY_DYNAMIC_CONFIG: DynamicConfig = {
  clusters: [],
  listeners: [],
  routes: new Map(),
  endpoints: new Map(),
};

/** The clusters a route configuration sends traffic to (single and weighted). */
export function routeClusters(config: RouteConfiguration): string[] {
  const out = new Set<string>();
  for (const vh of config.virtualHosts) {
    for (const route of vh.routes) {
      if (route.action.kind !== 'route') continue;
      const c = route.action.cluster;
      if (c.kind === 'cluster') out.add(c.name);
      else for (const w of c.clusters) out.add(w.name);
    }
  }
  return [...out];
}

/** The route configuration names a listener's HCMs fetch over RDS. */
export function listenerRdsNames(listener: Listener): string[] {
  const out: string[] = [];
  for (const chain of listener.filterChains) {
    for (const f of chain.filters) {
      if (f.kind === 'http_connection_manager' && f.config.rds !== null)
        out.push(f.config.rds.routeConfigName);
    }
  }
  return out;
}

/** Clusters a listener names directly: tcp_proxy and inline route configurations. */
export function listenerClusters(listener: Listener): string[] {
  const out = new Set<string>();
  for (const chain of listener.filterChains) {
    for (const f of chain.filters) {
      if (f.kind === 'tcp_proxy') {
        if (f.config.weightedClusters !== undefined)
          for (const c of f.config.weightedClusters) out.add(c.name);
        else out.add(f.config.cluster);
      } else if (f.kind === 'http_connection_manager' && f.config.rds === null)
        for (const c of routeClusters(f.config.routeConfig)) out.add(c);
    }
  }
  return [...out];
}
