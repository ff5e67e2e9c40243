// Access-log filters (envoy.config.accesslog.v3.AccessLogFilter), compiled once per config
// into a predicate over the finished request's StreamInfo. A logger with a filter formats
// only the requests it passes.
// - status_code / duration: the response code / the request's whole duration in ms,
//   compared with the ComparisonFilter's value;
// - not_health_check: every request (Weft's health checks are the cluster's own, never a
//   request through the connection manager);
// - runtime: a sample of percent_sampled; like Envoy, decided from the x-request-id (so
//   every proxy on the path samples the same requests) unless use_independent_randomness;
// - header: a header matcher on the request headers;
// - response_flag: any of the listed flags is set (any flag at all when none are listed);
// - grpc_status: the response's grpc-status (trailers, then headers, else mapped from the
//   HTTP status as Envoy does), in the list — or not, with `exclude`;
// - and / or of the above.

import type { AccessLogFilter, ComparisonOp } from '../../config/model.js';
import { GrpcStatus } from '../http/grpc.js';
import { getHeader } from '../http/headers.js';
import { CompiledHeaderMatcher } from '../router/header-matcher.js';
import { RESPONSE_FLAG_CODES, type StreamInfo } from '../stream-info.js';
import { grpcStatusOf } from './operators.js';

export type AccessLogPredicate = (info: StreamInfo) => boolean;

function compare(op: ComparisonOp, actual: number, value: number): boolean {
  switch (op) {
    case 'EQ':
      return actual === value;
    case 'GE':
      return actual >= value;
    case 'LE':
      return actual <= value;
    default:
      return actual !== value;
  }
}

/**
 * The sampling value of a request in [0, denominator): the first 8 hex digits of its
 * x-request-id (Envoy's UuidUtils::uuidModBy), else `random`.
 */
function sampleOf(info: StreamInfo, denominator: number, independent: boolean, random: () => number): number {
  if (!independent) {
    const id = getHeader(info.requestHeaders, 'x-request-id');
    if (id !== undefined && /^[0-9a-fA-F]{8}/.test(id))
      return Number.parseInt(id.slice(0, 8), 16) % denominator;
  }
  return Math.floor(random() * denominator);
}

/** Compiles `filter`; `random` is uniform in [0, 1). */
export function compileAccessLogFilter(filter: AccessLogFilter, random: () => number): AccessLogPredicate {
  switch (filter.kind) {
    case 'status_code': {
      const { op, value } = filter;
      return (info) => compare(op, info.responseCode, value);
    }
    case 'duration': {
      const { op, value } = filter;
      return (info) => compare(op, Math.floor(info.endMonotonic - info.startMonotonic), value);
    }
    case 'not_health_check':
      return () => true;
    case 'runtime': {
      const { numerator, denominator } = filter.percent;
      const independent = filter.independentRandomness;
      return (info) => sampleOf(info, denominator, independent, random) < numerator;
    }
    case 'and':
    case 'or': {
      const parts = filter.filters.map((f) => compileAccessLogFilter(f, random));
      return filter.kind === 'and'
        ? (info) => parts.every((p) => p(info))
        : (info) => parts.some((p) => p(info));
    }
    case 'header': {
      const matcher = new CompiledHeaderMatcher(filter.header);
      return (info) =>
        matcher.matches({
          authority: info.authority,
          path: info.path,
          method: info.method,
          scheme: info.scheme,
          headers: info.requestHeaders,
        });
    }
    case 'response_flag': {
      let mask = 0;
      for (const [bit, code] of RESPONSE_FLAG_CODES) if (filter.flags.includes(code)) mask |= bit;
      // No flags listed: any flag. Listed flags Weft never sets leave the mask empty: never.
      if (filter.flags.length === 0) return (info) => info.responseFlags !== 0;
      return (info) => (info.responseFlags & mask) !== 0;
    }
    case 'grpc_status': {
      const { statuses, exclude } = filter;
      // No status at all (no response) counts as UNKNOWN, as in Envoy.
      return (info) => statuses.includes(grpcStatusOf(info) ?? GrpcStatus.Unknown) !== exclude;
    }
  }
}
