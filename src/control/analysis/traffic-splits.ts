// SMI TrafficSplits: WEFT0104 the root Service is missing (the split applies to nothing),
// WEFT0101 a backend Service is missing or has no port for a root port (its share goes to
// the invalid-backend cluster, a 503), WEFT0106 a backend with weight > 0 has no healthy
// endpoints for a root port, WEFT0109 all weights 0 (validation refuses it, but a live
// store written by an older version could hold one). The backend port follows
// translate/backends.ts splitShares: the same port number, else the same port name.

import type { TrafficSplitSpec } from '../kinds/traffic-split.js';
import type { Resource } from '../resource.js';
import type { MeshIndex } from '../translate/mesh-index.js';
import { namespaceOf } from '../translate/snapshot.js';
import { type Finding, finding } from './catalogue.js';

export function analyseTrafficSplits(index: MeshIndex): Finding[] {
  const out: Finding[] = [];
  for (const split of index.snapshot.trafficSplits) out.push(...analyseSplit(index, split));
  return out;
}

function analyseSplit(index: MeshIndex, split: Resource<TrafficSplitSpec>): Finding[] {
  const out: Finding[] = [];
  const ns = namespaceOf(split);
  const backends = split.spec.backends ?? [];
  if (backends.length > 0 && backends.every((b) => b.weight === 0))
    out.push(
      finding('WEFT0109', split, 'every backend has weight 0: no traffic can be forwarded', {
        path: 'spec.backends',
      }),
    );
  const root = index.service(ns, split.spec.service);
  if (root === undefined) {
    out.push(
      finding(
        'WEFT0104',
        split,
        `root Service ${ns}/${split.spec.service} not found: the split applies to no traffic`,
        {
          path: 'spec.service',
        },
      ),
    );
  }
  backends.forEach((b, i) => {
    const path = `spec.backends[${i}]`;
    const svc = index.service(ns, b.service);
    if (svc === undefined) {
      out.push(
        finding(
          'WEFT0101',
          split,
          `backend Service ${ns}/${b.service} not found: its share of traffic fails (503)`,
          {
            path,
            fix: `Create Service ${ns}/${b.service}, or correct the backend's name (backends are Services in the split's namespace).`,
          },
        ),
      );
      return;
    }
    if (root === undefined || b.weight <= 0) return;
    for (const rootPort of root.spec.ports) {
      const port =
        svc.spec.ports.find((p) => p.port === rootPort.port) ??
        svc.spec.ports.find((p) => p.name === rootPort.name);
      if (port === undefined) {
        out.push(
          finding(
            'WEFT0101',
            split,
            `backend Service ${ns}/${b.service} has no port ${rootPort.port} and no port named '${rootPort.name}' (root port ${rootPort.name}:${rootPort.port}): that share fails (503)`,
            {
              path,
              fix: `Add port ${rootPort.port} (or a port named '${rootPort.name}') to Service ${ns}/${b.service}.`,
            },
          ),
        );
        continue;
      }
      if (index.endpointsOf(svc, port).length === 0)
        out.push(
          finding(
            'WEFT0106',
            split,
            `backend Service ${ns}/${b.service} port ${port.name}:${port.port} has no healthy endpoints, yet gets weight ${b.weight}: that share of traffic fails`,
            { path },
          ),
        );
    }
  });
  return out;
}
