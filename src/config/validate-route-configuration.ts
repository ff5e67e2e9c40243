// Validation of `envoy.config.route.v3.RouteConfiguration` and its virtual hosts,
// including the domain rules Envoy enforces (wildcard placement; a domain may appear in
// only one virtual host of a route configuration).

import type { ConfigIssue } from '../core/errors.js';
import { type EnumSpec, readMessage } from './fields.js';
import type { Route, RouteConfiguration, VirtualHost } from './model.js';
import { isHeaderName, readHeaderMutations } from './validate-headers.js';
import { readTypedPerFilterConfig } from './validate-per-filter-config.js';
import { readPerRequestBufferLimit, readRetryPolicy } from './validate-retry-policy.js';
import { validateRoute } from './validate-route.js';
import type { ClusterRef, ValidationContext } from './validation-context.js';

/** Characters allowed in a domain entry (host, optional :port, IPv6 brackets) besides '*'. */
const DOMAIN_CHARS = /^[a-z0-9._\-:[\]]+$/;

export interface RouteConfigurationOptions {
  /**
   * Default of `validate_clusters`: true for inline (static) route configs, as Envoy does;
   * RDS-delivered route configs default to false.
   */
  readonly validateClustersDefault?: boolean;
}

/**
 * Validates a RouteConfiguration at `path`. When `validate_clusters` applies, the clusters
 * it names are appended to `ctx.clusterRefs` for the caller to check.
 */
export function validateRouteConfiguration(
  raw: unknown,
  path: string,
  issues: ConfigIssue[],
  ctx: ValidationContext,
  options: RouteConfigurationOptions = {},
): RouteConfiguration {
  const r = readMessage(raw, path, issues);
  const name = r.string('name') ?? '';
  const validateClusters = r.boolean('validate_clusters', options.validateClustersDefault ?? true);
  const refs: ClusterRef[] = [];
  const items = r.list('virtual_hosts');
  const virtualHosts: VirtualHost[] = [];
  const domainOwner = new Map<string, string>();
  const names = new Set<string>();
  for (let i = 0; i < items.length; i++) {
    const vhPath = `${r.at('virtual_hosts')}[${i}]`;
    const vh = validateVirtualHost(items[i], vhPath, issues, ctx, refs);
    if (vh.name !== '' && names.has(vh.name))
      issues.push({ path: `${vhPath}.name`, message: `duplicate virtual host name '${vh.name}'` });
    names.add(vh.name);
    for (let d = 0; d < vh.domains.length; d++) {
      const domain = vh.domains[d];
      const owner = domainOwner.get(domain);
      if (owner !== undefined) {
        issues.push({
          path: `${vhPath}.domains[${d}]`,
          message: `domain '${domain}' is already used by virtual host '${owner}'; each domain may appear only once per route configuration`,
        });
      } else domainOwner.set(domain, vh.name);
    }
    virtualHosts.push(vh);
  }
  const mutations = readHeaderMutations(r);
  const internalOnly = r.stringList('internal_only_headers');
  const internalOnlyHeaders: string[] = [];
  for (let i = 0; i < internalOnly.length; i++) {
    if (isHeaderName(internalOnly[i])) internalOnlyHeaders.push(internalOnly[i].toLowerCase());
    else r.issue(`internal_only_headers[${i}]`, `'${internalOnly[i]}' is not a valid header name`);
  }
  r.done();
  if (validateClusters) for (const ref of refs) ctx.clusterRefs.push(ref);
  return {
    name,
    virtualHosts,
    ...mutations,
    ...(internalOnlyHeaders.length === 0 ? {} : { internalOnlyHeaders }),
  };
}

function validateVirtualHost(
  raw: unknown,
  path: string,
  issues: ConfigIssue[],
  ctx: ValidationContext,
  refs: ClusterRef[],
): VirtualHost {
  const r = readMessage(raw, path, issues);
  const name = r.requiredString('name');
  if (!r.has('domains')) r.issue('domains', 'is required (use ["*"] to match every host)');
  const given = r.stringList('domains');
  if (r.has('domains') && given.length === 0) r.issue('domains', 'must not be empty');
  const domains: string[] = [];
  for (let i = 0; i < given.length; i++) {
    const domain = given[i].toLowerCase();
    const problem = checkDomain(domain);
    if (problem !== null) r.issue(`domains[${i}]`, problem);
    else domains.push(domain);
  }
  const items = r.list('routes');
  const routes: Route[] = [];
  for (let i = 0; i < items.length; i++)
    routes.push(validateRoute(items[i], `${r.at('routes')}[${i}]`, issues, ctx, refs));
  const retryPolicy = readRetryPolicy(r);
  const perRequestBufferLimitBytes = readPerRequestBufferLimit(r);
  const mutations = readHeaderMutations(r);
  const typedPerFilterConfig = readTypedPerFilterConfig(r, ctx.registry);
  const requireTls = r.enumeration('require_tls', 'NONE', REQUIRE_TLS);
  const includeRequestAttemptCount = r.boolean('include_request_attempt_count', false);
  const includeAttemptCountInResponse = r.boolean('include_attempt_count_in_response', false);
  r.done();
  // Set only when given, so configs without them keep their exact shape.
  let vh: VirtualHost = { name, domains, routes, ...mutations };
  if (retryPolicy !== null) vh = { ...vh, retryPolicy };
  if (perRequestBufferLimitBytes !== null) vh = { ...vh, perRequestBufferLimitBytes };
  if (typedPerFilterConfig !== null) vh = { ...vh, typedPerFilterConfig };
  if (requireTls !== 'NONE') vh = { ...vh, requireTls };
  if (includeRequestAttemptCount) vh = { ...vh, includeRequestAttemptCount };
  if (includeAttemptCountInResponse) vh = { ...vh, includeAttemptCountInResponse };
  return vh;
}

const REQUIRE_TLS: EnumSpec<'NONE' | 'EXTERNAL_ONLY' | 'ALL'> = {
  known: ['NONE', 'EXTERNAL_ONLY', 'ALL'],
  supported: ['NONE', 'EXTERNAL_ONLY', 'ALL'],
};

/** Envoy's VirtualHost.domains rules, restricted to the forms the Weft router matches. */
function checkDomain(domain: string): string | null {
  if (domain === '') return 'a domain must not be empty';
  if (domain === '*') return null;
  const body = domain.startsWith('*.')
    ? domain.slice(2)
    : domain.endsWith('.*')
      ? domain.slice(0, -2)
      : domain;
  if (body.includes('*')) {
    return `'${domain}': a wildcard is allowed only as '*', a leading '*.' or a trailing '.*'`;
  }
  if (body === '' || !DOMAIN_CHARS.test(body)) return `'${domain}' is not a valid domain`;
  return null;
}
