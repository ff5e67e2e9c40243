// Lookups over one MeshSnapshot, built once per snapshot and shared by every proxy's
// translation: Services by name, the Workloads each Service port selects, the policy and
// TrafficSplit of each Service, SMI route groups, and the resource ordering Gateway API
// uses for ties (oldest first, then namespace/name).

import type { DestinationPolicySpec } from '../kinds/destination-policy.js';
import type { ServicePort, ServiceSpec, WorkloadSpec } from '../kinds/mesh-types.js';
import type { TrafficSplitSpec } from '../kinds/traffic-split.js';
import type { Resource } from '../resource.js';
import { type MeshSnapshot, namespaceOf } from './snapshot.js';

export type Service = Resource<ServiceSpec>;
export type Workload = Resource<WorkloadSpec>;

export interface MeshIndex {
  readonly snapshot: MeshSnapshot;
  service(namespace: string, name: string): Service | undefined;
  workload(namespace: string, name: string): Workload | undefined;
  /** Every Service, ordered by namespace then name. */
  readonly services: readonly Service[];
  /** Services of the Workload's namespace whose selector selects it, oldest first. */
  servicesSelecting(workload: Workload): readonly Service[];
  /** Healthy Workloads of the Service's namespace that its selector selects and that have the port. */
  endpointsOf(service: Service, port: ServicePort): readonly Workload[];
  /** The DestinationPolicy for a Service port (the oldest one when several target it). */
  policyFor(service: Service, port: number): Resource<DestinationPolicySpec> | undefined;
  /** TrafficSplits whose root is the Service, oldest first. */
  splitsFor(service: Service): readonly Resource<TrafficSplitSpec>[];
}

/** Gateway API tie-break: oldest creationTimestamp first, then `namespace/name` alphabetically. */
export function compareAge(a: Resource<unknown, unknown>, b: Resource<unknown, unknown>): number {
  const ta = ageOf(a);
  const tb = ageOf(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${namespaceOf(a)}/${a.metadata.name}`;
  const kb = `${namespaceOf(b)}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Milliseconds since the epoch; a resource without a timestamp (not yet stored) counts as the newest. */
function ageOf(r: Resource<unknown, unknown>): number {
  const t = Date.parse(r.metadata.creationTimestamp ?? '');
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
}

/** Kubernetes selector semantics: every pair must match; an empty selector selects nothing. */
export function selects(
  selector: Record<string, string>,
  labels: Record<string, string> | undefined,
): boolean {
  const keys = Object.keys(selector);
  if (keys.length === 0) return false;
  return keys.every((k) => labels?.[k] === selector[k]);
}

export function createMeshIndex(snapshot: MeshSnapshot): MeshIndex {
  const byKey = new Map<string, Service>();
  for (const s of snapshot.services) byKey.set(`${namespaceOf(s)}/${s.metadata.name}`, s);
  const services = [...snapshot.services].sort((a, b) => {
    const ka = `${namespaceOf(a)}/${a.metadata.name}`;
    const kb = `${namespaceOf(b)}/${b.metadata.name}`;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  // Workloads by `namespace/name`, and by `namespace\0label\0value` for every label, so a
  // selector looks at the Workloads carrying its first label only (a mesh of thousands of
  // Services would otherwise test every Workload against every selector).
  const workloadByKey = new Map<string, Workload>();
  const byLabel = new Map<string, Workload[]>();
  for (const w of snapshot.workloads) {
    const ns = namespaceOf(w);
    workloadByKey.set(`${ns}/${w.metadata.name}`, w);
    for (const [k, v] of Object.entries(w.metadata.labels ?? {})) {
      const key = `${ns}\0${k}\0${v}`;
      const list = byLabel.get(key);
      if (list === undefined) byLabel.set(key, [w]);
      else list.push(w);
    }
  }
  // Services by `namespace\0label\0value` of their selector's first pair: the Services that
  // may select a Workload are found from its labels, not by testing every Service.
  const serviceByLabel = new Map<string, Service[]>();
  for (const s of snapshot.services) {
    const first = Object.entries(s.spec.selector)[0];
    if (first === undefined) continue; // selects nothing
    const key = `${namespaceOf(s)}\0${first[0]}\0${first[1]}`;
    const list = serviceByLabel.get(key);
    if (list === undefined) serviceByLabel.set(key, [s]);
    else list.push(s);
  }
  const selectingCache = new WeakMap<Workload, readonly Service[]>();
  const policies = [...snapshot.destinationPolicies].sort(compareAge);
  const splits = [...snapshot.trafficSplits].sort(compareAge);
  const endpointCache = new Map<string, readonly Workload[]>();

  return {
    snapshot,
    services,
    service: (namespace, name) => byKey.get(`${namespace}/${name}`),
    workload: (namespace, name) => workloadByKey.get(`${namespace}/${name}`),
    servicesSelecting(workload) {
      let list = selectingCache.get(workload);
      if (list === undefined) {
        const ns = namespaceOf(workload);
        const found = new Set<Service>();
        for (const [k, v] of Object.entries(workload.metadata.labels ?? {}))
          for (const s of serviceByLabel.get(`${ns}\0${k}\0${v}`) ?? [])
            if (selects(s.spec.selector, workload.metadata.labels)) found.add(s);
        list = [...found].sort(compareAge);
        selectingCache.set(workload, list);
      }
      return list;
    },
    endpointsOf(service, port) {
      const key = `${namespaceOf(service)}/${service.metadata.name}/${port.name}`;
      let list = endpointCache.get(key);
      if (list === undefined) {
        const selector = Object.entries(service.spec.selector);
        // An empty selector selects nothing (Kubernetes semantics, `selects`).
        const candidates =
          selector.length === 0
            ? []
            : (byLabel.get(`${namespaceOf(service)}\0${selector[0][0]}\0${selector[0][1]}`) ?? []);
        list = candidates
          .filter(
            (w) =>
              w.spec.healthy !== false &&
              selects(service.spec.selector, w.metadata.labels) &&
              typeof w.spec.ports[port.name] === 'number',
          )
          .sort((a, b) =>
            a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0,
          );
        endpointCache.set(key, list);
      }
      return list;
    },
    policyFor(service, port) {
      const ns = namespaceOf(service);
      // A policy naming the port beats one for the whole Service; among equals the oldest wins.
      let whole: Resource<DestinationPolicySpec> | undefined;
      for (const p of policies) {
        const ref = p.spec.targetRef;
        if (namespaceOf(p) !== ns || ref.name !== service.metadata.name) continue;
        if (ref.port === port) return p;
        if (ref.port === undefined) whole ??= p;
      }
      return whole;
    },
    splitsFor(service) {
      const ns = namespaceOf(service);
      return splits.filter((s) => namespaceOf(s) === ns && s.spec.service === service.metadata.name);
    },
  };
}
