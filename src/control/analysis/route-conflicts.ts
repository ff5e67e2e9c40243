// WEFT0105: two routes with an identical match on the same parent (Service port, in the
// same namespace: producer routes with producer routes, consumer routes with consumer
// routes). Gateway API precedence cannot tell identical matches apart, so the tie-break
// decides (translate/route-precedence.ts): the oldest route (creationTimestamp), then the
// first by namespace/name. The losing match never sees a request; the finding is on the
// loser and names the winner and why it wins.
//
// "Identical" compares matches as the translator reads them: path type default PathPrefix
// and value '/', a prefix without its trailing '/', header names case-insensitively (RFC
// 9110 §5.1), header and query-param matches as unordered sets, match types defaulted.

import type { GRPCRouteMatch, HTTPRouteMatch } from '../kinds/gateway-types.js';
import type { Resource } from '../resource.js';
import type { MeshIndex } from '../translate/mesh-index.js';
import {
  compareGrpcMatches,
  compareHttpMatches,
  type GrpcMatchEntry,
  type HttpMatchEntry,
  normalizedPrefix,
} from '../translate/route-precedence.js';
import {
  type GrpcRouteResource,
  type HttpRouteResource,
  parentRefCovers,
} from '../translate/route-selection.js';
import { namespaceOf } from '../translate/snapshot.js';
import { type Finding, finding } from './catalogue.js';

type Entry = HttpMatchEntry | GrpcMatchEntry;

export function analyseRouteConflicts(index: MeshIndex): Finding[] {
  return [
    ...conflicts(
      index,
      index.snapshot.httpRoutes,
      httpEntries,
      (m) => httpMatchKey(m as HTTPRouteMatch),
      (a, b) => compareHttpMatches(a as HttpMatchEntry, b as HttpMatchEntry),
    ),
    ...conflicts(
      index,
      index.snapshot.grpcRoutes,
      grpcEntries,
      (m) => grpcMatchKey(m as GRPCRouteMatch),
      (a, b) => compareGrpcMatches(a as GrpcMatchEntry, b as GrpcMatchEntry),
    ),
  ];
}

function conflicts<R extends HttpRouteResource | GrpcRouteResource>(
  index: MeshIndex,
  routes: readonly R[],
  entriesOf: (route: R) => Entry[],
  keyOf: (match: Entry['match']) => string,
  compare: (a: Entry, b: Entry) => number,
): Finding[] {
  // (route namespace, Service, port, match) → the entries with that match.
  const groups = new Map<string, { parent: string; port: string; entries: Entry[] }>();
  for (const route of routes) {
    const routeNs = namespaceOf(route);
    const entries = entriesOf(route);
    for (const service of index.services) {
      for (const port of service.spec.ports) {
        if (port.protocol === 'TCP') continue;
        if (!(route.spec.parentRefs ?? []).some((ref) => parentRefCovers(ref, routeNs, service, port)))
          continue;
        const parent = `${namespaceOf(service)}/${service.metadata.name}`;
        for (const e of entries) {
          const key = `${routeNs}|${parent}|${port.port}|${keyOf(e.match)}`;
          let g = groups.get(key);
          if (g === undefined)
            groups.set(key, (g = { parent, port: `${port.name}:${port.port}`, entries: [] }));
          if (!g.entries.includes(e)) g.entries.push(e);
        }
      }
    }
  }
  // One finding per losing match and winner, listing every port where it loses.
  const losses = new Map<string, { loser: Entry; winner: Entry; parent: string; ports: string[] }>();
  for (const g of groups.values()) {
    const sorted = [...g.entries].sort(compare);
    const winner = sorted[0]!;
    for (const loser of sorted.slice(1)) {
      if (loser.route === winner.route) continue;
      const key = `${routeKey(loser.route)}|${loser.ruleIndex}|${loser.matchIndex}|${routeKey(winner.route)}|${g.parent}`;
      const loss = losses.get(key) ?? { loser, winner, parent: g.parent, ports: [] };
      loss.ports.push(g.port);
      losses.set(key, loss);
    }
  }
  return [...losses.values()].map(({ loser, winner, parent, ports }) =>
    finding(
      'WEFT0105',
      loser.route,
      `${matchPath(loser)} is identical to ${winner.route.kind} ${routeKey(winner.route)} ${matchPath(winner)} on Service ${parent} (port ${ports.join(', ')}); ${routeKey(winner.route)} wins (${whyFirst(winner.route, loser.route)}), so this match never gets a request`,
      { path: matchField(loser), fix: FIX },
    ),
  );
}

const FIX =
  'Make the matches differ (path, headers, method), merge the two routes, or delete the losing one.';

/** Every match of the route; a rule without matches (and a route without rules) is the catch-all `{}`. */
function httpEntries(route: HttpRouteResource): Entry[] {
  const rules = route.spec.rules ?? [];
  const out: HttpMatchEntry[] = [];
  if (rules.length === 0) out.push({ route, ruleIndex: 0, matchIndex: -1, match: {} });
  rules.forEach((rule, ruleIndex) => {
    const matches = rule.matches ?? [];
    if (matches.length === 0) out.push({ route, ruleIndex, matchIndex: -1, match: {} });
    matches.forEach((match, matchIndex) => {
      out.push({ route, ruleIndex, matchIndex, match });
    });
  });
  return out;
}

function grpcEntries(route: GrpcRouteResource): Entry[] {
  const rules = route.spec.rules ?? [];
  const out: GrpcMatchEntry[] = [];
  if (rules.length === 0) out.push({ route, ruleIndex: 0, matchIndex: -1, match: {} });
  rules.forEach((rule, ruleIndex) => {
    const matches = rule.matches ?? [];
    if (matches.length === 0) out.push({ route, ruleIndex, matchIndex: -1, match: {} });
    matches.forEach((match, matchIndex) => {
      out.push({ route, ruleIndex, matchIndex, match });
    });
  });
  return out;
}

function httpMatchKey(m: HTTPRouteMatch): string {
  const type = m.path?.type ?? 'PathPrefix';
  const raw = m.path?.value ?? '/';
  return JSON.stringify([
    type,
    type === 'PathPrefix' ? normalizedPrefix(raw) : raw,
    m.method ?? '',
    sortedPairs((m.headers ?? []).map((h) => [h.type ?? 'Exact', h.name.toLowerCase(), h.value])),
    sortedPairs((m.queryParams ?? []).map((q) => [q.type ?? 'Exact', q.name, q.value])),
  ]);
}

function grpcMatchKey(m: GRPCRouteMatch): string {
  return JSON.stringify([
    m.method?.type ?? 'Exact',
    m.method?.service ?? '',
    m.method?.method ?? '',
    sortedPairs((m.headers ?? []).map((h) => [h.type ?? 'Exact', h.name.toLowerCase(), h.value])),
  ]);
}

function sortedPairs(items: string[][]): string[] {
  return items.map((i) => JSON.stringify(i)).sort();
}

/** The field the match is at, for file:line. */
function matchField(e: Entry): string {
  if (e.matchIndex !== -1) return `spec.rules[${e.ruleIndex}].matches[${e.matchIndex}]`;
  return (e.route.spec.rules ?? []).length === 0 ? 'spec' : `spec.rules[${e.ruleIndex}]`;
}

function matchPath(e: Entry): string {
  if (e.matchIndex === -1)
    return e.route.spec.rules === undefined || e.route.spec.rules.length === 0
      ? 'spec.rules (none: the default catch-all)'
      : `spec.rules[${e.ruleIndex}] (no matches: catch-all)`;
  return `spec.rules[${e.ruleIndex}].matches[${e.matchIndex}]`;
}

function routeKey(r: Resource<unknown, unknown>): string {
  return `${namespaceOf(r)}/${r.metadata.name}`;
}

function whyFirst(winner: Resource<unknown, unknown>, loser: Resource<unknown, unknown>): string {
  const tw = Date.parse(winner.metadata.creationTimestamp ?? '');
  const tl = Date.parse(loser.metadata.creationTimestamp ?? '');
  if (!Number.isNaN(tw) && (Number.isNaN(tl) || tw < tl))
    return Number.isNaN(tl)
      ? `it exists since ${winner.metadata.creationTimestamp}; a route not yet applied counts as the newest`
      : `older: created ${winner.metadata.creationTimestamp}, the other ${loser.metadata.creationTimestamp}`;
  return Number.isNaN(tw)
    ? 'neither is applied yet, so the first by namespace/name wins; after an apply the older one will'
    : 'same creation time; the first by namespace/name wins';
}
