// Test helpers: RouteConfiguration objects with defaults, requests, deterministic random.
// Used only by the *.test.ts files next to it (the config validator is separate).

import type {
  ClusterWeight,
  DirectResponseAction,
  HeaderMatcher,
  HeaderMutations,
  HeaderValueOption,
  QueryParameterMatcher,
  RedirectAction,
  Route,
  RouteAction,
  RouteConfiguration,
  RouteMatch,
  VirtualHost,
} from '../../config/model.js';
import { seededRandom } from '../../core/seeded-random.js';
import type { HeaderList } from '../http/headers.js';
import type { StreamInfo } from '../stream-info.js';
import type { RouteRequest, RouteTableDeps } from './route-table.js';

export const NO_MUTATIONS: HeaderMutations = {
  requestHeadersToAdd: [],
  requestHeadersToRemove: [],
  responseHeadersToAdd: [],
  responseHeadersToRemove: [],
};

export function routeConfig(
  virtualHosts: VirtualHost[],
  extra: Partial<RouteConfiguration> = {},
): RouteConfiguration {
  return { name: 'rc', virtualHosts, ...NO_MUTATIONS, ...extra };
}

export function vhost(
  name: string,
  domains: string[],
  routes: Route[] = [route()],
  extra: Partial<VirtualHost> = {},
): VirtualHost {
  return { name, domains, routes, ...NO_MUTATIONS, ...extra };
}

export function match(
  path: RouteMatch['path'] = { kind: 'prefix', value: '/' },
  extra: Partial<RouteMatch> = {},
): RouteMatch {
  return { path, caseSensitive: true, headers: [], queryParameters: [], ...extra };
}

export function route(
  m: RouteMatch = match(),
  action: Route['action'] = cluster('backend'),
  extra: Partial<Route> = {},
): Route {
  return { name: '', match: m, action, ...NO_MUTATIONS, ...extra };
}

export function cluster(name: string, extra: Partial<RouteAction> = {}): RouteAction {
  return {
    kind: 'route',
    cluster: { kind: 'cluster', name },
    timeoutMs: 15000,
    prefixRewrite: null,
    hostRewriteLiteral: null,
    ...extra,
  };
}

export function weighted(clusters: ClusterWeight[]): RouteAction {
  const totalWeight = clusters.reduce((s, c) => s + c.weight, 0);
  return { ...cluster(''), cluster: { kind: 'weighted', clusters, totalWeight } };
}

export function clusterWeight(
  name: string,
  weight: number,
  extra: Partial<HeaderMutations> = {},
): ClusterWeight {
  return { name, weight, ...NO_MUTATIONS, ...extra };
}

export function redirect(extra: Partial<RedirectAction> = {}): RedirectAction {
  return {
    kind: 'redirect',
    schemeRedirect: null,
    hostRedirect: null,
    portRedirect: null,
    pathRedirect: null,
    prefixRewrite: null,
    responseCode: 301,
    stripQuery: false,
    ...extra,
  };
}

export function direct(status = 200): DirectResponseAction {
  return { kind: 'direct_response', status, body: null };
}

export function header(
  name: string,
  m: HeaderMatcher['match'],
  extra: Partial<HeaderMatcher> = {},
): HeaderMatcher {
  return { name, invertMatch: false, treatMissingHeaderAsEmpty: false, match: m, ...extra };
}

export function query(name: string, m: QueryParameterMatcher['match']): QueryParameterMatcher {
  return { name, match: m };
}

export function hv(
  key: string,
  value: string,
  appendAction: HeaderValueOption['appendAction'] = 'APPEND_IF_EXISTS_OR_ADD',
  keepEmptyValue = false,
): HeaderValueOption {
  return { key, value, appendAction, keepEmptyValue };
}

export function req(
  authority: string,
  path = '/',
  headers: HeaderList = [],
  extra: Partial<RouteRequest> = {},
): RouteRequest {
  return { authority, path, method: 'GET', scheme: 'http', headers, ...extra };
}

export { seededRandom };

/**
 * Test header-value compiler: "%ROUTE_NAME%" reads StreamInfo.routeName, "%REQ(name)%"
 * reads a request header (or ''), anything else is a literal.
 */
export function testCompileHeaderValue(value: string): (info: StreamInfo) => string {
  if (value === '%ROUTE_NAME%') return (info) => info.routeName;
  const m = /^%REQ\(([^)]+)\)%$/.exec(value);
  if (m) {
    const name = m[1].toLowerCase();
    return (info) => {
      const h = info.requestHeaders;
      for (let i = 0; i < h.length; i += 2) if (h[i] === name) return h[i + 1];
      return '';
    };
  }
  return () => value;
}

export function deps(random: () => number = seededRandom(1)): RouteTableDeps {
  return { random, compileHeaderValue: testCompileHeaderValue };
}
