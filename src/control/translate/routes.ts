// The outbound RouteConfiguration (RDS) of a proxy: one virtual host per HTTP, HTTP2 or
// GRPC Service port, whose domains are the Host values that address that port, and whose
// routes are the Gateway API routes attached to it (consumer or producer, in precedence
// order, no match -> 404 as Gateway API requires), else the SMI splits and a default route.

import type { ServicePort } from '../kinds/mesh-types.js';
import { clusterOf } from './backends.js';
import { grpcRoutes, httpRoutes, type RouteContext } from './gateway-routes.js';
import type { MeshIndex, Service } from './mesh-index.js';
import { OUTBOUND_HTTP, serviceDomains } from './names.js';
import { hashPolicy } from './policy.js';
import { orderGrpcMatches, orderHttpMatches } from './route-precedence.js';
import { attachedRoutes } from './route-selection.js';
import { smiAndDefaultRoutes } from './smi-routes.js';
import { namespaceOf } from './snapshot.js';
import type { EnvoyJson, XdsResource } from './xds-resources.js';

export function isHttpPort(port: ServicePort): boolean {
  return port.protocol !== 'TCP';
}

/** The port a Host without `:port` means: 80 if the Service has it, else its only HTTP port. */
export function defaultHttpPort(service: Service): number | undefined {
  const http = service.spec.ports.filter(isHttpPort);
  if (http.some((p) => p.port === 80)) return 80;
  return http.length === 1 ? http[0].port : undefined;
}

/** Looks up the hash policy of the Service port behind an outbound cluster name. */
export function createHashPolicyLookup(index: MeshIndex): (cluster: string) => EnvoyJson[] | undefined {
  const byCluster = new Map<string, EnvoyJson[] | undefined>();
  for (const service of index.services) {
    for (const port of service.spec.ports) {
      byCluster.set(clusterOf(service, port), hashPolicy(index.policyFor(service, port.port)?.spec));
    }
  }
  return (cluster) => byCluster.get(cluster);
}

/** The routes of one Service port as seen from `clientNamespace`. */
export function serviceRoutes(
  ctx: RouteContext,
  service: Service,
  port: ServicePort,
  clientNamespace: string,
): EnvoyJson[] {
  const attached = attachedRoutes(ctx.index, service, port, clientNamespace);
  if (attached.source === 'none') return smiAndDefaultRoutes(ctx, service, port);
  const routeCtx = { ...ctx, parent: service, parentProtocol: port.protocol };
  return [
    ...httpRoutes(routeCtx, orderHttpMatches(attached.http)),
    ...grpcRoutes(routeCtx, orderGrpcMatches(attached.grpc)),
  ];
}

export function outboundRouteConfiguration(
  index: MeshIndex,
  clientNamespace: string,
  usedClusters: Set<string>,
): XdsResource {
  const hashPolicyFor = createHashPolicyLookup(index);
  const virtualHosts: EnvoyJson[] = [];
  const taken = new Set<string>();
  for (const service of index.services) {
    const ns = namespaceOf(service);
    const def = defaultHttpPort(service);
    for (const port of service.spec.ports) {
      if (!isHttpPort(port)) continue;
      const ctx: RouteContext = { index, parent: service, usedClusters, hashPolicyFor };
      // A domain may appear in one virtual host only (Envoy rejects duplicates).
      const domains = serviceDomains(
        service.metadata.name,
        ns,
        port.port,
        ns === clientNamespace,
        def === port.port,
      ).filter((d) => !taken.has(d));
      for (const d of domains) taken.add(d);
      virtualHosts.push({
        name: `${service.metadata.name}.${ns}:${port.port}`,
        domains,
        routes: serviceRoutes(ctx, service, port, clientNamespace),
      });
    }
  }
  // validate_clusters false: with RDS the clusters arrive separately (CDS), as in Envoy.
  return {
    name: OUTBOUND_HTTP,
    resource: { name: OUTBOUND_HTTP, virtual_hosts: virtualHosts, validate_clusters: false },
  };
}
