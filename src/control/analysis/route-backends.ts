// Route backends (HTTPRoute, GRPCRoute): every backendRef and mirror backendRef resolved
// the way the translator resolves it (translate/backends.ts), so a finding here is traffic
// that will fail: WEFT0101 the Service or its port is missing, WEFT0110 the reference is
// of a kind or into a namespace Weft does not allow, WEFT0109 a rule whose backendRefs all
// have weight 0 (Gateway API: no traffic can be forwarded, every request gets a 500).

import type { BackendObjectReference, GRPCRouteSpec, HTTPRouteSpec } from '../kinds/gateway-types.js';
import type { Resource } from '../resource.js';
import { resolveBackendRef } from '../translate/backends.js';
import type { MeshIndex } from '../translate/mesh-index.js';
import { namespaceOf } from '../translate/snapshot.js';
import { type Finding, finding } from './catalogue.js';

type AnyRoute = Resource<HTTPRouteSpec | GRPCRouteSpec, unknown>;

export function analyseRouteBackends(index: MeshIndex): Finding[] {
  const out: Finding[] = [];
  const routes: AnyRoute[] = [...index.snapshot.httpRoutes, ...index.snapshot.grpcRoutes];
  for (const route of routes) {
    const routeNs = namespaceOf(route);
    // As translate/status.ts: a cross-namespace backend may point into the parent's namespace.
    const parentNs = (route.spec.parentRefs ?? []).find((p) => p.kind === 'Service')?.namespace ?? routeNs;
    (route.spec.rules ?? []).forEach((rule, i) => {
      const refs: Array<[string, BackendObjectReference]> = [];
      (rule.backendRefs ?? []).forEach((b, j) => {
        refs.push([`spec.rules[${i}].backendRefs[${j}]`, b]);
      });
      (rule.filters ?? []).forEach((f, j) => {
        if (f.type === 'RequestMirror' && f.requestMirror !== undefined)
          refs.push([`spec.rules[${i}].filters[${j}].requestMirror.backendRef`, f.requestMirror.backendRef]);
      });
      for (const [path, ref] of refs) {
        const r = resolveBackendRef(index, ref, routeNs, parentNs);
        if (r.ok) continue;
        const code = r.reason === 'BackendNotFound' ? 'WEFT0101' : 'WEFT0110';
        const fix =
          code === 'WEFT0101' && index.service(ref.namespace ?? routeNs, ref.name) !== undefined
            ? `Use one of the ports of Service ${ref.namespace ?? routeNs}/${ref.name} (${portsOf(index, ref.namespace ?? routeNs, ref.name)}), or add port ${ref.port ?? '?'} to it.`
            : undefined;
        out.push(
          finding(code, route, `${r.message} (${r.reason}): this share of traffic fails`, {
            path,
            ...(fix === undefined ? {} : { fix }),
          }),
        );
      }
      const backends = rule.backendRefs ?? [];
      if (backends.length > 0 && backends.every((b) => (b.weight ?? 1) === 0))
        out.push(
          finding(
            'WEFT0109',
            route,
            `every backendRef of rule ${i} has weight 0: requests it matches get a 500`,
            { path: `spec.rules[${i}].backendRefs` },
          ),
        );
    });
  }
  return out;
}

function portsOf(index: MeshIndex, namespace: string, name: string): string {
  return (index.service(namespace, name)?.spec.ports ?? []).map((p) => `${p.port}/${p.name}`).join(', ');
}
