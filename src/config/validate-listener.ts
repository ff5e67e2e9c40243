// Validation of `envoy.config.listener.v3.Listener`: address, filter chains, and the
// network filters of each chain, chosen by the `@type` of their typed_config: non-terminal
// ones (local_ratelimit) first, then one terminal filter (http_connection_manager or
// tcp_proxy), last. Filter chain matching, the TLS transport socket and listener filters
// are read by validate-filter-chain-match.ts and validate-tls.ts.

import type { ConfigIssue } from '../core/errors.js';
import { readMessage } from './fields.js';
import type { FilterChain, Listener, NetworkFilter } from './model.js';
import { readAddress } from './validate-address.js';
import {
  checkFilterChainMatches,
  readFilterChainMatch,
  readListenerFilters,
} from './validate-filter-chain-match.js';
import {
  HTTP_CONNECTION_MANAGER_TYPE,
  readHttpConnectionManager,
} from './validate-http-connection-manager.js';
import { NETWORK_LOCAL_RATELIMIT_TYPE_URL, readNetworkLocalRateLimit } from './validate-local-ratelimit.js';
import { readTcpProxy, TCP_PROXY_TYPE } from './validate-tcp-proxy.js';
import { readDownstreamTransportSocket } from './validate-tls.js';
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
  const hasDefault = r.has('default_filter_chain');
  if (!r.has('filter_chains') && !hasDefault) r.issue('filter_chains', 'is required');
  const items = r.list('filter_chains');
  if (r.has('filter_chains') && items.length === 0 && !hasDefault)
    r.issue('filter_chains', 'must not be empty');
  const filterChains: FilterChain[] = [];
  for (let i = 0; i < items.length; i++) {
    filterChains.push(validateFilterChain(items[i], `${r.at('filter_chains')}[${i}]`, issues, ctx));
  }
  const defaultChain = hasDefault
    ? validateFilterChain(r.take('default_filter_chain'), r.at('default_filter_chain'), issues, ctx)
    : null;
  const listenerFilters = readListenerFilters(r);
  checkFilterChainMatches(filterChains, listenerFilters, r);
  r.done();
  return {
    name,
    address,
    filterChains,
    perConnectionBufferLimitBytes,
    // Set only when given, so listeners without them keep their shape.
    ...(defaultChain === null ? {} : { defaultFilterChain: defaultChain }),
    ...(listenerFilters === null ? {} : { listenerFilters }),
  };
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
  const match = r.has('filter_chain_match')
    ? readFilterChainMatch(r.requiredMessage('filter_chain_match'))
    : null;
  const ts = r.message('transport_socket');
  const transportSocket = ts === null ? null : readDownstreamTransportSocket(ts, ctx.readFile);
  const connectTimeoutMs = r.duration('transport_socket_connect_timeout', null, true);
  r.done();
  return {
    name,
    filters,
    ...(match === null ? {} : { match }),
    ...(transportSocket === null ? {} : { transportSocket }),
    ...(connectTimeoutMs === null ? {} : { transportSocketConnectTimeoutMs: connectTimeoutMs }),
  };
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
