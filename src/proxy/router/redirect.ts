// The Location of a `redirect` route (Envoy Http::Utility::newUri and processRequestHost).
//
// - scheme: `scheme_redirect` (https_redirect is normalized to it), else the request's;
// - port: `port_redirect` replaces any port of the request host (":N" appended verbatim);
// - host: `host_redirect` (taken as given, the request port is dropped), else the request
//   authority; when the scheme changes, a port that was the default of the request's
//   scheme (":80" for http, ":443" for https) is dropped, so http://a:80 → https://a. The
//   request's scheme here is X-Forwarded-Proto when present (as Envoy), else req.scheme;
// - path: `path_redirect` (its own query wins and is never stripped; without one, the
//   request's query is kept), else `prefix_rewrite` on the matched prefix (query kept),
//   else the request path; a missing leading "/" is added;
// - `strip_query` drops the query, unless path_redirect carried one.
// Empty strings and a zero port count as unset, as in Envoy's proto3 fields.

import type { RedirectAction } from '../../config/model.js';
import { getHeader } from '../http/headers.js';
import { pathPartEnd } from './path-part.js';
import type { RouteRequest } from './route-request.js';

/**
 * `matched`: the route's matched prefix (CompiledRoute.matchedPrefix: the prefix for prefix
 * routes, null when the whole path part matched) — or the CompiledRoute itself.
 */
export function buildRedirectLocation(
  req: RouteRequest,
  redirect: RedirectAction,
  matched: string | null | { readonly matchedPrefix: string | null },
): string {
  const matchedPrefix = matched === null || typeof matched === 'string' ? matched : matched.matchedPrefix;
  const scheme = redirect.schemeRedirect || req.scheme;
  const port = redirect.portRedirect ? `:${redirect.portRedirect}` : '';
  const host = redirect.hostRedirect || requestHost(req, scheme, port);

  let path: string;
  let pathHasOwnQuery = false;
  if (redirect.pathRedirect) {
    pathHasOwnQuery = redirect.pathRedirect.includes('?');
    if (pathHasOwnQuery) {
      path = redirect.pathRedirect;
    } else {
      const q = req.path.indexOf('?');
      path = q < 0 ? redirect.pathRedirect : redirect.pathRedirect + req.path.slice(q);
    }
  } else if (redirect.prefixRewrite) {
    const matched = matchedPrefix !== null ? matchedPrefix.length : pathPartEnd(req.path);
    path = redirect.prefixRewrite + req.path.slice(matched);
  } else {
    path = req.path;
  }
  if (!path.startsWith('/')) path = `/${path}`;
  if (redirect.stripQuery && !pathHasOwnQuery) {
    const q = path.indexOf('?');
    if (q >= 0) path = path.slice(0, q);
  }
  return `${scheme}://${host}${port}${path}`;
}

/** The request authority, without its port when a new port is given or the default one lapses. */
function requestHost(req: RouteRequest, newScheme: string, newPort: string): string {
  const host = req.authority;
  if (host === '') return host;
  let portStart: number;
  if (host.charCodeAt(0) === 91 /* [ */) {
    // IPv6 literal (RFC 3986 §3.2.2): a port can only follow the closing bracket.
    portStart = host.lastIndexOf(']:');
    if (portStart >= 0) portStart += 1;
  } else {
    portStart = host.lastIndexOf(':');
  }
  if (portStart < 0) return host;
  const requestScheme = getHeader(req.headers, 'x-forwarded-proto') ?? req.scheme;
  let removePort = newPort !== '';
  if (newScheme !== requestScheme) {
    const port = host.slice(portStart);
    if (port === ':443' && requestScheme.toLowerCase() === 'https') removePort = true;
    if (port === ':80' && requestScheme.toLowerCase() === 'http') removePort = true;
  }
  return removePort ? host.slice(0, portStart) : host;
}
