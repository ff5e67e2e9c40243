// Endpoints (EDS) of every outbound cluster: the healthy Workloads the Service selects
// (in its own namespace), at the Workload's port of the Service port's name, grouped by
// locality {region, zone} (each group weighted by the sum of its endpoints' weights), each
// endpoint with its weight (1-128). The same for every proxy, so
// one computation per snapshot serves them all.

import { clusterOf } from './backends.js';
import type { MeshIndex } from './mesh-index.js';
import type { EnvoyJson, XdsResource } from './xds-resources.js';

export function clusterLoadAssignments(index: MeshIndex): XdsResource[] {
  const out: XdsResource[] = [];
  for (const service of index.services) {
    for (const port of service.spec.ports) {
      const name = clusterOf(service, port);
      const groups = new Map<string, { locality: EnvoyJson; lb_endpoints: EnvoyJson[] }>();
      for (const w of index.endpointsOf(service, port)) {
        const region = w.spec.locality?.region ?? '';
        const zone = w.spec.locality?.zone ?? '';
        const key = `${region}/${zone}`;
        let group = groups.get(key);
        if (group === undefined) {
          const locality: EnvoyJson = {};
          if (region !== '') locality.region = region;
          if (zone !== '') locality.zone = zone;
          group = { locality, lb_endpoints: [] };
          groups.set(key, group);
        }
        group.lb_endpoints.push({
          endpoint: {
            address: { socket_address: { address: w.spec.address, port_value: w.spec.ports[port.name] } },
          },
          health_status: 'HEALTHY',
          load_balancing_weight: w.spec.weight ?? 1,
        });
      }
      const endpoints = [...groups.entries()]
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .map(([, g]) => localityGroup(g));
      out.push({ name, resource: { cluster_name: name, endpoints } });
    }
  }
  return out;
}

/**
 * A locality's group with its `load_balancing_weight`: the sum of its endpoints' weights,
 * so locality-weighted balancing (DestinationPolicy `loadBalancer.locality.mode: Weighted`)
 * sends each locality the share its endpoints would get. Ignored by every other mode.
 */
function localityGroup(g: { locality: EnvoyJson; lb_endpoints: EnvoyJson[] }): EnvoyJson {
  let weight = 0;
  for (const e of g.lb_endpoints) weight += e.load_balancing_weight as number;
  const out: EnvoyJson = Object.keys(g.locality).length > 0 ? { locality: g.locality } : {};
  out.lb_endpoints = g.lb_endpoints;
  out.load_balancing_weight = weight;
  return out;
}
