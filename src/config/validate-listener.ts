// Validation of `envoy.config.listener.v3.Listener`: address, filter chains, and the
// network filters of each chain, chosen by the `@type` of their typed_config: non-terminal
// ones (local_ratelimit) first, then one terminal filter (http_connection_manager or
// tcp_proxy), last.

import type { ConfigIssue } from '../core/errors.js';
import { readMessage } from './fields.js';
import type { FilterChain, Listener, NetworkFilter } from './model.js';
import { readAddress } from './validate-address.js';
import {
  HTTP_CONNECTION_MANAGER_TYPE,
  readHttpConnectionManager,
} from './validate-http-connection-manager.js';
import { NETWORK_LOCAL_RATELIMIT_TYPE_URL, readNetworkLocalRateLimit } from './validate-local-ratelimit.js';
import { readTcpProxy, TCP_PROXY_TYPE } from './validate-tcp-proxy.js';
import type { ValidationContext } from './validation-context.js';

/** Envoy's per_connection_buffer_limit_bytes default: 1 MiB. */
export const DEFAULT_BUFFER_LIMIT_BYTES = 1_048_576;

export function validateListener(
  raw: unknown,
  path: string,
  issues: ConfigIssue[],
  ctx: ValidationContext,
): Listener {
  const r = readMessage(raw, path, issues);
  const name = r.requiredString('name');
  const address = readAddress(r, 'address', { host: 'ip', allowPortZero: true });
  const perConnectionBufferLimitBytes = r.uint32(
    'per_connection_buffer_limit_bytes',
    DEFAULT_BUFFER_LIMIT_BYTES,
    1,
  );
  if (!r.has('filter_chains')) r.issue('filter_chains', 'is required');
  const items = r.list('filter_chains');
  if (r.has('filter_chains') && items.length === 0) r.issue('filter_chains', 'must not be empty');
  const filterChains: FilterChain[] = [];
  for (let i = 0; i < items.length; i++) {
    filterChains.push(validateFilterChain(items[i], `${r.at('filter_chains')}[${i}]`, issues, ctx));
  }
  if (filterChains.length > 1) {
    // filter_chain_match comes with TLS; without it, only one chain can ever be chosen.
    r.issue(
      'filter_chains',
      'several chains would all have the same (empty) filter_chain_match, which Envoy rejects too; use one chain',
    );
  }
  r.done();
  return { name, address, filterChains, perConnectionBufferLimitBytes };
}

function validateFilterChain(
  raw: unknown,
  path: string,
  issues: ConfigIssue[],
  ctx: ValidationContext,
): FilterChain {
  const r = readMessage(raw, path, issues);
  const name = r.string('name') ?? '';
  const items = r.list('filters');
  if (items.length === 0)
    r.issue('filters', 'must contain one terminal filter (http_connection_manager or tcp_proxy)');
  const filters: NetworkFilter[] = [];
  for (let i = 0; i < items.length; i++) {
    const filter = validateNetworkFilter(items[i], `${r.at('filters')}[${i}]`, issues, ctx);
    if (filter !== null) filters.push(filter);
    const terminal = filter !== null && filter.kind !== 'local_ratelimit';
    if (terminal && i < items.length - 1) {
      issues.push({
        path: `${r.at('filters')}[${i}]`,
        message: 'a terminal filter must be the last filter of its chain',
      });
    } else if (filter !== null && !terminal && i === items.length - 1) {
      issues.push({
        path: `${r.at('filters')}[${i}]`,
        message:
          'the last filter of a chain must be a terminal filter (http_connection_manager or tcp_proxy)',
      });
    }
  }
  r.done();
  return { name, filters };
}

function validateNetworkFilter(
  raw: unknown,
  path: string,
  issues: ConfigIssue[],
  ctx: ValidationContext,
): NetworkFilter | null {
  const r = readMessage(raw, path, issues);
  const givenName = r.string('name');
  const tc = r.requiredMessage('typed_config');
  const typeUrl = tc.requiredString('@type');
  let out: NetworkFilter | null = null;
  if (typeUrl === HTTP_CONNECTION_MANAGER_TYPE) {
    const config = readHttpConnectionManager(tc, ctx);
    out = {
      kind: 'http_connection_manager',
      name: givenName || 'envoy.filters.network.http_connection_manager',
      config,
    };
  } else if (typeUrl === TCP_PROXY_TYPE) {
    const config = readTcpProxy(tc, ctx);
    out = { kind: 'tcp_proxy', name: givenName || 'envoy.filters.network.tcp_proxy', config };
  } else if (typeUrl === NETWORK_LOCAL_RATELIMIT_TYPE_URL) {
    const config = readNetworkLocalRateLimit(tc);
    out = { kind: 'local_ratelimit', name: givenName || 'envoy.filters.network.local_ratelimit', config };
  } else if (typeUrl !== '') {
    tc.issue(
      '@type',
      `unsupported network filter type '${typeUrl}'; supported: ${HTTP_CONNECTION_MANAGER_TYPE}, ${TCP_PROXY_TYPE}, ${NETWORK_LOCAL_RATELIMIT_TYPE_URL}`,
    );
    tc.ignoreRest();
  }
  r.done();
  return out;
}
