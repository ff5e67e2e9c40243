// Who refers to each Service (`namespace/name` → `Kind ns/name` of the referrers): route
// parentRefs, backendRefs and mirror backendRefs, TrafficSplit roots and backends, and
// DestinationPolicy targetRefs. Defaults as the translator applies them: a backendRef's
// kind is Service, a reference's namespace is its resource's own.

import { isCoreGroup } from '../kinds/gateway-common.js';
import type { BackendObjectReference, GRPCRouteSpec, HTTPRouteSpec } from '../kinds/gateway-types.js';
import type { Resource } from '../resource.js';
import type { MeshIndex } from '../translate/mesh-index.js';
import { namespaceOf } from '../translate/snapshot.js';

export function serviceReferences(index: MeshIndex): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (ns: string, name: string, by: Resource<unknown, unknown>) => {
    const key = `${ns}/${name}`;
    const label = `${by.kind} ${namespaceOf(by)}/${by.metadata.name}`;
    const list = out.get(key) ?? [];
    if (!list.includes(label)) list.push(label);
    out.set(key, list);
  };
  const routes: Resource<HTTPRouteSpec | GRPCRouteSpec, unknown>[] = [
    ...index.snapshot.httpRoutes,
    ...index.snapshot.grpcRoutes,
  ];
  for (const route of routes) {
    const ns = namespaceOf(route);
    for (const p of route.spec.parentRefs ?? [])
      if (p.kind === 'Service' && isCoreGroup(p.group)) add(p.namespace ?? ns, p.name, route);
    const backend = (b: BackendObjectReference) => {
      if ((b.kind ?? 'Service') === 'Service' && isCoreGroup(b.group)) add(b.namespace ?? ns, b.name, route);
    };
    for (const rule of route.spec.rules ?? []) {
      for (const b of rule.backendRefs ?? []) backend(b);
      for (const f of rule.filters ?? [])
        if (f.type === 'RequestMirror' && f.requestMirror !== undefined) backend(f.requestMirror.backendRef);
    }
  }
  for (const split of index.snapshot.trafficSplits) {
    const ns = namespaceOf(split);
    add(ns, split.spec.service, split);
    for (const b of split.spec.backends ?? []) add(ns, b.service, split);
  }
  for (const policy of index.snapshot.destinationPolicies)
    add(namespaceOf(policy), policy.spec.targetRef.name, policy);
  return out;
}
