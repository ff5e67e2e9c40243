// Validation of one `envoy.config.route.v3.Route`: its match, its action (route, redirect
// or direct_response) and its header mutations.

import type { ConfigIssue } from '../core/errors.js';
import { type EnumSpec, type FieldReader, readMessage } from './fields.js';
import type {
  ClusterWeight,
  DirectResponseAction,
  MaxStreamDuration,
  RedirectAction,
  Route,
  RouteAction,
  RouteMatch,
} from './model.js';
import { readHashPolicies } from './validate-hash-policy.js';
import { readHeaderMutations } from './validate-headers.js';
import {
  readRegexMatcher,
  validateHeaderMatcher,
  validateQueryParameterMatcher,
} from './validate-matchers.js';
import { readTypedPerFilterConfig } from './validate-per-filter-config.js';
import { readRequestMirrorPolicies } from './validate-request-mirror.js';
import { readPerRequestBufferLimit, readRetryPolicy } from './validate-retry-policy.js';
import { readRouteUpgradeConfigs } from './validate-upgrade-configs.js';
import type { ClusterRef, ValidationContext } from './validation-context.js';

/** Envoy's default route timeout (RouteAction.timeout). */
const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;

type RedirectCode = RedirectAction['responseCode'];
const REDIRECT_CODES: readonly RedirectCode[] = [301, 302, 303, 307, 308];
const REDIRECT_CODE: EnumSpec<
  'MOVED_PERMANENTLY' | 'FOUND' | 'SEE_OTHER' | 'TEMPORARY_REDIRECT' | 'PERMANENT_REDIRECT'
> = {
  known: ['MOVED_PERMANENTLY', 'FOUND', 'SEE_OTHER', 'TEMPORARY_REDIRECT', 'PERMANENT_REDIRECT'],
  supported: ['MOVED_PERMANENTLY', 'FOUND', 'SEE_OTHER', 'TEMPORARY_REDIRECT', 'PERMANENT_REDIRECT'],
};

const PATH_SPECIFIERS = ['prefix', 'path', 'safe_regex', 'connect_matcher'] as const;
const ACTIONS = ['route', 'redirect', 'direct_response'] as const;

/**
 * Validates a Route at `path`. Cluster names it uses are appended to `refs` so the caller
 * can check them once all clusters are known.
 */
export function validateRoute(
  raw: unknown,
  path: string,
  issues: ConfigIssue[],
  ctx: ValidationContext,
  refs: ClusterRef[],
): Route {
  const r = readMessage(raw, path, issues);
  const name = r.string('name') ?? '';
  const match = readRouteMatch(r.requiredMessage('match'));
  const which = r.oneOf(ACTIONS, ACTIONS.join(', '));
  let action: Route['action'] = { kind: 'direct_response', status: 404, body: null };
  if (which === 'route') action = readRouteAction(r.requiredMessage('route'), refs, ctx);
  else if (which === 'redirect') action = readRedirectAction(r.requiredMessage('redirect'));
  else if (which === 'direct_response')
    action = readDirectResponse(r.requiredMessage('direct_response'), ctx);
  else r.issue(null, 'one of route, redirect or direct_response is required');
  for (const a of ACTIONS) r.ignore(a);
  const perRequestBufferLimitBytes = readPerRequestBufferLimit(r);
  const mutations = readHeaderMutations(r);
  const typedPerFilterConfig = readTypedPerFilterConfig(r, ctx.registry);
  r.done();
  // Set only when given, so configs without them keep their exact shape.
  let route: Route = { name, match, action, ...mutations };
  if (perRequestBufferLimitBytes !== null) route = { ...route, perRequestBufferLimitBytes };
  if (typedPerFilterConfig !== null) route = { ...route, typedPerFilterConfig };
  return route;
}

function readRouteMatch(r: FieldReader): RouteMatch {
  const which = r.oneOf(PATH_SPECIFIERS, PATH_SPECIFIERS.join(', '));
  let path: RouteMatch['path'] = { kind: 'prefix', value: '/' };
  if (which === 'prefix') path = { kind: 'prefix', value: r.string('prefix') ?? '' };
  else if (which === 'path') path = { kind: 'path', value: r.string('path') ?? '' };
  else if (which === 'safe_regex')
    path = { kind: 'safe_regex', regex: readRegexMatcher(r.requiredMessage('safe_regex')) };
  else if (which === 'connect_matcher') {
    // ConnectMatcher has no fields: `{}`.
    r.requiredMessage('connect_matcher').done();
    path = { kind: 'connect' };
  } else r.issue(null, `one of ${PATH_SPECIFIERS.join(', ')} is required`);
  for (const p of PATH_SPECIFIERS) r.ignore(p);
  const caseSensitive = r.boolean('case_sensitive', true);
  const headerItems = r.list('headers');
  const headers = headerItems.map((h, i) => validateHeaderMatcher(h, `${r.at('headers')}[${i}]`, r.issues));
  const queryItems = r.list('query_parameters');
  const queryParameters = queryItems.map((q, i) =>
    validateQueryParameterMatcher(q, `${r.at('query_parameters')}[${i}]`, r.issues),
  );
  return { path, caseSensitive, headers, queryParameters };
}

function readRouteAction(r: FieldReader, refs: ClusterRef[], ctx: ValidationContext): RouteAction {
  const which = r.oneOf(['cluster', 'weighted_clusters'], 'cluster, weighted_clusters');
  let cluster: RouteAction['cluster'] = { kind: 'cluster', name: '' };
  if (which === 'cluster') {
    const name = r.requiredString('cluster');
    if (name !== '') refs.push({ name, path: r.at('cluster') });
    cluster = { kind: 'cluster', name };
  } else if (which === 'weighted_clusters') {
    cluster = readWeightedClusters(r.requiredMessage('weighted_clusters'), refs, ctx);
  } else {
    r.issue(null, 'one of cluster or weighted_clusters is required');
  }
  r.ignore('cluster');
  r.ignore('weighted_clusters');
  const timeoutMs = r.duration('timeout', DEFAULT_ROUTE_TIMEOUT_MS, true);
  const rewrite = r.oneOf(['prefix_rewrite', 'regex_rewrite'], 'prefix_rewrite, regex_rewrite');
  const prefixRewrite = r.string('prefix_rewrite') ?? null;
  const regexRewrite = rewrite === 'regex_rewrite' ? readRegexRewrite(r) : null;
  r.oneOf(['host_rewrite_literal', 'auto_host_rewrite'], 'host_rewrite_literal, auto_host_rewrite');
  const autoHostRewrite = r.boolean('auto_host_rewrite', false);
  const hostRewriteLiteral = r.string('host_rewrite_literal') ?? null;
  if (hostRewriteLiteral === '') r.issue('host_rewrite_literal', 'must not be empty');
  const retryPolicy = readRetryPolicy(r);
  const hashPolicy = readHashPolicies(r);
  const requestMirrorPolicies = readRequestMirrorPolicies(r, refs);
  const msd = r.message('max_stream_duration');
  const upgradeConfigs = readRouteUpgradeConfigs(r);
  // Absent = the HCM's stream_idle_timeout; 0 turns the stream idle timeout off for this route.
  const idleTimeoutMs = r.has('idle_timeout') ? r.duration('idle_timeout', null, true) : undefined;
  let action: RouteAction = { kind: 'route', cluster, timeoutMs, prefixRewrite, hostRewriteLiteral };
  if (retryPolicy !== null) action = { ...action, retryPolicy };
  if (hashPolicy !== null) action = { ...action, hashPolicy };
  if (regexRewrite !== null) action = { ...action, regexRewrite };
  if (autoHostRewrite) action = { ...action, autoHostRewrite };
  if (requestMirrorPolicies !== null) action = { ...action, requestMirrorPolicies };
  if (msd !== null) action = { ...action, maxStreamDuration: readMaxStreamDuration(msd) };
  if (upgradeConfigs !== null) action = { ...action, upgradeConfigs };
  if (idleTimeoutMs !== undefined) action = { ...action, idleTimeoutMs };
  return action;
}

/** RouteAction.MaxStreamDuration (0 durations mean "no limit", as in Envoy). */
function readMaxStreamDuration(r: FieldReader): MaxStreamDuration {
  // Given (even as 0), it replaces the HCM's common_http_protocol_options.max_stream_duration.
  const given = r.has('max_stream_duration');
  const maxStreamDurationMs = r.duration('max_stream_duration', null, true);
  const max = r.duration('grpc_timeout_header_max', null);
  const offset = r.duration('grpc_timeout_header_offset', 0) ?? 0;
  const out: MaxStreamDuration = {
    maxStreamDurationMs,
    grpcTimeoutHeaderMaxMs: max,
    grpcTimeoutHeaderOffsetMs: offset,
  };
  return given ? { ...out, overridesConnectionManager: true } : out;
}

/** `RegexMatchAndSubstitute`: the regex (checked like safe_regex) and its substitution. */
function readRegexRewrite(r: FieldReader): { regex: string; substitution: string } | null {
  const m = r.message('regex_rewrite');
  if (m === null) return null;
  const regex = readRegexMatcher(m.requiredMessage('pattern'));
  const substitution = m.string('substitution') ?? '';
  m.done();
  return regex === '' ? null : { regex, substitution };
}

function readWeightedClusters(
  r: FieldReader,
  refs: ClusterRef[],
  ctx: ValidationContext,
): RouteAction['cluster'] {
  const items = r.list('clusters');
  if (items.length === 0) r.issue('clusters', 'must list at least one cluster');
  const clusters: ClusterWeight[] = [];
  let sum = 0;
  for (let i = 0; i < items.length; i++) {
    const c = readMessage(items[i], `${r.at('clusters')}[${i}]`, r.issues);
    const name = c.requiredString('name');
    if (name !== '') refs.push({ name, path: c.at('name') });
    if (!c.has('weight')) c.issue('weight', 'is required');
    const weight = c.uint32('weight', 0);
    sum += weight;
    const mutations = readHeaderMutations(c);
    const typedPerFilterConfig = readTypedPerFilterConfig(c, ctx.registry);
    c.done();
    const cw: ClusterWeight = { name, weight, ...mutations };
    clusters.push(typedPerFilterConfig === null ? cw : { ...cw, typedPerFilterConfig });
  }
  if (items.length > 0 && sum === 0) r.issue('clusters', 'the weights must not all be zero');
  const total = r.optionalUint32('total_weight', 1);
  if (total !== null && total !== sum)
    r.issue('total_weight', `is ${total} but the weights add up to ${sum}`);
  return { kind: 'weighted', clusters, totalWeight: sum };
}

function readRedirectAction(r: FieldReader): RedirectAction {
  const scheme = r.oneOf(['scheme_redirect', 'https_redirect'], 'scheme_redirect, https_redirect');
  let schemeRedirect: string | null = null;
  if (scheme === 'scheme_redirect') {
    schemeRedirect = (r.string('scheme_redirect') ?? '').toLowerCase() || null;
  } else if (scheme === 'https_redirect' && r.boolean('https_redirect', false)) {
    schemeRedirect = 'https';
  }
  r.ignore('scheme_redirect');
  r.ignore('https_redirect');
  const rewrite = r.oneOf(['path_redirect', 'prefix_rewrite'], 'path_redirect, prefix_rewrite');
  const pathRedirect = rewrite === 'path_redirect' ? (r.string('path_redirect') ?? null) : null;
  const prefixRewrite = rewrite === 'prefix_rewrite' ? (r.string('prefix_rewrite') ?? null) : null;
  r.ignore('path_redirect');
  r.ignore('prefix_rewrite');
  const hostRedirect = r.string('host_redirect') ?? null;
  // port_redirect 0 means "keep the port", as in Envoy.
  const port = r.uint32('port_redirect', 0, 0, 65535);
  const code = r.enumeration('response_code', 'MOVED_PERMANENTLY', REDIRECT_CODE);
  const stripQuery = r.boolean('strip_query', false);
  return {
    kind: 'redirect',
    schemeRedirect,
    hostRedirect,
    portRedirect: port === 0 ? null : port,
    pathRedirect,
    prefixRewrite,
    responseCode: REDIRECT_CODES[REDIRECT_CODE.known.indexOf(code)],
    stripQuery,
  };
}

function readDirectResponse(r: FieldReader, ctx: ValidationContext): DirectResponseAction {
  if (!r.has('status')) r.issue('status', 'is required');
  const status = r.uint32('status', 200, 100, 599);
  let body: Buffer | null = null;
  const src = r.message('body');
  if (src !== null) {
    const which = src.oneOf(
      ['inline_string', 'inline_bytes', 'filename'],
      'inline_string, inline_bytes, filename',
    );
    if (which === 'inline_string') {
      body = Buffer.from(src.string('inline_string') ?? '', 'utf8');
    } else if (which === 'inline_bytes') {
      const b64 = src.string('inline_bytes') ?? '';
      if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(b64)) src.issue('inline_bytes', 'is not valid base64');
      else body = Buffer.from(b64, 'base64');
    } else if (which === 'filename') {
      const file = src.requiredString('filename');
      if (file !== '') {
        try {
          body = ctx.readFile(file);
        } catch (err) {
          src.issue('filename', `cannot read '${file}': ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    } else {
      src.issue(null, 'one of inline_string, inline_bytes or filename is required');
    }
    src.ignore('inline_string');
    src.ignore('inline_bytes');
    src.ignore('filename');
  }
  return { kind: 'direct_response', status, body };
}
