// Validation of `envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`: one `cluster`, or
// `weighted_clusters` (a cluster picked by weight per connection).

import { type FieldReader, readMessage } from './fields.js';
import type { TcpProxy } from './model.js';
import { validateAccessLog } from './validate-access-log.js';
import type { ValidationContext } from './validation-context.js';

export const TCP_PROXY_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

/** Envoy's TcpProxy idle_timeout default: 1 hour. */
const DEFAULT_IDLE_TIMEOUT_MS = 3_600_000;

/** Reads a TcpProxy typed_config (its `@type` already consumed). */
export function readTcpProxy(r: FieldReader, ctx: ValidationContext): TcpProxy {
  const statPrefix = r.requiredString('stat_prefix');
  const which = r.oneOf(['cluster', 'weighted_clusters'], 'cluster, weighted_clusters');
  if (which === null) r.issue(null, 'one of cluster, weighted_clusters is required');
  let cluster = '';
  let weightedClusters: { name: string; weight: number }[] | undefined;
  if (which === 'cluster') {
    cluster = r.requiredString('cluster');
    if (cluster !== '') ctx.clusterRefs.push({ name: cluster, path: r.at('cluster') });
  } else if (which === 'weighted_clusters') {
    weightedClusters = readWeightedClusters(r, ctx);
  }
  const idleTimeoutMs = r.duration('idle_timeout', DEFAULT_IDLE_TIMEOUT_MS, true);
  const logs = r.list('access_log');
  const accessLog = logs.map((l, i) => validateAccessLog(l, `${r.at('access_log')}[${i}]`, r.issues));
  return { statPrefix, cluster, ...(weightedClusters ? { weightedClusters } : {}), idleTimeoutMs, accessLog };
}

/** `TcpProxy.WeightedCluster`: clusters with weights >= 1 (metadata_match is refused by path). */
function readWeightedClusters(r: FieldReader, ctx: ValidationContext): { name: string; weight: number }[] {
  const w = r.message('weighted_clusters');
  if (w === null) return [];
  const items = w.list('clusters');
  if (items.length === 0) w.issue('clusters', 'must list at least one cluster');
  const out: { name: string; weight: number }[] = [];
  for (let i = 0; i < items.length; i++) {
    const c = readMessage(items[i], `${w.at('clusters')}[${i}]`, r.issues);
    const name = c.requiredString('name');
    if (name !== '') ctx.clusterRefs.push({ name, path: c.at('name') });
    const weight = c.optionalUint32('weight', 1);
    if (!c.has('weight') && weight === null) c.issue('weight', 'is required (at least 1)');
    c.done();
    out.push({ name, weight: weight ?? 1 });
  }
  w.done();
  return out;
}
