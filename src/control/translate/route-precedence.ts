// Ordering of Gateway API route matches into one Envoy route list (Envoy takes the first
// route that matches, so order is precedence).
//
// HTTPRoute (Gateway API v1, HTTPRouteRule.matches): across all routes that apply, a
// match wins over another by, in order: an Exact path over any other path match; the
// longest PathPrefix; a method match; the most header matches; the most query-param
// matches. Ties go to the oldest route (creationTimestamp), then the first by
// "namespace/name", then the first rule and match in list order. RegularExpression
// paths are implementation-specific in the spec; Weft ranks them after Exact and before
// PathPrefix (longer regex first), so a catch-all prefix never hides a regex.
//
// GRPCRoute (Gateway API v1, GRPCRouteRule.matches): the most characters in a matching
// service, then in a matching method, then the most header matches; the same ties.

import type { GRPCRouteMatch, HTTPRouteMatch } from '../kinds/gateway-types.js';
import { compareAge } from './mesh-index.js';
import type { GrpcRouteResource, HttpRouteResource } from './route-selection.js';

/** One match of one rule of a route, with where it came from (for tie-breaks and status). */
export interface MatchEntry<R, M> {
  readonly route: R;
  readonly ruleIndex: number;
  /** -1 when the rule has no matches (the spec's default: PathPrefix "/"). */
  readonly matchIndex: number;
  readonly match: M;
}

export type HttpMatchEntry = MatchEntry<HttpRouteResource, HTTPRouteMatch>;
export type GrpcMatchEntry = MatchEntry<GrpcRouteResource, GRPCRouteMatch>;

const PATH_RANK: Record<string, number> = { Exact: 0, RegularExpression: 1, PathPrefix: 2 };

/** A PathPrefix is compared without its trailing '/' ("/foo/" and "/foo" match the same paths). */
export function normalizedPrefix(value: string): string {
  return value.length > 1 && value.endsWith('/') ? value.replace(/\/+$/, '') || '/' : value;
}

function pathKey(m: HTTPRouteMatch): { rank: number; length: number } {
  const type = m.path?.type ?? 'PathPrefix';
  const value = m.path?.value ?? '/';
  const length = type === 'PathPrefix' ? normalizedPrefix(value).length : value.length;
  return { rank: PATH_RANK[type] ?? 3, length };
}

/** Negative when `a` takes precedence over `b`. */
export function compareHttpMatches(a: HttpMatchEntry, b: HttpMatchEntry): number {
  const pa = pathKey(a.match);
  const pb = pathKey(b.match);
  if (pa.rank !== pb.rank) return pa.rank - pb.rank;
  if (pa.length !== pb.length) return pb.length - pa.length;
  const ma = a.match.method === undefined ? 1 : 0;
  const mb = b.match.method === undefined ? 1 : 0;
  if (ma !== mb) return ma - mb;
  const ha = a.match.headers?.length ?? 0;
  const hb = b.match.headers?.length ?? 0;
  if (ha !== hb) return hb - ha;
  const qa = a.match.queryParams?.length ?? 0;
  const qb = b.match.queryParams?.length ?? 0;
  if (qa !== qb) return qb - qa;
  return tieBreak(a, b);
}

export function compareGrpcMatches(a: GrpcMatchEntry, b: GrpcMatchEntry): number {
  const sa = a.match.method?.service?.length ?? 0;
  const sb = b.match.method?.service?.length ?? 0;
  if (sa !== sb) return sb - sa;
  const ma = a.match.method?.method?.length ?? 0;
  const mb = b.match.method?.method?.length ?? 0;
  if (ma !== mb) return mb - ma;
  const ha = a.match.headers?.length ?? 0;
  const hb = b.match.headers?.length ?? 0;
  if (ha !== hb) return hb - ha;
  return tieBreak(a, b);
}

function tieBreak(
  a: { route: HttpRouteResource | GrpcRouteResource; ruleIndex: number; matchIndex: number },
  b: { route: HttpRouteResource | GrpcRouteResource; ruleIndex: number; matchIndex: number },
): number {
  const age = compareAge(a.route, b.route);
  if (age !== 0) return age;
  if (a.ruleIndex !== b.ruleIndex) return a.ruleIndex - b.ruleIndex;
  return a.matchIndex - b.matchIndex;
}

interface RouteWithRules<M> {
  readonly spec: { readonly rules?: ReadonlyArray<{ readonly matches?: readonly M[] }> };
}

/**
 * Every match of every rule of the routes, sorted by `compare`. A rule without matches (and
 * a route without rules: the spec's default rule) matches everything, as an empty match.
 */
function orderMatches<R extends RouteWithRules<M>, M extends object>(
  routes: readonly R[],
  compare: (a: MatchEntry<R, M>, b: MatchEntry<R, M>) => number,
): MatchEntry<R, M>[] {
  const out: MatchEntry<R, M>[] = [];
  const empty = {} as M;
  for (const route of routes) {
    const rules = route.spec.rules ?? [];
    if (rules.length === 0) out.push({ route, ruleIndex: 0, matchIndex: -1, match: empty });
    rules.forEach((rule, ruleIndex) => {
      const matches = rule.matches ?? [];
      if (matches.length === 0) out.push({ route, ruleIndex, matchIndex: -1, match: empty });
      matches.forEach((match, matchIndex) => {
        out.push({ route, ruleIndex, matchIndex, match });
      });
    });
  }
  return out.sort(compare);
}

/** Every match of every rule of the routes, in precedence order. */
export function orderHttpMatches(routes: readonly HttpRouteResource[]): HttpMatchEntry[] {
  return orderMatches(routes, compareHttpMatches);
}

export function orderGrpcMatches(routes: readonly GrpcRouteResource[]): GrpcMatchEntry[] {
  return orderMatches(routes, compareGrpcMatches);
}
