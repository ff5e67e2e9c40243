// One translation per distinct proxy shape. A proxy's xDS depends only on the snapshot
// and its shape: sidecar or consumer (how GRPC/HTTP2 ports are carried), its namespace
// (which consumer routes apply, which Services are reachable by their short name), its
// inbound ports (port, app port, protocol) and the local ports its Workload's annotations
// ask for (outbound HTTP port, upstream listeners). Two sidecars of
// the same Deployment-like group, or every consumer of a namespace, have one shape, so
// 2000 proxies over 50 shapes cost 50 translations. The cache belongs to one snapshot:
// when the snapshot changes the owner builds a new cache (nothing is invalidated in place).

import { clusterOf } from './backends.js';
import { clusterLoadAssignments } from './endpoints.js';
import type { MeshIndex } from './mesh-index.js';
import type { ProxyIdentity, TranslateOptions } from './snapshot.js';
import { type ProxyPlan, planProxy, translatePlan } from './translate.js';
import type { Translation, XdsResource } from './xds-resources.js';

/** The shape key of a planned proxy: equal keys give equal translations. */
export function shapeKeyOf(plan: ProxyPlan): string {
  const inbound = plan.inbound.map((p) => `${p.port}>${p.appPort}/${p.protocol}`).join(',');
  const { local } = plan;
  const upstreams = local.upstreams.map((u) => `${clusterOf(u.service, u.port)}@${u.localPort}`).join(',');
  const declared = local.declared ? `declared:${local.outboundHttpPort ?? ''}` : '';
  return `${plan.sidecar ? 'sidecar' : 'consumer'}|${plan.namespace}|${inbound}|${declared}|${upstreams}`;
}

/** The shape key of a proxy in a snapshot. */
export function proxyShapeKey(index: MeshIndex, identity: ProxyIdentity): string {
  return shapeKeyOf(planProxy(index, identity));
}

export interface TranslationCache {
  /** The proxy's translation, computed at most once per shape. */
  get(identity: ProxyIdentity): Translation;
  /** Distinct shapes translated so far. */
  readonly shapes: number;
}

export function createTranslationCache(index: MeshIndex, options: TranslateOptions = {}): TranslationCache {
  const byShape = new Map<string, Translation>();
  let endpoints: readonly XdsResource[] | undefined;
  return {
    get(identity) {
      const plan = planProxy(index, identity);
      const key = shapeKeyOf(plan);
      let t = byShape.get(key);
      if (t === undefined) {
        endpoints ??= clusterLoadAssignments(index);
        t = translatePlan(index, plan, options, endpoints);
        byShape.set(key, t);
      }
      // Warnings about this proxy's own Workload are not part of the shape.
      if (plan.warnings.length === 0) return t;
      return { resources: t.resources, warnings: [...new Set([...plan.warnings, ...t.warnings])] };
    },
    get shapes() {
      return byShape.size;
    },
  };
}
