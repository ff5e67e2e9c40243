// Validation of `envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`:
// codec and limits, inline route_config or `rds` (routes by name over ADS), the HTTP filter
// chain (looked up in the injected registry; the router must be last; at most one fault
// filter), access logs.

import { type EnumSpec, type FieldReader, readMessage } from './fields.js';
import { ROUTER_TYPE_URL } from './http-filter-registry.js';
import type {
  CidrRange,
  ForwardClientCert,
  HttpConnectionManager,
  HttpFilter,
  RouteConfiguration,
} from './model.js';
import { validateAccessLog } from './validate-access-log.js';
import { readAdsConfigSource } from './validate-config-source.js';
import { FAULT_TYPE_URL } from './validate-fault-filter.js';
import { readCidrList } from './validate-filter-chain-match.js';
import { readHttp2Options } from './validate-http2-options.js';
import { readOriginalIpDetection } from './validate-original-ip-detection.js';
import { checkPerFilterConfigNames } from './validate-per-filter-config.js';
import { validateRouteConfiguration } from './validate-route-configuration.js';
import { readHcmUpgradeConfigs } from './validate-upgrade-configs.js';
import type { ValidationContext } from './validation-context.js';

export const HTTP_CONNECTION_MANAGER_TYPE =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

const CODEC_TYPE: EnumSpec<HttpConnectionManager['codecType']> = {
  known: ['AUTO', 'HTTP1', 'HTTP2', 'HTTP3'],
  supported: ['AUTO', 'HTTP1', 'HTTP2'],
};
const SERVER_HEADER_TRANSFORMATION: EnumSpec<HttpConnectionManager['serverHeaderTransformation']> = {
  known: ['OVERWRITE', 'APPEND_IF_ABSENT', 'PASS_THROUGH'],
  supported: ['OVERWRITE', 'APPEND_IF_ABSENT', 'PASS_THROUGH'],
};

/** Envoy defaults (HttpConnectionManager and HttpProtocolOptions docs). */
const DEFAULT_IDLE_TIMEOUT_MS = 3_600_000;
const DEFAULT_DRAIN_TIMEOUT_MS = 5_000;
/** Envoy's stream_idle_timeout default (HttpConnectionManager docs). */
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 300_000;
const DEFAULT_MAX_REQUEST_HEADERS_KB = 60;
const DEFAULT_MAX_HEADERS_COUNT = 100;

/** Reads an HttpConnectionManager typed_config (its `@type` already consumed). */
export function readHttpConnectionManager(r: FieldReader, ctx: ValidationContext): HttpConnectionManager {
  const statPrefix = r.requiredString('stat_prefix');
  const codecType = r.enumeration('codec_type', 'AUTO', CODEC_TYPE);
  const source = r.oneOf(['route_config', 'rds'], 'route_config, rds');
  let routeConfig: RouteConfiguration;
  let rds: HttpConnectionManager['rds'] = null;
  if (source === 'rds') {
    // https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto#envoy-v3-api-msg-extensions-filters-network-http-connection-manager-v3-rds
    const rr = r.requiredMessage('rds');
    const routeConfigName = rr.requiredString('route_config_name');
    readAdsConfigSource(rr, 'config_source');
    rds = { routeConfigName };
    routeConfig = emptyRouteConfiguration(routeConfigName);
  } else {
    if (source === null) r.issue('route_config', 'is required (or rds; scoped_routes is not supported)');
    routeConfig = validateRouteConfiguration(
      r.take('route_config') ?? {},
      r.at('route_config'),
      r.issues,
      ctx,
    );
  }
  const httpFilters = readHttpFilters(r, ctx);
  if (rds === null) {
    checkPerFilterConfigNames(routeConfig, httpFilters, ctx.registry, r.at('route_config'), r.issues);
  }
  const logs = r.list('access_log');
  const accessLog = logs.map((l, i) => validateAccessLog(l, `${r.at('access_log')}[${i}]`, r.issues));
  const maxRequestHeadersKb = r.uint32('max_request_headers_kb', DEFAULT_MAX_REQUEST_HEADERS_KB, 1, 8192);
  let idleTimeoutMs: number | null = DEFAULT_IDLE_TIMEOUT_MS;
  let maxHeadersCount = DEFAULT_MAX_HEADERS_COUNT;
  let maxConnectionDurationMs: number | null = null;
  let maxStreamDurationMs: number | null = null;
  let headersWithUnderscores: 'ALLOW' | 'REJECT_REQUEST' | 'DROP_HEADER' = 'ALLOW';
  const common = r.message('common_http_protocol_options');
  if (common !== null) {
    headersWithUnderscores = common.enumeration('headers_with_underscores_action', 'ALLOW', UNDERSCORES);
    idleTimeoutMs = common.duration('idle_timeout', DEFAULT_IDLE_TIMEOUT_MS, true);
    maxHeadersCount = common.uint32('max_headers_count', DEFAULT_MAX_HEADERS_COUNT, 1);
    // Both: absent or 0 = no limit (Envoy).
    maxConnectionDurationMs = common.duration('max_connection_duration', null, true);
    maxStreamDurationMs = common.duration('max_stream_duration', null, true);
  }
  const http1 = r.message('http_protocol_options');
  const acceptHttp10 = http1 === null ? false : http1.boolean('accept_http_10', false);
  const h2 = r.message('http2_protocol_options');
  const http2Options = h2 === null ? null : readHttp2Options(h2, true);
  const requestHeadersTimeoutMs = r.duration('request_headers_timeout', null, true);
  const requestTimeoutMs = r.duration('request_timeout', null, true);
  // Envoy: 5 minutes when absent, 0 disables it.
  const streamIdleTimeoutMs = r.has('stream_idle_timeout')
    ? r.duration('stream_idle_timeout', DEFAULT_STREAM_IDLE_TIMEOUT_MS, true)
    : undefined;
  const drainTimeoutMs = r.duration('drain_timeout', DEFAULT_DRAIN_TIMEOUT_MS) ?? DEFAULT_DRAIN_TIMEOUT_MS;
  const useRemoteAddress = r.boolean('use_remote_address', false);
  const xffNumTrustedHops = r.uint32('xff_num_trusted_hops', 0);
  const skipXffAppend = r.boolean('skip_xff_append', false);
  const originalIpDetection = readOriginalIpDetection(r, useRemoteAddress, xffNumTrustedHops);
  const iac = r.message('internal_address_config');
  let internalAddressRanges: CidrRange[] | null = null;
  if (iac !== null) {
    // Weft listens on TCP only (pipe addresses are refused), so unix_sockets can never apply.
    iac.boolean('unix_sockets', false);
    internalAddressRanges = readCidrList(iac, 'cidr_ranges');
    iac.done();
  }
  const generateRequestId = r.boolean('generate_request_id', true);
  const preserveExternalRequestId = r.boolean('preserve_external_request_id', false);
  const forwardClientCert = readForwardClientCert(r);
  const via = r.string('via') ?? '';
  if (/[\r\n\0]/.test(via)) r.issue('via', 'must not contain CR, LF or NUL');
  const pathNormalization = readPathNormalization(r);
  const serverName = r.string('server_name') ?? 'weft';
  const serverHeaderTransformation = r.enumeration(
    'server_header_transformation',
    'OVERWRITE',
    SERVER_HEADER_TRANSFORMATION,
  );
  const upgradeConfigs = readHcmUpgradeConfigs(r);
  return {
    statPrefix,
    codecType,
    routeConfig,
    rds,
    httpFilters,
    accessLog,
    maxRequestHeadersKb,
    maxHeadersCount,
    idleTimeoutMs,
    requestHeadersTimeoutMs,
    ...(requestTimeoutMs === null ? {} : { requestTimeoutMs }),
    // Set only when given (the defaults apply in the proxy), so other configs keep their shape.
    ...(streamIdleTimeoutMs === undefined ? {} : { streamIdleTimeoutMs }),
    ...(maxConnectionDurationMs === null ? {} : { maxConnectionDurationMs }),
    ...(maxStreamDurationMs === null ? {} : { maxStreamDurationMs }),
    drainTimeoutMs,
    useRemoteAddress,
    xffNumTrustedHops,
    skipXffAppend,
    ...(originalIpDetection === null ? {} : { originalIpDetection }),
    internalAddressRanges,
    generateRequestId,
    preserveExternalRequestId,
    ...(forwardClientCert === null ? {} : { forwardClientCert }),
    ...(via === '' ? {} : { via }),
    ...(pathNormalization === null ? {} : { pathNormalization }),
    ...(headersWithUnderscores === 'ALLOW' ? {} : { headersWithUnderscores }),
    serverName,
    serverHeaderTransformation,
    acceptHttp10,
    // Set only when given (the defaults apply in the proxy), so other configs keep their shape.
    ...(http2Options === null ? {} : { http2Options }),
    ...(upgradeConfigs === null ? {} : { upgradeConfigs }),
  };
}

/** `http_filters`: required, each looked up by `@type`, the router exactly once and last. */
function readHttpFilters(r: FieldReader, ctx: ValidationContext): HttpFilter[] {
  if (!r.has('http_filters')) {
    r.issue('http_filters', `is required and must end with the router (${ROUTER_TYPE_URL})`);
  }
  const items = r.list('http_filters');
  const out: HttpFilter[] = [];
  for (let i = 0; i < items.length; i++) {
    const path = `${r.at('http_filters')}[${i}]`;
    const f = readMessage(items[i], path, r.issues);
    const givenName = f.string('name');
    const tc = f.requiredMessage('typed_config');
    const typeUrl = tc.requiredString('@type');
    const factory = ctx.registry.get(typeUrl);
    let config: unknown = null;
    if (factory !== undefined) {
      // The filter's own validator reads its fields and reports the unsupported ones.
      const raw: Record<string, unknown> = { ...tc.rawObject() };
      delete raw['@type'];
      tc.ignoreRest();
      try {
        config = factory.validate(raw, tc.path, r.issues);
      } catch (err) {
        // A filter validator that throws is a bug in that filter; report it as a config issue
        // rather than let it escape the loader.
        tc.issue(
          null,
          `filter config validation failed: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    } else if (typeUrl !== '') {
      tc.issue('@type', `unsupported HTTP filter type '${typeUrl}'`);
      tc.ignoreRest();
    }
    if (typeUrl === FAULT_TYPE_URL && out.some((o) => o.typeUrl === FAULT_TYPE_URL)) {
      // One fault filter per connection manager keeps the request path to one null check.
      tc.issue(
        '@type',
        'only one fault filter (envoy.filters.http.fault) is supported per connection manager',
      );
    }
    const isRouter = typeUrl === ROUTER_TYPE_URL;
    if (isRouter && i !== items.length - 1) f.issue(null, 'the router must be the last HTTP filter');
    if (!isRouter && i === items.length - 1 && typeUrl !== '') {
      f.issue(null, `the last HTTP filter must be the router (${ROUTER_TYPE_URL})`);
    }
    f.done();
    out.push({ name: givenName || factory?.defaultName || typeUrl, typeUrl, config });
  }
  if (r.has('http_filters') && items.length === 0) {
    r.issue('http_filters', `must not be empty; the last filter must be the router (${ROUTER_TYPE_URL})`);
  }
  return out;
}

/** The placeholder route configuration of an RDS listener until its routes arrive. */
export function emptyRouteConfiguration(name: string): RouteConfiguration {
  return {
    name,
    virtualHosts: [],
    requestHeadersToAdd: [],
    requestHeadersToRemove: [],
    responseHeadersToAdd: [],
    responseHeadersToRemove: [],
  };
}

const FORWARD_CLIENT_CERT: EnumSpec<ForwardClientCert['mode']> = {
  known: ['SANITIZE', 'FORWARD_ONLY', 'APPEND_FORWARD', 'SANITIZE_SET', 'ALWAYS_FORWARD_ONLY'],
  supported: ['SANITIZE', 'FORWARD_ONLY', 'APPEND_FORWARD', 'SANITIZE_SET', 'ALWAYS_FORWARD_ONLY'],
};

/** `forward_client_cert_details` and `set_current_client_cert_details`; null when neither is set. */
function readForwardClientCert(r: FieldReader): ForwardClientCert | null {
  const given = r.has('forward_client_cert_details') || r.has('set_current_client_cert_details');
  const mode = r.enumeration('forward_client_cert_details', 'SANITIZE', FORWARD_CLIENT_CERT);
  const d = r.message('set_current_client_cert_details');
  const details = {
    subject: d?.boolean('subject', false) ?? false,
    cert: d?.boolean('cert', false) ?? false,
    chain: d?.boolean('chain', false) ?? false,
    dns: d?.boolean('dns', false) ?? false,
    uri: d?.boolean('uri', false) ?? false,
  };
  d?.done();
  return given ? { mode, ...details } : null;
}

type EscapedSlashes = NonNullable<HttpConnectionManager['pathNormalization']>['escapedSlashes'];
const ESCAPED_SLASHES: EnumSpec<EscapedSlashes | 'IMPLEMENTATION_SPECIFIC_DEFAULT'> = {
  known: [
    'IMPLEMENTATION_SPECIFIC_DEFAULT',
    'KEEP_UNCHANGED',
    'REJECT_REQUEST',
    'UNESCAPE_AND_REDIRECT',
    'UNESCAPE_AND_FORWARD',
  ],
  supported: [
    'IMPLEMENTATION_SPECIFIC_DEFAULT',
    'KEEP_UNCHANGED',
    'REJECT_REQUEST',
    'UNESCAPE_AND_REDIRECT',
    'UNESCAPE_AND_FORWARD',
  ],
};

/** `normalize_path`, `merge_slashes`, `path_with_escaped_slashes_action`; null when all are off. */
function readPathNormalization(r: FieldReader): HttpConnectionManager['pathNormalization'] | null {
  const normalizePath = r.boolean('normalize_path', false);
  const mergeSlashes = r.boolean('merge_slashes', false);
  const action = r.enumeration('path_with_escaped_slashes_action', 'KEEP_UNCHANGED', ESCAPED_SLASHES);
  // Envoy's IMPLEMENTATION_SPECIFIC_DEFAULT is KEEP_UNCHANGED.
  const escapedSlashes: EscapedSlashes =
    action === 'IMPLEMENTATION_SPECIFIC_DEFAULT' ? 'KEEP_UNCHANGED' : action;
  if (!normalizePath && !mergeSlashes && escapedSlashes === 'KEEP_UNCHANGED') return null;
  return { normalizePath, mergeSlashes, escapedSlashes };
}

const UNDERSCORES: EnumSpec<'ALLOW' | 'REJECT_REQUEST' | 'DROP_HEADER'> = {
  known: ['ALLOW', 'REJECT_REQUEST', 'DROP_HEADER'],
  supported: ['ALLOW', 'REJECT_REQUEST', 'DROP_HEADER'],
};
