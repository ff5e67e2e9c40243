// SMI TrafficSplit (split.smi-spec.io/v1alpha4) with HTTPRouteGroup matches
// (specs.smi-spec.io/v1alpha4) to Envoy routes, for Services no Gateway API route is
// attached to: each split limited by `matches` gets one route per HTTPRouteGroup match
// (oldest split first), then one catch-all route to the oldest split without matches, or
// to the Service itself.

import type { HTTPMatch } from '../kinds/http-route-group.js';
import type { ServicePort } from '../kinds/mesh-types.js';
import type { TrafficSplitSpec } from '../kinds/traffic-split.js';
import type { Resource } from '../resource.js';
import { clusterOf, splitShares } from './backends.js';
import type { RouteContext } from './gateway-routes.js';
import type { Service } from './mesh-index.js';
import { namespaceOf } from './snapshot.js';
import type { EnvoyJson } from './xds-resources.js';

/**
 * SMI anchors `pathRegex` at the start of the path only; Envoy's safe_regex must match the
 * whole path, so the pattern is followed by `.*`.
 */
function smiMatch(m: HTTPMatch): EnvoyJson {
  const out: EnvoyJson =
    m.pathRegex === undefined ? { prefix: '/' } : { safe_regex: { regex: `(?:${m.pathRegex}).*` } };
  const headers: EnvoyJson[] = Object.entries(m.headers ?? {}).map(([name, value]) => ({
    name: name.toLowerCase(),
    string_match: { safe_regex: { regex: value } },
  }));
  const methods = (m.methods ?? []).filter((x) => x !== '*');
  if (methods.length > 0 && !(m.methods ?? []).includes('*')) {
    headers.push({
      name: ':method',
      string_match:
        methods.length === 1 ? { exact: methods[0] } : { safe_regex: { regex: methods.join('|') } },
    });
  }
  if (headers.length > 0) out.headers = headers;
  return out;
}

function splitAction(ctx: RouteContext, split: Resource<TrafficSplitSpec>, port: ServicePort): EnvoyJson {
  const shares = splitShares(ctx.index, split.spec.backends, namespaceOf(split), port);
  for (const s of shares) ctx.usedClusters.add(s.cluster);
  if (shares.length === 1) return { cluster: shares[0].cluster, timeout: '0s' };
  return {
    weighted_clusters: { clusters: shares.map((s) => ({ name: s.cluster, weight: s.weight })) },
    timeout: '0s',
  };
}

/** Routes for a Service port with no Gateway API routes: SMI splits, then the default. */
export function smiAndDefaultRoutes(ctx: RouteContext, service: Service, port: ServicePort): EnvoyJson[] {
  const out: EnvoyJson[] = [];
  const splits = ctx.index.splitsFor(service);
  const groups = ctx.index.snapshot.httpRouteGroups;
  for (const split of splits) {
    for (const ref of split.spec.matches ?? []) {
      if (ref.kind !== 'HTTPRouteGroup') continue;
      const group = groups.find((g) => namespaceOf(g) === namespaceOf(split) && g.metadata.name === ref.name);
      for (const m of group?.spec.matches ?? []) {
        out.push({
          name: `${namespaceOf(split)}/${split.metadata.name}/${ref.name}/${m.name}`,
          match: smiMatch(m),
          route: splitAction(ctx, split, port),
        });
      }
    }
  }
  const catchAll = splits.find((s) => (s.spec.matches ?? []).length === 0);
  let action: EnvoyJson;
  if (catchAll !== undefined) action = splitAction(ctx, catchAll, port);
  else {
    const cluster = clusterOf(service, port);
    ctx.usedClusters.add(cluster);
    action = { cluster, timeout: '0s' };
    const hash = ctx.hashPolicyFor(cluster);
    if (hash !== undefined) action.hash_policy = hash;
  }
  out.push({ name: 'default', match: { prefix: '/' }, route: action });
  return out;
}

/** The TCP split for a TCP Service port: the oldest split without matches or whose TCPRoutes list the port. */
export function tcpSplitFor(
  ctx: Pick<RouteContext, 'index'>,
  service: Service,
  port: ServicePort,
): Resource<TrafficSplitSpec> | undefined {
  const tcpRoutes = ctx.index.snapshot.tcpRoutes;
  return ctx.index.splitsFor(service).find((split) => {
    const matches = split.spec.matches ?? [];
    if (matches.length === 0) return true;
    return matches.some((ref) => {
      if (ref.kind !== 'TCPRoute') return false;
      const route = tcpRoutes.find(
        (r) => namespaceOf(r) === namespaceOf(split) && r.metadata.name === ref.name,
      );
      const ports = route?.spec.matches?.ports ?? [];
      return route !== undefined && (ports.length === 0 || ports.includes(port.port));
    });
  });
}
