// Validation of `envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy` (single cluster).

import type { FieldReader } from './fields.js';
import type { TcpProxy } from './model.js';
import { validateAccessLog } from './validate-access-log.js';
import type { ValidationContext } from './validation-context.js';

export const TCP_PROXY_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

/** Envoy's TcpProxy idle_timeout default: 1 hour. */
const DEFAULT_IDLE_TIMEOUT_MS = 3_600_000;

/** Reads a TcpProxy typed_config (its `@type` already consumed). */
export function readTcpProxy(r: FieldReader, ctx: ValidationContext): TcpProxy {
  const statPrefix = r.requiredString('stat_prefix');
  const cluster = r.requiredString('cluster');
  if (cluster !== '') ctx.clusterRefs.push({ name: cluster, path: r.at('cluster') });
  const idleTimeoutMs = r.duration('idle_timeout', DEFAULT_IDLE_TIMEOUT_MS, true);
  const logs = r.list('access_log');
  const accessLog = logs.map((l, i) => validateAccessLog(l, `${r.at('access_log')}[${i}]`, r.issues));
  return { statPrefix, cluster, idleTimeoutMs, accessLog };
}
