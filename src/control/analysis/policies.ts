// WEFT0107: a DestinationPolicy whose targetRef selects nothing — no Service of that name in
// the policy's namespace, or a `port` the Service does not have — so the translator never
// applies it (translate/mesh-index.ts policyFor) and its settings silently do nothing.

import type { MeshIndex } from '../translate/mesh-index.js';
import { namespaceOf } from '../translate/snapshot.js';
import { type Finding, finding } from './catalogue.js';

export function analysePolicies(index: MeshIndex): Finding[] {
  const out: Finding[] = [];
  for (const policy of index.snapshot.destinationPolicies) {
    const ns = namespaceOf(policy);
    const ref = policy.spec.targetRef;
    const service = index.service(ns, ref.name);
    if (service === undefined) {
      out.push(
        finding(
          'WEFT0107',
          policy,
          `targetRef Service ${ns}/${ref.name} not found: the policy applies to nothing`,
          {
            path: 'spec.targetRef.name',
          },
        ),
      );
      continue;
    }
    if (ref.port !== undefined && !service.spec.ports.some((p) => p.port === ref.port))
      out.push(
        finding(
          'WEFT0107',
          policy,
          `Service ${ns}/${ref.name} has no port ${ref.port} (it has ${service.spec.ports.map((p) => p.port).join(', ')}): the policy applies to nothing`,
          {
            path: 'spec.targetRef.port',
            fix: `Set spec.targetRef.port to one of ${service.spec.ports.map((p) => p.port).join(', ')}, or remove it to cover every port.`,
          },
        ),
      );
  }
  return out;
}
