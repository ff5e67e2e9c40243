// What a proxyless gRPC client (@grpc/grpc-js-xds, grpc-go, grpc-java) needs beyond the
// translator's consumer output, added here so the translator stays about proxies:
//
// - LDS: for `xds:///TARGET` the client subscribes to a Listener named TARGET that carries an
//   `api_listener` (an HttpConnectionManager) instead of a socket address (gRFC A27). One per
//   Host form of every GRPC and HTTP2 Service port (`svc.ns:PORT`, `svc.ns.svc:PORT`,
//   `svc.ns.svc.cluster.local:PORT`, `svc:PORT` in the client's own namespace, and the
//   port-less forms for the default port) — exactly the domains of the `outbound_http` route
//   configuration, which the listener names over RDS. The client matches virtual hosts by its
//   target, so one shared RouteConfiguration serves every target.
// - EDS: gRPC ignores a locality without `load_balancing_weight` (it uses weighted_target over
//   localities) and refuses an endpoint group without `locality`; the translator leaves both
//   unset when a Workload has no locality (Envoy needs neither), so every group here gets a
//   locality (`{}` when unknown) and the sum of its endpoint weights.
// - RDS/CDS: gRPC refuses a whole RouteConfiguration containing a `redirect` or
//   `direct_response` route (grpc-js-xds 1.14: "unsupported action"), and STATIC clusters, so
//   one broken route anywhere in the mesh would cut every gRPC client off. Such routes are sent
//   instead to the empty cluster `weft|invalid-backend`, served to gRPC as an EDS cluster with
//   no endpoints: the RPC fails with UNAVAILABLE, gRPC's equivalent of the 5xx Envoy answers.
//
// Weft proxies and Envoy never get these variants: several api_listeners would be refused.

import { ROUTER_TYPE_URL } from '../../config/http-filter-registry.js';
import { HCM_TYPE } from '../translate/listeners.js';
import type { MeshIndex } from '../translate/mesh-index.js';
import { INVALID_BACKEND_CLUSTER, OUTBOUND_HTTP, serviceDomains } from '../translate/names.js';
import { defaultHttpPort } from '../translate/routes.js';
import { namespaceOf } from '../translate/snapshot.js';
import { adsConfigSource, type EnvoyJson, type XdsResource } from '../translate/xds-resources.js';

/** API listeners for every GRPC/HTTP2 Service port, as a client in `clientNamespace` addresses them. */
export function grpcApiListeners(index: MeshIndex, clientNamespace: string): XdsResource[] {
  const out: XdsResource[] = [];
  const seen = new Set<string>();
  for (const service of index.services) {
    const ns = namespaceOf(service);
    const defaultPort = defaultHttpPort(service);
    for (const port of service.spec.ports) {
      if (port.protocol !== 'GRPC' && port.protocol !== 'HTTP2') continue;
      const names = serviceDomains(
        service.metadata.name,
        ns,
        port.port,
        ns === clientNamespace,
        port.port === defaultPort,
      );
      for (const name of names) {
        if (seen.has(name)) continue;
        seen.add(name);
        out.push({ name, resource: apiListener(name) });
      }
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function apiListener(name: string): EnvoyJson {
  return {
    name,
    api_listener: {
      api_listener: {
        '@type': HCM_TYPE,
        stat_prefix: name,
        rds: { config_source: adsConfigSource(), route_config_name: OUTBOUND_HTTP },
        http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER_TYPE_URL } }],
      },
    },
  };
}

/** The ClusterLoadAssignment with a locality and a `load_balancing_weight` on every endpoint group (see above). */
export function withLocalityWeights(assignment: XdsResource): XdsResource {
  const endpoints = (assignment.resource.endpoints as EnvoyJson[] | undefined) ?? [];
  const complete = (g: EnvoyJson): boolean =>
    g.load_balancing_weight !== undefined && g.locality !== undefined;
  if (endpoints.every(complete)) return assignment;
  const weighted = endpoints.map((group) => {
    if (complete(group)) return group;
    const members = (group.lb_endpoints as EnvoyJson[] | undefined) ?? [];
    const weight = members.reduce(
      (sum, e) => sum + ((e.load_balancing_weight as number | undefined) ?? 1),
      0,
    );
    return { locality: {}, load_balancing_weight: Math.max(1, weight), ...group };
  });
  return { name: assignment.name, resource: { ...assignment.resource, endpoints: weighted } };
}

/** The route configuration with redirect / direct_response routes sent to the empty cluster. */
export function grpcRouteConfiguration(config: XdsResource): XdsResource {
  const hosts = (config.resource.virtual_hosts as EnvoyJson[] | undefined) ?? [];
  const unsupported = (r: EnvoyJson): boolean => r.redirect !== undefined || r.direct_response !== undefined;
  if (!hosts.some((vh) => ((vh.routes as EnvoyJson[] | undefined) ?? []).some(unsupported))) return config;
  const virtual_hosts = hosts.map((vh) => ({
    ...vh,
    routes: ((vh.routes as EnvoyJson[] | undefined) ?? []).map((r) => {
      if (!unsupported(r)) return r;
      const { redirect: _r, direct_response: _d, ...rest } = r;
      return { ...rest, route: { cluster: INVALID_BACKEND_CLUSTER } };
    }),
  }));
  return { name: config.name, resource: { ...config.resource, virtual_hosts } };
}

/** The clusters with `weft|invalid-backend` as an EDS cluster (gRPC has no STATIC clusters). */
export function grpcClusters(clusters: readonly XdsResource[]): XdsResource[] {
  const out = clusters.filter((c) => c.name !== INVALID_BACKEND_CLUSTER);
  out.push({
    name: INVALID_BACKEND_CLUSTER,
    resource: {
      name: INVALID_BACKEND_CLUSTER,
      type: 'EDS',
      eds_cluster_config: { eds_config: adsConfigSource(), service_name: INVALID_BACKEND_CLUSTER },
      lb_policy: 'ROUND_ROBIN',
    },
  });
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The endpoints with weighted localities, plus the empty assignment of `weft|invalid-backend`. */
export function grpcEndpoints(
  assignments: readonly XdsResource[],
  weighted: (a: XdsResource) => XdsResource,
): XdsResource[] {
  const out = assignments.filter((a) => a.name !== INVALID_BACKEND_CLUSTER).map(weighted);
  out.push({
    name: INVALID_BACKEND_CLUSTER,
    resource: { cluster_name: INVALID_BACKEND_CLUSTER, endpoints: [] },
  });
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
