// `route.prefix_rewrite`: the matched prefix (or, for `path` and `safe_regex` routes, the
// whole path part) is swapped for the rewrite; the rest of the target, query included,
// is kept (Envoy RouteEntryImplBase::currentUrlPathAfterRewriteWithMatchedPath). A
// case-insensitive prefix match replaces the same number of characters it matched.
// As in Envoy, an empty prefix_rewrite means "no rewrite".
// `route.regex_rewrite`: every match of the regex in the path part (the query is kept as
// is) is replaced by the substitution, `\1`-style groups included (Envoy's
// RegexMatchAndSubstitute).

import { pathPartEnd } from './path-part.js';
import type { CompiledRoute } from './route-table.js';

/** The upstream path for `path` (the target `route` matched), or null when there is no rewrite. */
export function rewritePath(path: string, route: CompiledRoute): string | null {
  const regex = route.regexRewrite;
  if (regex !== null) {
    const end = pathPartEnd(path);
    return path.slice(0, end).replace(regex.re, regex.substitution) + path.slice(end);
  }
  const action = route.action;
  if (action.kind !== 'route' || action.prefixRewrite === null || action.prefixRewrite === '') return null;
  const matched = route.matchedPrefix !== null ? route.matchedPrefix.length : pathPartEnd(path);
  return action.prefixRewrite + path.slice(matched);
}
