// HTTPRoute and GRPCRoute matches (already in precedence order) to Envoy
// envoy.config.route.v3.Route entries: matches, filters (header modifiers, redirect, URL
// rewrite, mirror), weighted backends, timeouts and retries. See docs/translation.md for
// the field-by-field table.

import { type RouteFault, readRouteFault } from '../kinds/fault-annotations.js';
import { parseGatewayDuration, toEnvoyDuration } from '../kinds/gateway-duration.js';
import type {
  GRPCRouteFilter,
  GRPCRouteMatch,
  HTTPBackendRef,
  HTTPHeaderFilter,
  HTTPHeaderMatch,
  HTTPPathModifier,
  HTTPRequestMirrorFilter,
  HTTPRouteFilter,
  HTTPRouteMatch,
  HTTPRouteRule,
} from '../kinds/gateway-types.js';
import type { ServicePortProtocol } from '../kinds/mesh-types.js';
import { clusterSpecifier, resolveBackendRef, type WeightedTarget } from './backends.js';
import { FAULT_FILTER_NAME, FAULT_TYPE } from './listeners.js';
import type { MeshIndex, Service } from './mesh-index.js';
import { type GrpcMatchEntry, type HttpMatchEntry, normalizedPrefix } from './route-precedence.js';
import { namespaceOf } from './snapshot.js';
import type { EnvoyJson } from './xds-resources.js';

export interface RouteContext {
  readonly index: MeshIndex;
  /** The Service the routes are attached to (the one the client addressed). */
  readonly parent: Service;
  readonly usedClusters: Set<string>;
  /** Adds `hash_policy` for a single-cluster action (from the DestinationPolicy). */
  readonly hashPolicyFor: (cluster: string) => EnvoyJson[] | undefined;
  /** The protocol of the parent Service port the routes serve (GRPC adds gRPC retry conditions). */
  readonly parentProtocol?: ServicePortProtocol;
}

const REDIRECT_CODE: Record<number, string> = {
  301: 'MOVED_PERMANENTLY',
  302: 'FOUND',
  303: 'SEE_OTHER',
  307: 'TEMPORARY_REDIRECT',
  308: 'PERMANENT_REDIRECT',
};

/** A PathPrefix match in Gateway API matches whole path segments: "/foo" matches "/foo" and
 * "/foo/bar" but not "/foobar". Envoy's plain `prefix` does not, so one PathPrefix becomes
 * two Envoy matches: `path: /foo` and `prefix: /foo/` (the "/" prefix stays one). */
interface PathForm {
  readonly match: EnvoyJson;
  /** For ReplacePrefixMatch: what the matched part is replaced with, per form. */
  readonly rewrite: (replacement: string) => string;
}

function pathForms(match: HTTPRouteMatch): PathForm[] {
  const type = match.path?.type ?? 'PathPrefix';
  const value = match.path?.value ?? '/';
  if (type === 'Exact') return [{ match: { path: value }, rewrite: (r) => r }];
  if (type === 'RegularExpression') return [{ match: { safe_regex: { regex: value } }, rewrite: (r) => r }];
  const prefix = normalizedPrefix(value);
  const withSlash = (r: string) => (normalizedPrefix(r) === '/' ? '/' : `${normalizedPrefix(r)}/`);
  if (prefix === '/') return [{ match: { prefix: '/' }, rewrite: withSlash }];
  return [
    { match: { path: prefix }, rewrite: (r) => normalizedPrefix(r) },
    { match: { prefix: `${prefix}/` }, rewrite: withSlash },
  ];
}

function headerMatchers(headers: readonly HTTPHeaderMatch[] | undefined): EnvoyJson[] {
  return (headers ?? []).map((h) => ({
    name: h.name.toLowerCase(),
    string_match: (h.type ?? 'Exact') === 'Exact' ? { exact: h.value } : { safe_regex: { regex: h.value } },
  }));
}

function httpMatch(match: HTTPRouteMatch, form: PathForm): EnvoyJson {
  const headers = headerMatchers(match.headers);
  if (match.method !== undefined) headers.push({ name: ':method', string_match: { exact: match.method } });
  const out: EnvoyJson = { ...form.match };
  if (headers.length > 0) out.headers = headers;
  const query = (match.queryParams ?? []).map((q) => ({
    name: q.name,
    string_match: (q.type ?? 'Exact') === 'Exact' ? { exact: q.value } : { safe_regex: { regex: q.value } },
  }));
  if (query.length > 0) out.query_parameters = query;
  return out;
}

/** RequestHeaderModifier / ResponseHeaderModifier onto the four Envoy mutation lists. */
export function headerMutations(request?: HTTPHeaderFilter, response?: HTTPHeaderFilter): EnvoyJson {
  const out: EnvoyJson = {};
  const write = (f: HTTPHeaderFilter | undefined, dir: 'request' | 'response') => {
    if (f === undefined) return;
    const add = [
      ...(f.set ?? []).map((h) => ({
        header: { key: h.name.toLowerCase(), value: h.value },
        append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
      })),
      ...(f.add ?? []).map((h) => ({
        header: { key: h.name.toLowerCase(), value: h.value },
        append_action: 'APPEND_IF_EXISTS_OR_ADD',
      })),
    ];
    if (add.length > 0) out[`${dir}_headers_to_add`] = add;
    if ((f.remove ?? []).length > 0) out[`${dir}_headers_to_remove`] = f.remove!.map((n) => n.toLowerCase());
  };
  write(request, 'request');
  write(response, 'response');
  return out;
}

function filterOf<T extends { type: string }>(
  filters: readonly T[] | undefined,
  type: string,
): T | undefined {
  return filters?.find((f) => f.type === type);
}

function mirrorPolicies(
  ctx: RouteContext,
  filters: readonly (HTTPRouteFilter | GRPCRouteFilter)[] | undefined,
  routeNs: string,
): EnvoyJson[] {
  const out: EnvoyJson[] = [];
  for (const f of filters ?? []) {
    if (f.type !== 'RequestMirror' || f.requestMirror === undefined) continue;
    const m: HTTPRequestMirrorFilter = f.requestMirror;
    const resolved = resolveBackendRef(ctx.index, m.backendRef, routeNs, namespaceOf(ctx.parent));
    // An unresolvable mirror is dropped: mirroring never changes the primary response.
    if (!resolved.ok) continue;
    const spec = clusterSpecifier(ctx.index, [{ resolved, weight: 1 }], ctx.usedClusters);
    const cluster = spec?.cluster;
    if (typeof cluster !== 'string') continue;
    const policy: EnvoyJson = { cluster };
    if (m.percent !== undefined) {
      policy.runtime_fraction = { default_value: { numerator: m.percent, denominator: 'HUNDRED' } };
    } else if (m.fraction !== undefined) {
      const denominator = m.fraction.denominator ?? 100;
      policy.runtime_fraction = {
        default_value: {
          numerator: Math.round((m.fraction.numerator / denominator) * 1_000_000),
          denominator: 'MILLION',
        },
      };
    }
    out.push(policy);
  }
  return out;
}

function backendTargets(
  ctx: RouteContext,
  refs: readonly HTTPBackendRef[] | undefined,
  routeNs: string,
): WeightedTarget[] {
  return (refs ?? []).map((ref) => {
    const mutations = headerMutations(
      filterOf(ref.filters, 'RequestHeaderModifier')?.requestHeaderModifier,
      filterOf(ref.filters, 'ResponseHeaderModifier')?.responseHeaderModifier,
    );
    return {
      resolved: resolveBackendRef(ctx.index, ref, routeNs, namespaceOf(ctx.parent)),
      weight: ref.weight ?? 1,
      mutations: Object.keys(mutations).length > 0 ? mutations : undefined,
    };
  });
}

/** The Gateway API 500 for a rule that cannot forward (no valid backend, or all weights 0). */
function noBackend(): EnvoyJson {
  return { direct_response: { status: 500 } };
}

function ms(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  return parseGatewayDuration(text) ?? undefined;
}

/**
 * Timeouts and retries (Gateway API HTTPRouteTimeouts, HTTPRouteRetry). Without retries
 * one backend attempt is the whole request, so `backendRequest` bounds it directly;
 * with retries it becomes Envoy's per-try timeout. No timeout at all is "0s" (disabled),
 * not Envoy's 15 s default: a mesh should not cut long requests the app never limited.
 */
function timeoutAndRetry(rule: HTTPRouteRule, grpc: boolean): EnvoyJson {
  const request = ms(rule.timeouts?.request);
  const backend = ms(rule.timeouts?.backendRequest);
  const attempts = rule.retry === undefined ? 0 : (rule.retry.attempts ?? 1);
  const out: EnvoyJson = {};
  if (attempts === 0) {
    const effective = backend !== undefined && backend > 0 ? backend : request;
    out.timeout = toEnvoyDuration(effective ?? 0);
    return out;
  }
  const retry = rule.retry!;
  out.timeout = toEnvoyDuration(request ?? 0);
  const codes = retry.codes ?? [];
  const on = ['connect-failure', 'refused-stream'];
  if (codes.length > 0) on.push('retriable-status-codes');
  // A gRPC failure is HTTP 200 with grpc-status in the trailers, which no status code
  // matches: on a GRPC port, UNAVAILABLE (the status of an overloaded or restarting
  // server, safe to retry by gRPC's own rules) is retried too.
  if (grpc) on.push('unavailable');
  const policy: EnvoyJson = { retry_on: on.join(','), num_retries: attempts };
  if (codes.length > 0) policy.retriable_status_codes = codes;
  if (backend !== undefined && backend > 0) policy.per_try_timeout = toEnvoyDuration(backend);
  const backoff = ms(retry.backoff);
  if (backoff !== undefined && backoff > 0)
    policy.retry_back_off = { base_interval: toEnvoyDuration(backoff) };
  out.retry_policy = policy;
  return out;
}

function pathModifier(p: HTTPPathModifier | undefined, form: PathForm): EnvoyJson {
  if (p === undefined) return {};
  if (p.type === 'ReplaceFullPath') return { full: p.replaceFullPath ?? '/' };
  return { prefix: form.rewrite(p.replacePrefixMatch ?? '/') };
}

function perMillion(n: number): EnvoyJson {
  return { numerator: n, denominator: 'MILLION' };
}

/** The per-route config of the fault filter for a route's `weft.dev/fault-*` annotations (kinds/fault-annotations.ts). */
export function faultPerFilterConfig(fault: RouteFault): EnvoyJson {
  const config: EnvoyJson = { '@type': FAULT_TYPE };
  if (fault.delay !== null)
    config.delay = {
      fixed_delay: toEnvoyDuration(fault.delay.ms),
      percentage: perMillion(fault.delay.perMillion),
    };
  const a = fault.abort;
  if (a !== null) {
    config.abort =
      'httpStatus' in a
        ? { http_status: a.httpStatus, percentage: perMillion(a.perMillion) }
        : { grpc_status: a.grpcStatus, percentage: perMillion(a.perMillion) };
  }
  return { [FAULT_FILTER_NAME]: config };
}

/** Adds the route resource's fault (if it declares one) to an Envoy route. Invalid annotations never reach here: apply refuses them. */
function addFault(route: EnvoyJson, meta: HttpMatchEntry['route']['metadata']): void {
  const fault = readRouteFault(meta, []);
  if (fault !== null) route.typed_per_filter_config = faultPerFilterConfig(fault);
}

/** Envoy routes for HTTPRoute matches in precedence order. */
export function httpRoutes(ctx: RouteContext, entries: readonly HttpMatchEntry[]): EnvoyJson[] {
  const out: EnvoyJson[] = [];
  for (const e of entries) {
    const rule: HTTPRouteRule = e.route.spec.rules?.[e.ruleIndex] ?? {};
    const routeNs = namespaceOf(e.route);
    const filters = rule.filters;
    const mutations = headerMutations(
      filterOf(filters, 'RequestHeaderModifier')?.requestHeaderModifier,
      filterOf(filters, 'ResponseHeaderModifier')?.responseHeaderModifier,
    );
    const redirect = filterOf(filters, 'RequestRedirect')?.requestRedirect;
    const rewrite = filterOf(filters, 'URLRewrite')?.urlRewrite;
    const forms = pathForms(e.match);
    for (let f = 0; f < forms.length; f++) {
      const form = forms[f];
      const name = `${routeNs}/${e.route.metadata.name}/rules[${e.ruleIndex}]/matches[${Math.max(e.matchIndex, 0)}]${forms.length > 1 ? `#${f}` : ''}`;
      const route: EnvoyJson = { name, match: httpMatch(e.match, form) };
      if (redirect !== undefined) {
        const r: EnvoyJson = {};
        if (redirect.scheme !== undefined) r.scheme_redirect = redirect.scheme;
        if (redirect.hostname !== undefined) r.host_redirect = redirect.hostname;
        if (redirect.port !== undefined) r.port_redirect = redirect.port;
        const path = pathModifier(redirect.path, form);
        if (path.full !== undefined) r.path_redirect = path.full;
        if (path.prefix !== undefined) r.prefix_rewrite = path.prefix;
        r.response_code = REDIRECT_CODE[redirect.statusCode ?? 302];
        route.redirect = r;
      } else {
        const spec = clusterSpecifier(
          ctx.index,
          backendTargets(ctx, rule.backendRefs, routeNs),
          ctx.usedClusters,
        );
        if (spec === null) Object.assign(route, noBackend());
        else {
          const action: EnvoyJson = { ...spec, ...timeoutAndRetry(rule, ctx.parentProtocol === 'GRPC') };
          if (rewrite !== undefined) {
            const path = pathModifier(rewrite.path, form);
            // ReplaceFullPath: Envoy's documented idiom for replacing the whole path.
            if (path.full !== undefined)
              action.regex_rewrite = { pattern: { regex: '^/.*$' }, substitution: path.full };
            if (path.prefix !== undefined) action.prefix_rewrite = path.prefix;
            if (rewrite.hostname !== undefined) action.host_rewrite_literal = rewrite.hostname;
          }
          addMirrorsAndHash(ctx, action, filters, routeNs);
          route.route = action;
        }
      }
      Object.assign(route, mutations);
      addFault(route, e.route.metadata);
      out.push(route);
    }
  }
  return out;
}

function addMirrorsAndHash(
  ctx: RouteContext,
  action: EnvoyJson,
  filters: readonly (HTTPRouteFilter | GRPCRouteFilter)[] | undefined,
  routeNs: string,
): void {
  const mirrors = mirrorPolicies(ctx, filters, routeNs);
  if (mirrors.length > 0) action.request_mirror_policies = mirrors;
  if (typeof action.cluster === 'string') {
    const hash = ctx.hashPolicyFor(action.cluster);
    if (hash !== undefined) action.hash_policy = hash;
  }
}

/** gRPC's `/service/method` path as an Envoy match (Gateway API GRPCMethodMatch). */
function grpcPathMatch(match: GRPCRouteMatch): EnvoyJson {
  const m = match.method;
  if (m === undefined) return { prefix: '/' };
  if ((m.type ?? 'Exact') === 'Exact') {
    if (m.service !== undefined && m.method !== undefined) return { path: `/${m.service}/${m.method}` };
    if (m.service !== undefined) return { prefix: `/${m.service}/` };
    return { safe_regex: { regex: `/[^/]+/${m.method}` } };
  }
  return { safe_regex: { regex: `/${m.service ?? '[^/]+'}/${m.method ?? '[^/]+'}` } };
}

/** Envoy routes for GRPCRoute matches in precedence order. */
export function grpcRoutes(ctx: RouteContext, entries: readonly GrpcMatchEntry[]): EnvoyJson[] {
  return entries.map((e) => {
    const rule = e.route.spec.rules?.[e.ruleIndex] ?? {};
    const routeNs = namespaceOf(e.route);
    const match: EnvoyJson = grpcPathMatch(e.match);
    const headers = headerMatchers(e.match.headers);
    if (headers.length > 0) match.headers = headers;
    const name = `${routeNs}/${e.route.metadata.name}/rules[${e.ruleIndex}]/matches[${Math.max(e.matchIndex, 0)}]`;
    const route: EnvoyJson = { name, match };
    const spec = clusterSpecifier(
      ctx.index,
      backendTargets(ctx, rule.backendRefs, routeNs),
      ctx.usedClusters,
    );
    if (spec === null) Object.assign(route, noBackend());
    else {
      // gRPC streams may be long-lived; no route timeout unless a deadline is set by the client.
      const action: EnvoyJson = { ...spec, timeout: '0s' };
      addMirrorsAndHash(ctx, action, rule.filters, routeNs);
      route.route = action;
    }
    Object.assign(
      route,
      headerMutations(
        filterOf(rule.filters, 'RequestHeaderModifier')?.requestHeaderModifier,
        filterOf(rule.filters, 'ResponseHeaderModifier')?.responseHeaderModifier,
      ),
    );
    addFault(route, e.route.metadata);
    return route;
  });
}
