// Fault injection on a route, declared in `weft.dev/fault-*` annotations of an HTTPRoute
// or GRPCRoute. Gateway API has no fault filter (and Weft refuses ExtensionRef filters),
// so a route opts in with annotations; the translator turns them into the per-route
// config of Envoy's `envoy.filters.http.fault` (translate/gateway-routes.ts), which the
// proxy flags DI / FI in the access log.
//
//   weft.dev/fault-delay: 2s                  a fixed delay (Gateway API duration syntax)
//   weft.dev/fault-delay-percent: "25"        share of requests delayed (default 100)
//   weft.dev/fault-abort-status: "503"        answer this HTTP status instead of forwarding
//   weft.dev/fault-abort-grpc-status: "14"    or this gRPC status (trailers-only response)
//   weft.dev/fault-abort-percent: "10"        share of requests aborted (default 100)
//
// Percentages are decimals in [0, 100] with up to four fractional digits. The fault applies
// to every rule of the route. Validation runs when the route is applied, so a typo is an
// error naming the annotation rather than a fault that silently never fires.

import type { ObjectMeta, ResourceIssue } from '../resource.js';
import { DURATION_HINT, parseGatewayDuration } from './gateway-duration.js';

export const FAULT_ANNOTATION_PREFIX = 'weft.dev/fault-';
export const FAULT_ANNOTATIONS = {
  delay: 'weft.dev/fault-delay',
  delayPercent: 'weft.dev/fault-delay-percent',
  abortStatus: 'weft.dev/fault-abort-status',
  abortGrpcStatus: 'weft.dev/fault-abort-grpc-status',
  abortPercent: 'weft.dev/fault-abort-percent',
} as const;
const KNOWN: ReadonlySet<string> = new Set(Object.values(FAULT_ANNOTATIONS));

/** A share of requests in millionths (Envoy's FractionalPercent with denominator MILLION). */
export type PartsPerMillion = number;

export interface RouteFault {
  readonly delay: { readonly ms: number; readonly perMillion: PartsPerMillion } | null;
  readonly abort:
    | { readonly httpStatus: number; readonly perMillion: PartsPerMillion }
    | { readonly grpcStatus: number; readonly perMillion: PartsPerMillion }
    | null;
}

const PERCENT = /^(100(\.0{1,4})?|[0-9]{1,2}(\.[0-9]{1,4})?)$/;
const INTEGER = /^[0-9]{1,3}$/;

function at(name: string): string {
  return `metadata.annotations["${name}"]`;
}

/**
 * The fault a route's annotations ask for: null when it has none. Problems are pushed to
 * `issues` (path `metadata.annotations["weft.dev/fault-..."]`); with any problem the result
 * is null, so a half-understood fault is never emitted.
 */
export function readRouteFault(meta: ObjectMeta | undefined, issues: ResourceIssue[]): RouteFault | null {
  const annotations = meta?.annotations;
  // A malformed annotations map is reported by the metadata validator.
  if (typeof annotations !== 'object' || annotations === null) return null;
  const before = issues.length;
  let any = false;
  for (const name of Object.keys(annotations)) {
    if (!name.startsWith(FAULT_ANNOTATION_PREFIX)) continue;
    any = true;
    if (!KNOWN.has(name))
      issues.push({
        path: at(name),
        message: `unknown fault annotation; known: ${[...KNOWN].join(', ')}`,
      });
  }
  if (!any) return null;

  const percent = (name: string): PartsPerMillion => {
    const text = annotations[name];
    if (text === undefined) return 1_000_000;
    if (!PERCENT.test(text.trim())) {
      issues.push({ path: at(name), message: `'${text}' is not a percentage between 0 and 100` });
      return 0;
    }
    return Math.round(Number(text.trim()) * 10_000);
  };
  const status = (name: string, min: number, max: number): number => {
    const text = annotations[name]!.trim();
    const n = INTEGER.test(text) ? Number(text) : Number.NaN;
    if (!(n >= min && n <= max)) {
      issues.push({
        path: at(name),
        message: `'${annotations[name]}' is not a status code in ${min}-${max}`,
      });
      return 0;
    }
    return n;
  };

  let delay: RouteFault['delay'] = null;
  const delayText = annotations[FAULT_ANNOTATIONS.delay];
  if (delayText !== undefined) {
    const ms = parseGatewayDuration(delayText.trim());
    if (ms === null)
      issues.push({ path: at(FAULT_ANNOTATIONS.delay), message: `'${delayText}' is not ${DURATION_HINT}` });
    else if (ms === 0) issues.push({ path: at(FAULT_ANNOTATIONS.delay), message: 'must be greater than 0' });
    delay = { ms: ms ?? 0, perMillion: percent(FAULT_ANNOTATIONS.delayPercent) };
  } else if (annotations[FAULT_ANNOTATIONS.delayPercent] !== undefined) {
    issues.push({
      path: at(FAULT_ANNOTATIONS.delayPercent),
      message: `needs ${FAULT_ANNOTATIONS.delay} (the delay to inject)`,
    });
  }

  let abort: RouteFault['abort'] = null;
  const http = annotations[FAULT_ANNOTATIONS.abortStatus];
  const grpc = annotations[FAULT_ANNOTATIONS.abortGrpcStatus];
  if (http !== undefined && grpc !== undefined) {
    issues.push({
      path: at(FAULT_ANNOTATIONS.abortGrpcStatus),
      message: `give either ${FAULT_ANNOTATIONS.abortStatus} or ${FAULT_ANNOTATIONS.abortGrpcStatus}, not both`,
    });
  } else if (http !== undefined) {
    abort = {
      httpStatus: status(FAULT_ANNOTATIONS.abortStatus, 200, 599),
      perMillion: percent(FAULT_ANNOTATIONS.abortPercent),
    };
  } else if (grpc !== undefined) {
    abort = {
      grpcStatus: status(FAULT_ANNOTATIONS.abortGrpcStatus, 0, 16),
      perMillion: percent(FAULT_ANNOTATIONS.abortPercent),
    };
  } else if (annotations[FAULT_ANNOTATIONS.abortPercent] !== undefined) {
    issues.push({
      path: at(FAULT_ANNOTATIONS.abortPercent),
      message: `needs ${FAULT_ANNOTATIONS.abortStatus} or ${FAULT_ANNOTATIONS.abortGrpcStatus} (what to answer)`,
    });
  }
  if (issues.length > before) return null;
  if (delay === null && abort === null) return null;
  return { delay, abort };
}
