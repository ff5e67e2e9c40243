// Route status (Gateway API RouteStatus.parents[]): for every parentRef of every
// HTTPRoute and GRPCRoute, the Accepted and ResolvedRefs conditions with the reasons the
// spec defines. Pure: the caller gives the time and the controller name, and a condition
// keeps its previous lastTransitionTime while its status does not change (as Kubernetes
// conditions do), so recomputing an unchanged mesh yields an unchanged status.

import type {
  BackendObjectReference,
  Condition,
  GRPCRouteSpec,
  HTTPRouteSpec,
  ParentReference,
  RouteParentStatus,
  RouteStatus,
} from '../kinds/gateway-types.js';
import type { Resource, ResourceKey } from '../resource.js';
import { resolveBackendRef } from './backends.js';
import type { MeshIndex } from './mesh-index.js';
import { refersToService } from './route-selection.js';
import { namespaceOf } from './snapshot.js';

export const WEFT_CONTROLLER_NAME = 'weft.dev/control-plane';

export interface StatusOptions {
  /** RFC 3339 time used for conditions whose status changed. */
  readonly now: string;
  readonly controllerName?: string;
}

export interface RouteStatusResult {
  readonly key: ResourceKey;
  readonly status: RouteStatus;
}

type AnyRoute = Resource<HTTPRouteSpec | GRPCRouteSpec, RouteStatus>;

/** The status of every HTTPRoute and GRPCRoute in the snapshot. */
export function computeRouteStatuses(index: MeshIndex, options: StatusOptions): RouteStatusResult[] {
  const routes: AnyRoute[] = [...index.snapshot.httpRoutes, ...index.snapshot.grpcRoutes];
  return routes.map((route) => ({
    key: {
      apiVersion: route.apiVersion,
      kind: route.kind,
      namespace: namespaceOf(route),
      name: route.metadata.name,
    },
    status: routeStatus(index, route, options),
  }));
}

export function routeStatus(index: MeshIndex, route: AnyRoute, options: StatusOptions): RouteStatus {
  const controllerName = options.controllerName ?? WEFT_CONTROLLER_NAME;
  const resolved = resolvedRefs(index, route);
  const parents: RouteParentStatus[] = (route.spec.parentRefs ?? []).map((parentRef) => {
    const accepted = acceptance(index, route, parentRef);
    const previous = route.status?.parents?.find(
      (p) => p.controllerName === controllerName && sameRef(p.parentRef, parentRef),
    );
    const conditions = [
      condition('Accepted', accepted.ok, accepted.reason, accepted.message, route, previous, options.now),
      condition('ResolvedRefs', resolved.ok, resolved.reason, resolved.message, route, previous, options.now),
    ];
    return { parentRef, controllerName, conditions };
  });
  return { parents };
}

interface Verdict {
  readonly ok: boolean;
  readonly reason: string;
  readonly message: string;
}

/** Accepted: the parent is a Weft Service, exists, and has a port the route can attach to. */
function acceptance(index: MeshIndex, route: AnyRoute, ref: ParentReference): Verdict {
  const routeNs = namespaceOf(route);
  const ns = ref.namespace ?? routeNs;
  const isService =
    ref.kind === 'Service' && (ref.group === undefined || ref.group === '' || ref.group === 'core');
  if (!isService) {
    const kind = `${ref.group ?? 'gateway.networking.k8s.io'}/${ref.kind ?? 'Gateway'}`;
    return {
      ok: false,
      reason: 'NoMatchingParent',
      message: `parent kind ${kind} is not supported; Weft routes attach to a Service (kind: Service, group: "")`,
    };
  }
  const service = index.service(ns, ref.name);
  if (service === undefined || !refersToService(ref, routeNs, service))
    return { ok: false, reason: 'NoMatchingParent', message: `Service ${ns}/${ref.name} not found` };
  const ports = service.spec.ports.filter(
    (p) =>
      (ref.port === undefined || p.port === ref.port) &&
      (ref.sectionName === undefined || p.name === ref.sectionName),
  );
  if (ports.length === 0) {
    const which = ref.port !== undefined ? `port ${ref.port}` : `a port named '${ref.sectionName}'`;
    return { ok: false, reason: 'NoMatchingParent', message: `Service ${ns}/${ref.name} has no ${which}` };
  }
  if (ports.every((p) => p.protocol === 'TCP')) {
    return {
      ok: false,
      reason: 'NoMatchingParent',
      message: `Service ${ns}/${ref.name}: the matching ports are TCP; ${route.kind} needs an HTTP, HTTP2 or GRPC port`,
    };
  }
  return { ok: true, reason: 'Accepted', message: `attached to Service ${ns}/${ref.name}` };
}

/** ResolvedRefs: every backendRef (and mirror backendRef) resolves; the first problem is reported. */
function resolvedRefs(index: MeshIndex, route: AnyRoute): Verdict {
  const routeNs = namespaceOf(route);
  for (const [path, ref, parentNs] of backendRefsOf(route)) {
    const r = resolveBackendRef(index, ref, routeNs, parentNs);
    if (!r.ok) return { ok: false, reason: r.reason, message: `${path}: ${r.message}` };
  }
  return { ok: true, reason: 'ResolvedRefs', message: 'all backend references resolved' };
}

/**
 * Every backend reference with its field path and the namespace a cross-namespace
 * reference may point into (the parents' namespace, see backends.ts).
 */
function backendRefsOf(route: AnyRoute): Array<[string, BackendObjectReference, string]> {
  const routeNs = namespaceOf(route);
  const parentNs = (route.spec.parentRefs ?? []).find((p) => p.kind === 'Service')?.namespace ?? routeNs;
  const out: Array<[string, BackendObjectReference, string]> = [];
  (route.spec.rules ?? []).forEach((rule, i) => {
    (rule.backendRefs ?? []).forEach((b, j) => {
      out.push([`spec.rules[${i}].backendRefs[${j}]`, b, parentNs]);
    });
    (rule.filters ?? []).forEach((f, j) => {
      if (f.type === 'RequestMirror' && f.requestMirror !== undefined)
        out.push([
          `spec.rules[${i}].filters[${j}].requestMirror.backendRef`,
          f.requestMirror.backendRef,
          parentNs,
        ]);
    });
  });
  return out;
}

function condition(
  type: string,
  ok: boolean,
  reason: string,
  message: string,
  route: AnyRoute,
  previous: RouteParentStatus | undefined,
  now: string,
): Condition {
  const status = ok ? 'True' : 'False';
  const before = previous?.conditions.find((c) => c.type === type);
  const out: Condition = {
    type,
    status,
    reason,
    message,
    lastTransitionTime: before !== undefined && before.status === status ? before.lastTransitionTime : now,
  };
  if (route.metadata.generation !== undefined) out.observedGeneration = route.metadata.generation;
  return out;
}

function sameRef(a: ParentReference, b: ParentReference): boolean {
  return (
    a.name === b.name &&
    (a.kind ?? '') === (b.kind ?? '') &&
    (a.group ?? '') === (b.group ?? '') &&
    (a.namespace ?? '') === (b.namespace ?? '') &&
    a.port === b.port &&
    a.sectionName === b.sectionName
  );
}
