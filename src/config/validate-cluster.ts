// Validation of `envoy.config.cluster.v3.Cluster` (STATIC, STRICT_DNS, LOGICAL_DNS and EDS
// over ADS; the load-balancer fields in validate-lb.ts) and of ClusterLoadAssignment (envoy.config.endpoint.v3),
// inline or delivered by EDS.

import type { ConfigIssue } from '../core/errors.js';
import { type EnumSpec, type FieldReader, readMessage } from './fields.js';
import type {
  Cluster,
  ClusterLoadAssignment,
  Http2Options,
  LbEndpoint,
  Locality,
  LocalityLbEndpoints,
} from './model.js';
import { readAddress } from './validate-address.js';
import { readCircuitBreakers } from './validate-circuit-breakers.js';
import { readAdsConfigSource } from './validate-config-source.js';
import { readHealthChecks } from './validate-health-check.js';
import { readHttp2Options } from './validate-http2-options.js';
import { readLbConfig, readOverprovisioningFactor } from './validate-lb.js';
import { readOutlierDetection } from './validate-outlier-detection.js';
import { readUpstreamTransportSocket } from './validate-tls.js';

const DISCOVERY_TYPE: EnumSpec<Cluster['type']> = {
  known: ['STATIC', 'STRICT_DNS', 'LOGICAL_DNS', 'EDS', 'ORIGINAL_DST'],
  supported: ['STATIC', 'STRICT_DNS', 'LOGICAL_DNS', 'EDS'],
};
const LB_POLICY: EnumSpec<Cluster['lbPolicy']> = {
  // Proto numbers: 4 was ORIGINAL_DST_LB (removed), hence the gap.
  known: [
    'ROUND_ROBIN',
    'LEAST_REQUEST',
    'RING_HASH',
    'RANDOM',
    '',
    'MAGLEV',
    'CLUSTER_PROVIDED',
    'LOAD_BALANCING_POLICY_CONFIG',
  ],
  supported: ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV'],
};
const DNS_LOOKUP_FAMILY: EnumSpec<Cluster['dnsLookupFamily']> = {
  known: ['AUTO', 'V4_ONLY', 'V6_ONLY', 'V4_PREFERRED', 'ALL'],
  supported: ['AUTO', 'V4_ONLY', 'V6_ONLY', 'V4_PREFERRED', 'ALL'],
};
const HEALTH_STATUS: EnumSpec<LbEndpoint['healthStatus']> = {
  known: ['UNKNOWN', 'HEALTHY', 'UNHEALTHY', 'DRAINING', 'TIMEOUT', 'DEGRADED'],
  supported: ['UNKNOWN', 'HEALTHY', 'UNHEALTHY', 'DRAINING', 'TIMEOUT', 'DEGRADED'],
};

/** Envoy defaults (Cluster and HttpProtocolOptions docs). */
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_DNS_REFRESH_MS = 5_000;
const DEFAULT_IDLE_TIMEOUT_MS = 3_600_000;
const DEFAULT_BUFFER_LIMIT_BYTES = 1_048_576;
const MAX_PRIORITY = 127;

export function validateCluster(raw: unknown, path: string, issues: ConfigIssue[]): Cluster {
  const r = readMessage(raw, path, issues);
  const name = r.requiredString('name');
  const type = r.enumeration('type', 'STATIC', DISCOVERY_TYPE);
  const connectTimeoutMs =
    r.duration('connect_timeout', DEFAULT_CONNECT_TIMEOUT_MS) ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (connectTimeoutMs <= 0) r.issue('connect_timeout', 'must be greater than 0s');
  const lbPolicy = r.enumeration('lb_policy', 'ROUND_ROBIN', LB_POLICY);
  const lbConfig = readLbConfig(r, lbPolicy);
  const dnsRefreshRateMs = r.duration('dns_refresh_rate', DEFAULT_DNS_REFRESH_MS) ?? DEFAULT_DNS_REFRESH_MS;
  if (dnsRefreshRateMs < 1) r.issue('dns_refresh_rate', 'must be at least 1ms');
  const dnsLookupFamily = r.enumeration('dns_lookup_family', 'AUTO', DNS_LOOKUP_FAMILY);
  const perConnectionBufferLimitBytes = r.uint32(
    'per_connection_buffer_limit_bytes',
    DEFAULT_BUFFER_LIMIT_BYTES,
    1,
  );
  let idleTimeoutMs: number | null = DEFAULT_IDLE_TIMEOUT_MS;
  let maxRequestsPerConnection: number | null = null;
  let maxConnectionDurationMs: number | null = null;
  const protocol: UpstreamProtocol = { http2: false, httpProtocol: 'HTTP1', http2Options: null };
  // The deprecated Cluster.http2_protocol_options.
  const deprecatedH2 = r.message('http2_protocol_options');
  if (deprecatedH2 !== null) {
    protocol.http2 = true;
    protocol.httpProtocol = 'HTTP2';
    protocol.http2Options = readHttp2Options(deprecatedH2);
  }
  // The same options come either from the deprecated Cluster.common_http_protocol_options or
  // from the HttpProtocolOptions extension that replaced it (envoy.extensions.upstreams.http.v3).
  const common = r.message('common_http_protocol_options') ?? readUpstreamHttpOptions(r, protocol);
  if (common !== null) {
    idleTimeoutMs = common.duration('idle_timeout', DEFAULT_IDLE_TIMEOUT_MS, true);
    // 0 means no limit, as an absent value does.
    maxRequestsPerConnection = common.optionalUint32('max_requests_per_connection') || null;
    // Absent or 0: pooled connections are kept however old they are.
    maxConnectionDurationMs = common.duration('max_connection_duration', null, true);
  }
  const circuitBreakers = r.has('circuit_breakers') ? readCircuitBreakers(r) : null;
  const healthChecks = r.has('health_checks') ? readHealthChecks(r) : null;
  const outlierDetection = r.has('outlier_detection') ? readOutlierDetection(r) : null;
  let edsServiceName: string | null = null;
  let loadAssignment: ClusterLoadAssignment;
  if (type === 'EDS') {
    // https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto#config-cluster-v3-cluster-edsclusterconfig
    const eds = r.requiredMessage('eds_cluster_config');
    readAdsConfigSource(eds, 'eds_config');
    edsServiceName = eds.string('service_name') || name;
    // Envoy ignores an inline load_assignment on an EDS cluster; Weft refuses what it would ignore.
    if (r.has('load_assignment')) {
      r.issue('load_assignment', 'an EDS cluster gets its endpoints from EDS; remove it');
      r.ignore('load_assignment');
    }
    loadAssignment = { clusterName: edsServiceName, endpoints: [] };
  } else {
    if (!r.has('load_assignment')) r.issue('load_assignment', 'is required (the endpoints of the cluster)');
    const la = r.requiredMessage('load_assignment');
    const clusterName = la.string('cluster_name') || name;
    loadAssignment = { clusterName, endpoints: readEndpoints(la, type) };
    const overprovisioningFactor = readOverprovisioningFactor(la);
    if (overprovisioningFactor !== null) loadAssignment = { ...loadAssignment, overprovisioningFactor };
  }
  // The TLS transport socket (validate-tls.ts); absent = plain TCP.
  const ts = r.message('transport_socket');
  const transportSocket = ts === null ? null : readUpstreamTransportSocket(ts);
  // auto_config chooses by ALPN, which only TLS has: a plaintext cluster speaks HTTP/1.1.
  if (protocol.httpProtocol === 'AUTO' && transportSocket === null) protocol.httpProtocol = 'HTTP1';
  r.done();
  return {
    ...(transportSocket === null ? {} : { transportSocket }),
    name,
    type,
    edsServiceName,
    http2: protocol.http2,
    // Set only when not the default HTTP/1.1, so other configs keep their shape.
    ...(protocol.httpProtocol === 'HTTP1' ? {} : { httpProtocol: protocol.httpProtocol }),
    ...(protocol.http2Options === null ? {} : { http2Options: protocol.http2Options }),
    connectTimeoutMs,
    lbPolicy,
    loadAssignment,
    dnsRefreshRateMs,
    dnsLookupFamily,
    perConnectionBufferLimitBytes,
    idleTimeoutMs,
    maxRequestsPerConnection,
    ...(maxConnectionDurationMs === null ? {} : { maxConnectionDurationMs }),
    // Set only when given (the defaults apply in the cluster), so other configs keep their shape.
    ...(circuitBreakers === null ? {} : { circuitBreakers }),
    ...(lbConfig === null ? {} : { lbConfig }),
    ...(healthChecks === null || healthChecks.length === 0 ? {} : { healthChecks }),
    ...(outlierDetection === null ? {} : { outlierDetection }),
  };
}

export const UPSTREAM_HTTP_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const UPSTREAM_HTTP_OPTIONS_TYPE = `type.googleapis.com/${UPSTREAM_HTTP_OPTIONS_KEY}`;

interface UpstreamProtocol {
  http2: boolean;
  httpProtocol: NonNullable<Cluster['httpProtocol']>;
  http2Options: Http2Options | null;
}

/**
 * `typed_extension_protocol_options` holding HttpProtocolOptions: the upstream protocol
 * (`explicit_http_config`, `use_downstream_protocol_config`, `auto_config`) into
 * `protocol`; returns its common_http_protocol_options reader, or null.
 *
 * `auto_config` chooses by ALPN (AUTO; the pool offers `h2,http/1.1`); without TLS there
 * is no ALPN, so a plaintext cluster speaks HTTP/1.1 (the caller turns AUTO into HTTP1).
 * Its http2_protocol_options apply to connections that negotiate h2.
 */
function readUpstreamHttpOptions(r: FieldReader, protocol: UpstreamProtocol): FieldReader | null {
  const ext = r.message('typed_extension_protocol_options');
  if (ext === null) return null;
  if (r.has('common_http_protocol_options')) {
    r.issue('typed_extension_protocol_options', 'must not be combined with common_http_protocol_options');
  }
  const opts = ext.message(UPSTREAM_HTTP_OPTIONS_KEY);
  if (opts === null) return null;
  const typeUrl = opts.requiredString('@type');
  if (typeUrl !== '' && typeUrl !== UPSTREAM_HTTP_OPTIONS_TYPE)
    opts.issue('@type', `expected '${UPSTREAM_HTTP_OPTIONS_TYPE}'`);
  const which = opts.oneOf(
    ['explicit_http_config', 'use_downstream_protocol_config', 'auto_config'],
    'explicit_http_config, use_downstream_protocol_config, auto_config',
  );
  if (which === 'explicit_http_config') {
    const explicit = opts.requiredMessage('explicit_http_config');
    const version = explicit.oneOf(
      ['http_protocol_options', 'http2_protocol_options'],
      'http_protocol_options, http2_protocol_options',
    );
    if (version === 'http_protocol_options') explicit.message(version);
    if (version === 'http2_protocol_options') {
      protocol.http2 = true;
      protocol.httpProtocol = 'HTTP2';
      protocol.http2Options = readHttp2Options(explicit.requiredMessage(version));
    }
  } else if (which !== null) {
    const m = opts.requiredMessage(which);
    m.message('http_protocol_options');
    const h2 = m.message('http2_protocol_options');
    if (h2 !== null) protocol.http2Options = readHttp2Options(h2);
    protocol.httpProtocol = which === 'use_downstream_protocol_config' ? 'USE_DOWNSTREAM' : 'AUTO';
  }
  return opts.message('common_http_protocol_options');
}

/**
 * A ClusterLoadAssignment delivered by EDS (`cluster_name` required, endpoints must be IP
 * literals, as Envoy requires for EDS hosts).
 */
export function validateClusterLoadAssignment(
  raw: unknown,
  path: string,
  issues: ConfigIssue[],
): ClusterLoadAssignment {
  const la = readMessage(raw, path, issues);
  const clusterName = la.requiredString('cluster_name');
  const endpoints = readEndpoints(la, 'EDS');
  // Of `policy`, only overprovisioning_factor is read: done() refuses drop_overloads and the rest.
  const overprovisioningFactor = readOverprovisioningFactor(la);
  la.done();
  return overprovisioningFactor === null
    ? { clusterName, endpoints }
    : { clusterName, endpoints, overprovisioningFactor };
}

function readEndpoints(la: FieldReader, type: Cluster['type']): LocalityLbEndpoints[] {
  const items = la.list('endpoints');
  const out: LocalityLbEndpoints[] = [];
  let count = 0;
  for (let i = 0; i < items.length; i++) {
    const r = readMessage(items[i], `${la.at('endpoints')}[${i}]`, la.issues);
    const loc = r.message('locality');
    const locality = loc === null ? null : readLocality(loc);
    const loadBalancingWeight = r.optionalUint32('load_balancing_weight', 1);
    const priority = r.uint32('priority', 0, 0, MAX_PRIORITY);
    const lbItems = r.list('lb_endpoints');
    const lbEndpoints: LbEndpoint[] = [];
    for (let j = 0; j < lbItems.length; j++) {
      const e = readMessage(lbItems[j], `${r.at('lb_endpoints')}[${j}]`, la.issues);
      const ep = e.requiredMessage('endpoint');
      const address = readAddress(ep, 'address', {
        host: type === 'STATIC' || type === 'EDS' ? 'ip' : 'host',
        allowPortZero: false,
      });
      const weight = e.uint32('load_balancing_weight', 1, 1);
      const healthStatus = e.enumeration('health_status', 'UNKNOWN', HEALTH_STATUS);
      e.done();
      lbEndpoints.push({ address, loadBalancingWeight: weight, healthStatus });
      count++;
    }
    r.done();
    out.push({ locality, lbEndpoints, loadBalancingWeight, priority });
  }
  if (type === 'LOGICAL_DNS' && count !== 1) {
    la.issue('endpoints', `a LOGICAL_DNS cluster must have exactly one endpoint, found ${count}`);
  }
  return out;
}

/** `envoy.config.core.v3.Locality` (also used by the bootstrap's node). */
export function readLocality(r: FieldReader): Locality {
  return {
    region: r.string('region') ?? '',
    zone: r.string('zone') ?? '',
    subZone: r.string('sub_zone') ?? '',
  };
}
