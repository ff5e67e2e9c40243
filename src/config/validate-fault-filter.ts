// Validation of `envoy.extensions.filters.http.fault.v3.HTTPFault` (the fault injection
// filter): a fixed or header-controlled delay, an HTTP/gRPC or header-controlled abort,
// each with its sampling percentage, limited by request headers, the routed cluster and
// `max_active_faults`. Fields Weft does not implement (downstream_nodes,
// response_rate_limit, exponential_delay, the *_runtime keys...) are refused by path.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/http/fault/v3/fault.proto

import type { ConfigIssue } from '../core/errors.js';
import { type FieldReader, readMessage } from './fields.js';
import type { HttpFilterFactoryConfig } from './http-filter-registry.js';
import type { FaultAbort, FaultDelay, FractionalPercent, HttpFault } from './model.js';
import { validateHeaderMatcher } from './validate-matchers.js';

export const FAULT_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';

const DENOMINATORS: Readonly<Record<string, number>> = {
  HUNDRED: 100,
  TEN_THOUSAND: 10_000,
  MILLION: 1_000_000,
};
const DENOMINATOR_NAMES = ['HUNDRED', 'TEN_THOUSAND', 'MILLION'] as const;

/** Proto default of an unset FractionalPercent: 0/100, so a fault without `percentage` never fires. */
const ZERO_PERCENT: FractionalPercent = { numerator: 0, denominator: 100 };

/** `envoy.type.v3.FractionalPercent` at `name` of `r`; `absent` when not given (default 0%). */
export function readPercentage(
  r: FieldReader,
  name: string,
  absent: FractionalPercent = ZERO_PERCENT,
): FractionalPercent {
  const p = r.message(name);
  if (p === null) return absent;
  const numerator = p.uint32('numerator', 0);
  const d = p.take('denominator');
  let denominator = 100;
  if (d !== undefined) {
    const label = typeof d === 'number' && Number.isInteger(d) ? DENOMINATOR_NAMES[d] : d;
    const value = typeof label === 'string' ? DENOMINATORS[label] : undefined;
    if (value === undefined)
      p.issue(
        'denominator',
        `unknown value ${JSON.stringify(d)}; expected one of ${DENOMINATOR_NAMES.join(', ')}`,
      );
    else denominator = value;
  }
  // Envoy treats a numerator above the denominator as 100%.
  return { numerator: Math.min(numerator, denominator), denominator };
}

function readDelay(r: FieldReader): FaultDelay | null {
  const d = r.message('delay');
  if (d === null) return null;
  const which = d.oneOf(['fixed_delay', 'header_delay'], 'fixed_delay, header_delay');
  let fixedDelayMs: number | null = null;
  if (which === 'fixed_delay') {
    const ms = d.duration('fixed_delay', null);
    if (ms !== null && ms <= 0) d.issue('fixed_delay', 'must be greater than 0s');
    fixedDelayMs = ms ?? 0;
  } else if (which === 'header_delay') {
    d.message('header_delay')?.done();
  } else if (!d.has('exponential_delay')) {
    d.issue(null, 'one of fixed_delay, header_delay is required');
  }
  const percentage = readPercentage(d, 'percentage');
  return { fixedDelayMs, percentage };
}

function readAbort(r: FieldReader): FaultAbort | null {
  const a = r.message('abort');
  if (a === null) return null;
  const which = a.oneOf(
    ['http_status', 'grpc_status', 'header_abort'],
    'http_status, grpc_status, header_abort',
  );
  let kind: FaultAbort['kind'] = 'http';
  let httpStatus = 0;
  let grpcStatus = 0;
  if (which === 'http_status') {
    httpStatus = a.uint32('http_status', 503, 200, 599);
  } else if (which === 'grpc_status') {
    kind = 'grpc';
    grpcStatus = a.uint32('grpc_status', 0);
  } else if (which === 'header_abort') {
    kind = 'header';
    a.message('header_abort')?.done();
  } else {
    a.issue(null, 'one of http_status, grpc_status, header_abort is required');
  }
  const percentage = readPercentage(a, 'percentage');
  return { kind, httpStatus, grpcStatus, percentage };
}

export function validateHttpFault(
  raw: Record<string, unknown>,
  path: string,
  issues: ConfigIssue[],
): HttpFault {
  const r = readMessage(raw, path, issues);
  const delay = readDelay(r);
  const abort = readAbort(r);
  const headers = r
    .list('headers')
    .map((h, i) => validateHeaderMatcher(h, `${r.at('headers')}[${i}]`, r.issues));
  const upstreamCluster = r.string('upstream_cluster') ?? '';
  const maxActiveFaults = r.optionalUint32('max_active_faults');
  // Every other field (downstream_nodes, response_rate_limit, delay.exponential_delay,
  // the *_runtime overrides, disable_downstream_cluster_stats, filter_metadata) is
  // reported by path as unsupported.
  r.done();
  return { delay, abort, headers, upstreamCluster, maxActiveFaults };
}

export const FAULT_FILTER: HttpFilterFactoryConfig = {
  typeUrl: FAULT_TYPE_URL,
  defaultName: 'envoy.filters.http.fault',
  validate: validateHttpFault,
  // As in Envoy, a route's HTTPFault replaces the filter's config for that route.
  perRoute: { typeUrl: FAULT_TYPE_URL, validate: validateHttpFault },
};
