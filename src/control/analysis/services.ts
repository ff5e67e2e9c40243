// Services: WEFT0102 a Service whose selector selects no Workload in its namespace (its
// clusters have no endpoints; requests to it fail with 503), naming who sends it traffic;
// WEFT0103 (info) a Service no route, TrafficSplit or DestinationPolicy refers to, which
// is fine for a Service clients call directly, and a hint when it was meant to be routed.

import type { MeshIndex, Service } from '../translate/mesh-index.js';
import { selects } from '../translate/mesh-index.js';
import { namespaceOf } from '../translate/snapshot.js';
import { type Finding, finding } from './catalogue.js';
import { serviceReferences } from './references.js';

export function analyseServices(index: MeshIndex): Finding[] {
  const out: Finding[] = [];
  const refs = serviceReferences(index);
  for (const service of index.services) {
    const key = `${namespaceOf(service)}/${service.metadata.name}`;
    const referrers = refs.get(key) ?? [];
    if (!selectsAny(index, service)) {
      const selector = Object.entries(service.spec.selector)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      const who = referrers.length > 0 ? `; referred to by ${referrers.slice(0, 3).join(', ')}` : '';
      out.push(
        finding(
          'WEFT0102',
          service,
          selector === ''
            ? `spec.selector is empty, which selects no Workloads: the Service has no endpoints${who}`
            : `no Workload in namespace ${namespaceOf(service)} has labels ${selector}: the Service has no endpoints${who}`,
          { path: 'spec.selector' },
        ),
      );
    }
    if (referrers.length === 0)
      out.push(
        finding('WEFT0103', service, 'no route, TrafficSplit or DestinationPolicy refers to this Service'),
      );
  }
  return out;
}

function selectsAny(index: MeshIndex, service: Service): boolean {
  const ns = namespaceOf(service);
  return index.snapshot.workloads.some(
    (w) => namespaceOf(w) === ns && selects(service.spec.selector, w.metadata.labels),
  );
}
