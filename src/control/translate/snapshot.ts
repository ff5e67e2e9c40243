// What the translator reads: one consistent snapshot of validated resources (arrays per
// kind, plain objects as the store holds them) and the identity of the proxy asking.

import type { DestinationPolicySpec } from '../kinds/destination-policy.js';
import type { GRPCRouteSpec, HTTPRouteSpec, RouteStatus } from '../kinds/gateway-types.js';
import type { HTTPRouteGroupSpec } from '../kinds/http-route-group.js';
import type { ServiceSpec, WorkloadSpec } from '../kinds/mesh-types.js';
import type { TCPRouteSpec } from '../kinds/tcp-route.js';
import type { TrafficSplitSpec } from '../kinds/traffic-split.js';
import type { Resource } from '../resource.js';

export interface MeshSnapshot {
  readonly services: readonly Resource<ServiceSpec>[];
  readonly workloads: readonly Resource<WorkloadSpec>[];
  readonly httpRoutes: readonly Resource<HTTPRouteSpec, RouteStatus>[];
  readonly grpcRoutes: readonly Resource<GRPCRouteSpec, RouteStatus>[];
  readonly trafficSplits: readonly Resource<TrafficSplitSpec>[];
  readonly httpRouteGroups: readonly Resource<HTTPRouteGroupSpec>[];
  readonly tcpRoutes: readonly Resource<TCPRouteSpec>[];
  readonly destinationPolicies: readonly Resource<DestinationPolicySpec>[];
}

/** A snapshot with every list empty; spread it to build partial snapshots. */
export const EMPTY_SNAPSHOT: MeshSnapshot = Object.freeze({
  services: [],
  workloads: [],
  httpRoutes: [],
  grpcRoutes: [],
  trafficSplits: [],
  httpRouteGroups: [],
  tcpRoutes: [],
  destinationPolicies: [],
});

/**
 * Who is asking. A sidecar belongs to one Workload (inbound listeners for its ports plus
 * outbound config); a consumer is a proxy or client in a namespace with no Workload of its
 * own (outbound config only).
 */
export type ProxyIdentity =
  | { readonly kind: 'sidecar'; readonly namespace: string; readonly workload: string }
  | { readonly kind: 'consumer'; readonly namespace: string };

export interface TranslateOptions {
  /**
   * Port of the one outbound HTTP listener on the loopback address (default 15001). A
   * sidecar's Workload annotation `weft.dev/outbound-http-port` wins over it.
   */
  readonly outboundHttpPort?: number;
  /**
   * The port the proxy itself asked for (node metadata WEFT_OUTBOUND_PORT): wins over the
   * Workload annotation and `outboundHttpPort`, since the process knows what it can bind.
   */
  readonly nodeOutboundHttpPort?: number;
  /** Address outbound listeners bind (default 127.0.0.1: only the local app can use them). */
  readonly outboundAddress?: string;
  /** Address inbound listeners bind (default 0.0.0.0). */
  readonly inboundAddress?: string;
  /** Address of the local app behind the inbound listeners (default 127.0.0.1). */
  readonly appAddress?: string;
  /** Access logs on every listener's HCM / tcp_proxy: 'stdout' (Envoy's default format) or none (default). */
  readonly accessLog?: 'stdout';
}

export function namespaceOf(r: Resource<unknown, unknown>): string {
  return r.metadata.namespace || 'default';
}
