// Builders of small meshes for the translator's tests: resources with the metadata the
// store would set (namespace, creationTimestamp, generation), so tests read as the YAML a
// user would apply.

import type { DestinationPolicySpec } from '../kinds/destination-policy.js';
import type { GRPCRouteSpec, HTTPRouteSpec, RouteStatus } from '../kinds/gateway-types.js';
import type { HTTPRouteGroupSpec } from '../kinds/http-route-group.js';
import type { ServicePort, WorkloadSpec } from '../kinds/mesh-types.js';
import type { TrafficSplitSpec } from '../kinds/traffic-split.js';
import type { ObjectMeta, Resource } from '../resource.js';
import { EMPTY_SNAPSHOT, type MeshSnapshot } from './snapshot.js';

/**
 * Builders sharing one clock: each resource is one second younger than the one built before
 * it, so Gateway API's "oldest first" ties follow the order a test builds resources in.
 */
export function createMeshFixture() {
  let clock = Date.parse('2026-01-01T00:00:00Z');

  /** Metadata with an increasing creationTimestamp unless one is given. */
  function meta(name: string, namespace = 'default', extra: Partial<ObjectMeta> = {}): ObjectMeta {
    clock += 1000;
    return { name, namespace, generation: 1, creationTimestamp: new Date(clock).toISOString(), ...extra };
  }

  function service(
    name: string,
    ports: ServicePort[],
    namespace = 'default',
    selector: Record<string, string> = { app: name },
    extra: Partial<ObjectMeta> = {},
  ) {
    return {
      apiVersion: 'weft.dev/v1alpha1',
      kind: 'Service',
      metadata: meta(name, namespace, extra),
      spec: { selector, ports },
    };
  }

  function workload(
    name: string,
    labels: Record<string, string>,
    spec: Partial<WorkloadSpec> & { ports: Record<string, number> },
    namespace = 'default',
    annotations?: Record<string, string>,
  ): Resource<WorkloadSpec> {
    return {
      apiVersion: 'weft.dev/v1alpha1',
      kind: 'Workload',
      metadata: meta(name, namespace, { labels, annotations }),
      spec: { address: '127.0.0.1', ...spec },
    };
  }

  function httpRoute(
    name: string,
    spec: HTTPRouteSpec,
    namespace = 'default',
    extra: Partial<ObjectMeta> = {},
  ): Resource<HTTPRouteSpec, RouteStatus> {
    return {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: meta(name, namespace, extra),
      spec,
    };
  }

  function grpcRoute(
    name: string,
    spec: GRPCRouteSpec,
    namespace = 'default',
  ): Resource<GRPCRouteSpec, RouteStatus> {
    return {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GRPCRoute',
      metadata: meta(name, namespace),
      spec,
    };
  }

  function trafficSplit(
    name: string,
    spec: TrafficSplitSpec,
    namespace = 'default',
  ): Resource<TrafficSplitSpec> {
    return {
      apiVersion: 'split.smi-spec.io/v1alpha4',
      kind: 'TrafficSplit',
      metadata: meta(name, namespace),
      spec,
    };
  }

  function routeGroup(
    name: string,
    spec: HTTPRouteGroupSpec,
    namespace = 'default',
  ): Resource<HTTPRouteGroupSpec> {
    return {
      apiVersion: 'specs.smi-spec.io/v1alpha4',
      kind: 'HTTPRouteGroup',
      metadata: meta(name, namespace),
      spec,
    };
  }

  function policy(
    name: string,
    spec: DestinationPolicySpec,
    namespace = 'default',
  ): Resource<DestinationPolicySpec> {
    return {
      apiVersion: 'weft.dev/v1alpha1',
      kind: 'DestinationPolicy',
      metadata: meta(name, namespace),
      spec,
    };
  }

  /** A Service parentRef as GAMMA writes it. */
  function serviceParent(name: string, port?: number, namespace?: string) {
    return {
      group: '',
      kind: 'Service',
      name,
      ...(port === undefined ? {} : { port }),
      ...(namespace ? { namespace } : {}),
    };
  }

  function snapshot(parts: Partial<MeshSnapshot>): MeshSnapshot {
    return { ...EMPTY_SNAPSHOT, ...parts };
  }
  return {
    meta,
    service,
    workload,
    httpRoute,
    grpcRoute,
    trafficSplit,
    routeGroup,
    policy,
    serviceParent,
    snapshot,
  };
}
