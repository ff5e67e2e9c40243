// A translation as a static Envoy bootstrap: EDS clusters become STATIC clusters with
// their ClusterLoadAssignment inlined as `load_assignment`, and listeners using RDS get
// the RouteConfiguration inlined as `route_config`. Used to check translated output with
// the proxy's own validator and to run a proxy on it without xDS (tests, `weft` demos).

import {
  CLUSTER_TYPE,
  ENDPOINT_TYPE,
  type EnvoyJson,
  LISTENER_TYPE,
  ROUTE_TYPE,
  type Translation,
} from './xds-resources.js';

export function toStaticBootstrap(t: Translation, admin?: EnvoyJson): EnvoyJson {
  const routes = new Map(t.resources[ROUTE_TYPE].map((r) => [r.name, r.resource]));
  const endpoints = new Map(t.resources[ENDPOINT_TYPE].map((r) => [r.name, r.resource]));
  const listeners = t.resources[LISTENER_TYPE].map((l) => inlineRds(structuredClone(l.resource), routes));
  const clusters = t.resources[CLUSTER_TYPE].map((c) => {
    const cluster = structuredClone(c.resource);
    if (cluster.type !== 'EDS') return cluster;
    const name = String(cluster.name);
    delete cluster.eds_cluster_config;
    cluster.type = 'STATIC';
    cluster.load_assignment = structuredClone(endpoints.get(name) ?? { cluster_name: name, endpoints: [] });
    return cluster;
  });
  const out: EnvoyJson = { static_resources: { listeners, clusters } };
  if (admin !== undefined) out.admin = admin;
  return out;
}

function inlineRds(listener: EnvoyJson, routes: Map<string, EnvoyJson>): EnvoyJson {
  for (const chain of (listener.filter_chains as EnvoyJson[] | undefined) ?? []) {
    for (const filter of (chain.filters as EnvoyJson[] | undefined) ?? []) {
      const tc = filter.typed_config as EnvoyJson | undefined;
      const rds = tc?.rds as EnvoyJson | undefined;
      if (tc === undefined || rds === undefined) continue;
      delete tc.rds;
      const rc = structuredClone(routes.get(String(rds.route_config_name)) ?? { virtual_hosts: [] });
      // Inline route configs validate their clusters by default; keep that check on.
      delete rc.validate_clusters;
      tc.route_config = rc;
    }
  }
  return listener;
}
