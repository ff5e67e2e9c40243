// Which Gateway API routes apply to a client's traffic to one Service port (GAMMA,
// Gateway API "mesh" docs and GEP-1426):
// - a route attaches to a Service through a parentRef with `kind: Service` and group ""
//   (or "core"), optionally narrowed by `port` (a Service port number) or `sectionName`
//   (a Service port name);
// - a producer route lives in the Service's namespace and applies to every client;
// - a consumer route lives in the client's namespace (another one) and applies only to
//   clients there; when a client's namespace has consumer routes for the Service, they
//   replace the producer routes for that client.

import { isCoreGroup } from '../kinds/gateway-common.js';
import type { GRPCRouteSpec, HTTPRouteSpec, ParentReference, RouteStatus } from '../kinds/gateway-types.js';
import type { ServicePort } from '../kinds/mesh-types.js';
import type { Resource } from '../resource.js';
import type { MeshIndex, Service } from './mesh-index.js';
import { namespaceOf } from './snapshot.js';

export type HttpRouteResource = Resource<HTTPRouteSpec, RouteStatus>;
export type GrpcRouteResource = Resource<GRPCRouteSpec, RouteStatus>;

/** Whether a parentRef names this Service (ignoring the port). */
export function refersToService(ref: ParentReference, routeNamespace: string, service: Service): boolean {
  return (
    ref.kind === 'Service' &&
    isCoreGroup(ref.group) &&
    ref.name === service.metadata.name &&
    (ref.namespace ?? routeNamespace) === namespaceOf(service)
  );
}

/** Whether a parentRef names this Service and covers the port. */
export function parentRefCovers(
  ref: ParentReference,
  routeNamespace: string,
  service: Service,
  port: ServicePort,
): boolean {
  if (!refersToService(ref, routeNamespace, service)) return false;
  if (ref.port !== undefined && ref.port !== port.port) return false;
  if (ref.sectionName !== undefined && ref.sectionName !== port.name) return false;
  return true;
}

export interface AttachedRoutes {
  readonly http: readonly HttpRouteResource[];
  readonly grpc: readonly GrpcRouteResource[];
  /** 'consumer' when the client's namespace overrides the producer's routes. */
  readonly source: 'producer' | 'consumer' | 'none';
}

/** The routes that decide where a client in `clientNamespace` sends traffic for the Service port. */
export function attachedRoutes(
  index: MeshIndex,
  service: Service,
  port: ServicePort,
  clientNamespace: string,
): AttachedRoutes {
  if (port.protocol === 'TCP') return { http: [], grpc: [], source: 'none' };
  const serviceNs = namespaceOf(service);
  const pick = <R extends HttpRouteResource | GrpcRouteResource>(routes: readonly R[], ns: string): R[] =>
    routes.filter(
      (r) =>
        namespaceOf(r) === ns &&
        (r.spec.parentRefs ?? []).some((ref) => parentRefCovers(ref, ns, service, port)),
    );
  if (clientNamespace !== serviceNs) {
    const http = pick(index.snapshot.httpRoutes, clientNamespace);
    const grpc = pick(index.snapshot.grpcRoutes, clientNamespace);
    if (http.length > 0 || grpc.length > 0) return { http, grpc, source: 'consumer' };
  }
  const http = pick(index.snapshot.httpRoutes, serviceNs);
  const grpc = pick(index.snapshot.grpcRoutes, serviceNs);
  return { http, grpc, source: http.length > 0 || grpc.length > 0 ? 'producer' : 'none' };
}
