// WEFT0108: Workload ports no Service uses. A Workload's spec.ports maps Service port
// names to its target ports; a name that no selecting Service has as a port name gets no
// traffic (endpoints are per Service port name, translate/mesh-index.ts endpointsOf) —
// usually a typo in the name, or labels that no Service selects.

import { keyPath } from '../kinds/metadata.js';
import type { MeshIndex } from '../translate/mesh-index.js';
import { selects } from '../translate/mesh-index.js';
import { namespaceOf } from '../translate/snapshot.js';
import { type Finding, finding } from './catalogue.js';

export function analyseWorkloads(index: MeshIndex): Finding[] {
  const out: Finding[] = [];
  for (const w of index.snapshot.workloads) {
    const ns = namespaceOf(w);
    const selecting = index.services.filter(
      (s) => namespaceOf(s) === ns && selects(s.spec.selector, w.metadata.labels),
    );
    const names = Object.keys(w.spec.ports ?? {});
    if (selecting.length === 0) {
      const labels = Object.entries(w.metadata.labels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      out.push(
        finding(
          'WEFT0108',
          w,
          `no Service in namespace ${ns} selects this Workload (labels: ${labels || 'none'}), so none of its ports (${names.join(', ')}) gets traffic`,
          { path: 'metadata.labels' },
        ),
      );
      continue;
    }
    const known = new Set(selecting.flatMap((s) => s.spec.ports.map((p) => p.name)));
    for (const name of names) {
      if (known.has(name)) continue;
      out.push(
        finding(
          'WEFT0108',
          w,
          `port '${name}' is not a port name of any Service that selects this Workload (${selecting.map((s) => `${s.metadata.name}: ${s.spec.ports.map((p) => p.name).join(', ')}`).join('; ')})`,
          { path: keyPath('spec.ports', name) },
        ),
      );
    }
  }
  return out;
}
