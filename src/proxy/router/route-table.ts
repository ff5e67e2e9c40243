// The compiled route table: built once per RouteConfiguration version, consulted per
// request to pick the virtual host and the route (Envoy's RouteMatcher / VirtualHostImpl).
//
// select(): virtual host by authority (see virtual-host-index.ts), then the host's routes
// in config order, first match wins (Envoy: "routes are matched in order"). CONNECT
// requests are matched against the host's `connect_matcher` routes only, and those routes
// never match other requests (Envoy's RouteMatch.ConnectMatcher). No route →
// null, which the connection manager answers with 404 and response flag NR.
// Everything a request needs is prepared here (matchers, regexes, header mutation plans,
// weighted-cluster tables), so the request path only compares and looks up.

import type {
  DirectResponseAction,
  RedirectAction,
  Route,
  RouteAction,
  RouteConfiguration,
  VirtualHost,
} from '../../config/model.js';
import { getHeader } from '../http/headers.js';
import type { StreamInfo } from '../stream-info.js';
import {
  type CompileHeaderValue,
  compileHeaderMutations,
  EMPTY_HEADER_MUTATION_PLAN,
  type HeaderMutationPlan,
} from './header-mutations.js';
import { mergePerFilterConfigs, type PerFilterConfigs } from './per-filter-config.js';
import { CompiledRetryPolicy } from './retry-policy.js';
import { CompiledRouteMatch } from './route-match.js';
import type { RouteRequest } from './route-request.js';
import { VirtualHostIndex } from './virtual-host-index.js';
import { type ClusterPick, ClusterPicker } from './weighted-clusters.js';

export type { CompiledHeaderValueOption, HeaderMutationPlan } from './header-mutations.js';
// The router's public surface lives here, so users import one module.
export { applyHeaderMutations, EMPTY_HEADER_MUTATION_PLAN } from './header-mutations.js';
export { rewritePath } from './path-rewrite.js';
export type { PerFilterConfigs } from './per-filter-config.js';
export { buildRedirectLocation } from './redirect.js';
export type { CompiledRetryPolicy } from './retry-policy.js';
export type { RouteRequest } from './route-request.js';
export type { ClusterPick } from './weighted-clusters.js';

export interface CompiledRoute {
  readonly name: string;
  readonly action: RouteAction | RedirectAction | DirectResponseAction;
  readonly virtualHostName: string;
  /**
   * For `prefix` routes the configured prefix; null for `path` and `safe_regex` routes,
   * where the whole path part is what matched. Feed it to buildRedirectLocation.
   */
  readonly matchedPrefix: string | null;
  /**
   * Mutations in Envoy's default order: route, then virtual host, then route configuration
   * (most specific first, so a less specific OVERWRITE wins). Apply a weighted cluster's
   * own plan (from pickCluster) before this one.
   */
  readonly requestHeaderMutations: HeaderMutationPlan;
  readonly responseHeaderMutations: HeaderMutationPlan;
  /** The route's `retry_policy`, else its virtual host's; null = no retries (the common case). */
  readonly retryPolicy: CompiledRetryPolicy | null;
  /** `per_request_buffer_limit_bytes` of the route, else of its virtual host; null = not set. */
  readonly perRequestBufferLimitBytes: number | null;
  /**
   * `typed_per_filter_config` of the route over its virtual host's; null = none. A weighted
   * cluster pick carries its own merge (ClusterPick.perFilterConfig) that beats this one.
   */
  readonly perFilterConfig: PerFilterConfigs | null;
  /** `regex_rewrite`, compiled (global, JS substitution syntax); null = none. */
  readonly regexRewrite: CompiledRegexRewrite | null;
  /** The virtual host's include_request_attempt_count. */
  readonly includeRequestAttemptCount: boolean;
  /** The virtual host's include_attempt_count_in_response. */
  readonly includeAttemptCountInResponse: boolean;
}

export interface CompiledRegexRewrite {
  readonly re: RegExp;
  readonly substitution: string;
}

/** RE2's `\N` group references become JS `$N`; a literal `$` is escaped as `$$`. */
export function compileRegexRewrite(rewrite: { regex: string; substitution: string }): CompiledRegexRewrite {
  const substitution = rewrite.substitution.replace(/\$/g, '$$$$').replace(/\\(\d)/g, '$$$1');
  return { re: new RegExp(rewrite.regex, 'g'), substitution };
}

export interface RouteTable {
  readonly name: string;
  /** `internal_only_headers`: removed from every request that is not internal. */
  readonly internalOnlyHeaders: readonly string[];
  /** The route for this request, or null (→ 404, response flag NR). */
  select(req: RouteRequest): CompiledRoute | null;
  /**
   * The upstream cluster for a `route` action (weighted clusters picked with the injected
   * random()). Throws when `route` is a redirect or direct response, or from another table.
   */
  pickCluster(route: CompiledRoute): ClusterPick;
}

export interface RouteTableDeps {
  /** Uniform in [0, 1), like Math.random. */
  random(): number;
  /** Compiles a header value with `%OPERATOR%` substitutions into a formatter. */
  compileHeaderValue(value: string): (info: StreamInfo) => string;
}

/** A virtual host's retry settings, compiled once and shared by its routes. */
interface VirtualHostRetry {
  readonly retryPolicy: CompiledRetryPolicy | null;
  readonly perRequestBufferLimitBytes: number | null;
  readonly perFilterConfig: PerFilterConfigs | null;
  readonly includeRequestAttemptCount: boolean;
  readonly includeAttemptCountInResponse: boolean;
}

class RouteEntry implements CompiledRoute {
  readonly name: string;
  readonly action: RouteAction | RedirectAction | DirectResponseAction;
  readonly matchedPrefix: string | null;
  readonly requestHeaderMutations: HeaderMutationPlan;
  readonly responseHeaderMutations: HeaderMutationPlan;
  readonly retryPolicy: CompiledRetryPolicy | null;
  readonly perRequestBufferLimitBytes: number | null;
  readonly perFilterConfig: PerFilterConfigs | null;
  readonly regexRewrite: CompiledRegexRewrite | null;
  readonly includeRequestAttemptCount: boolean;
  readonly includeAttemptCountInResponse: boolean;
  /** Internal: the compiled match. */
  readonly match: CompiledRouteMatch;
  /** Internal: null unless the action is `route`. */
  readonly picker: ClusterPicker | null;

  constructor(
    route: Route,
    readonly virtualHostName: string,
    vhRequest: HeaderMutationPlan | null,
    vhResponse: HeaderMutationPlan | null,
    vh: VirtualHostRetry,
    deps: RouteTableDeps,
    compileHeaderValue: CompileHeaderValue,
  ) {
    this.name = route.name;
    this.action = route.action;
    this.includeRequestAttemptCount = vh.includeRequestAttemptCount;
    this.includeAttemptCountInResponse = vh.includeAttemptCountInResponse;
    // Envoy: a route's retry_policy replaces the virtual host's as a whole (no merging).
    const own = route.action.kind === 'route' ? (route.action.retryPolicy ?? null) : null;
    this.retryPolicy = own !== null ? new CompiledRetryPolicy(own) : vh.retryPolicy;
    this.perRequestBufferLimitBytes = route.perRequestBufferLimitBytes ?? vh.perRequestBufferLimitBytes;
    this.perFilterConfig = mergePerFilterConfigs(vh.perFilterConfig, route.typedPerFilterConfig);
    const rewrite = route.action.kind === 'route' ? route.action.regexRewrite : undefined;
    this.regexRewrite = rewrite === undefined ? null : compileRegexRewrite(rewrite);
    this.match = new CompiledRouteMatch(route.match);
    this.matchedPrefix = this.match.matchedPrefix;
    const m = compileHeaderMutations(route, vhRequest, vhResponse, compileHeaderValue);
    this.requestHeaderMutations = m.request ?? EMPTY_HEADER_MUTATION_PLAN;
    this.responseHeaderMutations = m.response ?? EMPTY_HEADER_MUTATION_PLAN;
    this.picker =
      route.action.kind === 'route'
        ? new ClusterPicker(route.action.cluster, deps.random, compileHeaderValue, this.perFilterConfig)
        : null;
  }
}

class VirtualHostEntry {
  /** The routes for every method but CONNECT. */
  readonly routes: readonly RouteEntry[];
  /** The `connect_matcher` routes, for CONNECT requests. */
  readonly connectRoutes: readonly RouteEntry[];
  /** Some route matches on a regex, so select() must materialize the path part. */
  readonly needsPathOnly: boolean;
  private readonly requireTls: 'EXTERNAL_ONLY' | 'ALL' | null;
  private readonly tlsRedirect: RouteEntry | null;

  constructor(
    vh: VirtualHost,
    configRequest: HeaderMutationPlan | null,
    configResponse: HeaderMutationPlan | null,
    deps: RouteTableDeps,
    compileHeaderValue: CompileHeaderValue,
  ) {
    // The virtual host level is compiled once and shared by all its routes' chains.
    const m = compileHeaderMutations(vh, configRequest, configResponse, compileHeaderValue);
    const retry: VirtualHostRetry = {
      retryPolicy: vh.retryPolicy == null ? null : new CompiledRetryPolicy(vh.retryPolicy),
      perRequestBufferLimitBytes: vh.perRequestBufferLimitBytes ?? null,
      perFilterConfig: mergePerFilterConfigs(null, vh.typedPerFilterConfig),
      includeRequestAttemptCount: vh.includeRequestAttemptCount === true,
      includeAttemptCountInResponse: vh.includeAttemptCountInResponse === true,
    };
    const all = vh.routes.map(
      (r) => new RouteEntry(r, vh.name, m.request, m.response, retry, deps, compileHeaderValue),
    );
    this.routes = all.filter((r) => !r.match.connect);
    this.connectRoutes = all.filter((r) => r.match.connect);
    this.needsPathOnly = this.routes.some((r) => r.match.needsPathOnly);
    this.requireTls = vh.requireTls ?? null;
    this.tlsRedirect =
      vh.requireTls === undefined
        ? null
        : new RouteEntry(
            tlsRedirectRoute(vh.name),
            vh.name,
            m.request,
            m.response,
            retry,
            deps,
            compileHeaderValue,
          );
  }

  /**
   * Envoy's `require_tls`: the https redirect for a request that did not come over TLS
   * (x-forwarded-proto, which the connection manager set from the connection or kept from
   * a trusted hop, is not `https`); with EXTERNAL_ONLY, internal requests
   * (`x-envoy-internal: true`) are let through. Null: the request may go on.
   */
  tlsRedirectFor(req: RouteRequest): RouteEntry | null {
    const requirement = this.requireTls;
    if (requirement === null) return null;
    const proto = getHeader(req.headers, 'x-forwarded-proto') ?? req.scheme;
    if (proto === 'https') return null;
    if (requirement === 'EXTERNAL_ONLY' && getHeader(req.headers, 'x-envoy-internal') === 'true') return null;
    return this.tlsRedirect;
  }
}

/** The route a require_tls redirect answers with: 301 to the same host and path over https. */
function tlsRedirectRoute(vhostName: string): Route {
  return {
    name: `${vhostName}.require_tls`,
    requestHeadersToAdd: [],
    requestHeadersToRemove: [],
    responseHeadersToAdd: [],
    responseHeadersToRemove: [],
    match: { path: { kind: 'prefix', value: '/' }, caseSensitive: true, headers: [], queryParameters: [] },
    action: {
      kind: 'redirect',
      schemeRedirect: 'https',
      hostRedirect: null,
      portRedirect: null,
      pathRedirect: null,
      prefixRewrite: null,
      responseCode: 301,
      stripQuery: false,
    },
  };
}

class CompiledRouteTable implements RouteTable {
  private readonly hosts: VirtualHostIndex<VirtualHostEntry>;

  constructor(
    readonly name: string,
    hosts: VirtualHostIndex<VirtualHostEntry>,
    readonly internalOnlyHeaders: readonly string[],
  ) {
    this.hosts = hosts;
  }

  select(req: RouteRequest): CompiledRoute | null {
    const vh = this.hosts.find(req.authority);
    if (vh === null) return null;
    const tls = vh.tlsRedirectFor(req);
    if (tls !== null) return tls;
    const path = req.path;
    const q = path.indexOf('?');
    const h = path.indexOf('#');
    let pathEnd = path.length;
    let queryStart = 0;
    let queryEnd = 0;
    if (q >= 0 && (h < 0 || q < h)) {
      pathEnd = q;
      queryStart = q + 1;
      queryEnd = h < 0 ? path.length : h;
    } else if (h >= 0) {
      pathEnd = h;
    }
    const pathOnly = vh.needsPathOnly && pathEnd !== path.length ? path.slice(0, pathEnd) : path;
    const routes = req.method === 'CONNECT' ? vh.connectRoutes : vh.routes;
    for (let i = 0; i < routes.length; i++) {
      if (routes[i].match.matches(req, pathEnd, pathOnly, queryStart, queryEnd)) return routes[i];
    }
    return null;
  }

  pickCluster(route: CompiledRoute): ClusterPick {
    const picker = route instanceof RouteEntry ? route.picker : null;
    if (picker === null) {
      throw new TypeError(
        `route "${route.name}" has no upstream cluster (action ${route.action.kind}, or not from table "${this.name}")`,
      );
    }
    return picker.pick();
  }
}

/** Compiles `config` into a RouteTable. `config` is trusted: it passed validation. */
export function compileRouteTable(config: RouteConfiguration, deps: RouteTableDeps): RouteTable {
  const compileHeaderValue: CompileHeaderValue = (v) => deps.compileHeaderValue(v);
  const top = compileHeaderMutations(config, null, null, compileHeaderValue);
  const entries = config.virtualHosts.map((vh) => ({
    domains: vh.domains,
    value: new VirtualHostEntry(vh, top.request, top.response, deps, compileHeaderValue),
  }));
  return new CompiledRouteTable(config.name, new VirtualHostIndex(entries), config.internalOnlyHeaders ?? []);
}
