// Validation of a cluster's `health_checks` (envoy.config.core.v3.HealthCheck): the timing
// fields, and one of `http_health_check`, `tcp_health_check` or `grpc_health_check`.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/core/v3/health_check.proto
//
// Refused with a message rather than ignored: `custom_health_check`, `event_log_path` and
// `event_logger` (no health-check event log), `tls_options` and
// `transport_socket_match_criteria` (checks are plaintext), HTTP/2 and HTTP/3 HTTP checks,
// `service_name_matcher`, `send`/`receive` of HTTP checks, `initial_metadata` of gRPC checks.

import { describe, type EnumSpec, type FieldReader, readMessage } from './fields.js';
import type { HeaderValueOption, HealthCheck, Int64Range } from './model.js';
import { checkMutableHeaderName, validateHeaderValueOption } from './validate-headers.js';

const CODEC: EnumSpec<'HTTP1'> = { known: ['HTTP1', 'HTTP2', 'HTTP3'], supported: ['HTTP1'] };
const METHOD: EnumSpec<'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'OPTIONS' | 'TRACE' | 'PATCH'> = {
  known: [
    'METHOD_UNSPECIFIED',
    'GET',
    'HEAD',
    'POST',
    'PUT',
    'DELETE',
    'CONNECT',
    'OPTIONS',
    'TRACE',
    'PATCH',
  ],
  supported: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH'],
};

/** Envoy's default `no_traffic_interval`. */
const DEFAULT_NO_TRAFFIC_INTERVAL_MS = 60_000;
/** Envoy's default `expected_statuses`: 200 only. */
const DEFAULT_EXPECTED: readonly Int64Range[] = [{ start: 200, end: 201 }];

/** Reads the cluster's `health_checks` list. */
export function readHealthChecks(cluster: FieldReader): HealthCheck[] {
  const items = cluster.list('health_checks');
  const out: HealthCheck[] = [];
  for (let i = 0; i < items.length; i++) {
    const r = readMessage(items[i], `${cluster.at('health_checks')}[${i}]`, cluster.issues);
    const hc = readHealthCheck(r);
    r.done();
    if (hc !== null) out.push(hc);
  }
  // Envoy: "Multiple health checks not supported".
  if (items.length > 1)
    cluster.issue('health_checks', 'only one health check per cluster is supported (as in Envoy)');
  return out;
}

/** A duration that must be present and greater than zero. */
function positiveDuration(r: FieldReader, name: string): number {
  if (!r.has(name)) {
    r.issue(name, 'is required');
    return 1;
  }
  const ms = r.duration(name, null);
  if (ms === null) return 1;
  if (ms <= 0) {
    r.issue(name, 'must be greater than 0s');
    return 1;
  }
  return ms;
}

/** An optional duration that, when given, must be greater than zero. */
function optionalPositive(r: FieldReader, name: string, def: number): number {
  if (!r.has(name)) return def;
  const ms = r.duration(name, def) ?? def;
  if (ms <= 0) {
    r.issue(name, 'must be greater than 0s');
    return def;
  }
  return ms;
}

function readHealthCheck(r: FieldReader): HealthCheck | null {
  const timeoutMs = positiveDuration(r, 'timeout');
  const intervalMs = positiveDuration(r, 'interval');
  const initialJitterMs = r.duration('initial_jitter', 0) ?? 0;
  const intervalJitterMs = r.duration('interval_jitter', 0) ?? 0;
  const intervalJitterPercent = r.uint32('interval_jitter_percent', 0);
  if (!r.has('unhealthy_threshold')) r.issue('unhealthy_threshold', 'is required');
  if (!r.has('healthy_threshold')) r.issue('healthy_threshold', 'is required');
  // Envoy treats 0 like 1 (a threshold is reached at the first result).
  const unhealthyThreshold = Math.max(1, r.uint32('unhealthy_threshold', 1));
  const healthyThreshold = Math.max(1, r.uint32('healthy_threshold', 1));
  const reuseConnection = r.boolean('reuse_connection', true);
  const noTrafficIntervalMs = optionalPositive(r, 'no_traffic_interval', DEFAULT_NO_TRAFFIC_INTERVAL_MS);
  const noTrafficHealthyIntervalMs = optionalPositive(r, 'no_traffic_healthy_interval', noTrafficIntervalMs);
  const unhealthyIntervalMs = optionalPositive(r, 'unhealthy_interval', intervalMs);
  const unhealthyEdgeIntervalMs = optionalPositive(r, 'unhealthy_edge_interval', unhealthyIntervalMs);
  const healthyEdgeIntervalMs = optionalPositive(r, 'healthy_edge_interval', intervalMs);
  const alwaysLogHealthCheckFailures = r.boolean('always_log_health_check_failures', false);
  // Without an event log there is nothing to log successes to either; accepted as a no-op flag.
  r.boolean('always_log_health_check_success', false);
  for (const name of ['event_log_path', 'event_logger']) {
    if (r.has(name)) {
      r.issue(name, 'health-check event logs are not supported by Weft; remove it');
      r.ignore(name);
    }
  }
  const which = r.oneOf(
    ['http_health_check', 'tcp_health_check', 'grpc_health_check', 'custom_health_check'],
    'http_health_check, tcp_health_check, grpc_health_check',
  );
  let checker: HealthCheck['checker'] | null = null;
  switch (which) {
    case 'http_health_check':
      checker = readHttpCheck(r.message(which)!);
      break;
    case 'tcp_health_check':
      checker = readTcpCheck(r.message(which)!);
      break;
    case 'grpc_health_check':
      checker = readGrpcCheck(r.message(which)!);
      break;
    case 'custom_health_check':
      r.issue(which, 'custom health checkers are not supported by Weft; use http, tcp or grpc');
      r.ignore(which);
      break;
    default:
      r.issue(null, 'one of http_health_check, tcp_health_check or grpc_health_check is required');
  }
  if (checker === null) return null;
  return {
    timeoutMs,
    intervalMs,
    initialJitterMs,
    intervalJitterMs,
    intervalJitterPercent,
    unhealthyThreshold,
    healthyThreshold,
    reuseConnection,
    noTrafficIntervalMs,
    noTrafficHealthyIntervalMs,
    unhealthyIntervalMs,
    unhealthyEdgeIntervalMs,
    healthyEdgeIntervalMs,
    alwaysLogHealthCheckFailures,
    checker,
  };
}

function readHttpCheck(h: FieldReader): HealthCheck['checker'] {
  const host = h.string('host') ?? '';
  const path = h.requiredString('path');
  if (path !== '' && !path.startsWith('/')) h.issue('path', "must start with '/'");
  h.enumeration('codec_client_type', 'HTTP1', CODEC);
  const method = h.enumeration('method', 'GET', METHOD);
  const expected = readRanges(h, 'expected_statuses');
  const retriableStatuses = readRanges(h, 'retriable_statuses');
  const requestHeadersToAdd: HeaderValueOption[] = [];
  const adds = h.list('request_headers_to_add');
  for (let i = 0; i < adds.length; i++) {
    const at = `${h.at('request_headers_to_add')}[${i}]`;
    const opt = validateHeaderValueOption(adds[i], at, h.issues);
    // Header formatters (%...%) are not expanded in health checks; refuse rather than send them raw.
    if (opt.value.includes('%'))
      h.issues.push({ path: `${at}.header.value`, message: "'%' substitutions are not supported here" });
    requestHeadersToAdd.push(opt);
  }
  const requestHeadersToRemove: string[] = [];
  const removes = h.list('request_headers_to_remove');
  for (let i = 0; i < removes.length; i++) {
    const at = `${h.at('request_headers_to_remove')}[${i}]`;
    const v = removes[i];
    if (typeof v !== 'string') h.issues.push({ path: at, message: `expected a string, got ${describe(v)}` });
    else {
      const name = checkMutableHeaderName(v, at, h.issues);
      if (name !== null) requestHeadersToRemove.push(name);
    }
  }
  return {
    kind: 'http',
    host,
    path,
    method,
    expectedStatuses: expected.length === 0 ? DEFAULT_EXPECTED : expected,
    retriableStatuses,
    requestHeadersToAdd,
    requestHeadersToRemove,
  };
}

/** A list of `envoy.type.v3.Int64Range` HTTP status ranges, [start, end) within [100, 600). */
function readRanges(h: FieldReader, name: string): Int64Range[] {
  const items = h.list(name);
  const out: Int64Range[] = [];
  for (let i = 0; i < items.length; i++) {
    const r = readMessage(items[i], `${h.at(name)}[${i}]`, h.issues);
    const start = r.int64('start') ?? 0;
    const end = r.int64('end') ?? 0;
    r.done();
    if (start < 100 || end > 600 || start >= end)
      r.issue(null, `expected 100 <= start < end <= 600 (end exclusive), got [${start}, ${end})`);
    else out.push({ start, end });
  }
  return out;
}

function readTcpCheck(t: FieldReader): HealthCheck['checker'] {
  const s = t.message('send');
  const send = s === null ? null : readPayload(s);
  const items = t.list('receive');
  const receive: Buffer[] = [];
  for (let i = 0; i < items.length; i++) {
    const p = readMessage(items[i], `${t.at('receive')}[${i}]`, t.issues);
    const b = readPayload(p);
    p.done();
    if (b !== null) receive.push(b);
  }
  return { kind: 'tcp', send, receive };
}

/** `HealthCheck.Payload`: `text` (hex) or `binary` (base64); null when invalid. */
function readPayload(p: FieldReader): Buffer | null {
  const which = p.oneOf(['text', 'binary'], 'text, binary');
  if (which === null) {
    p.issue(null, 'one of text (hex) or binary (base64) is required');
    return null;
  }
  const v = p.string(which) ?? '';
  if (which === 'text') {
    if (v === '' || v.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(v)) {
      p.issue('text', 'expected a non-empty hex string with an even number of digits');
      return null;
    }
    return Buffer.from(v, 'hex');
  }
  if (v === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) {
    p.issue('binary', 'expected non-empty base64');
    return null;
  }
  return Buffer.from(v, 'base64');
}

function readGrpcCheck(g: FieldReader): HealthCheck['checker'] {
  const serviceName = g.string('service_name') ?? '';
  const authority = g.string('authority') ?? '';
  return { kind: 'grpc', serviceName, authority };
}
