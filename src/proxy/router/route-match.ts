// A compiled `envoy.config.route.v3.RouteMatch`: path, headers and query parameters.
//
// Envoy semantics (route_components.proto, RouteMatch):
// - `prefix` and `path` compare against the path part only (before "?"/"#"), ignoring
//   ASCII case when `case_sensitive` is false;
// - `safe_regex` must match the whole path part (RE2 full match);
// - `connect_matcher` has no path: it matches CONNECT requests, and the route table only
//   offers CONNECT requests to such routes (route-table.ts keeps them in their own list);
// - then every header matcher, then every query parameter matcher, must match (AND).
// Patterns are prepared once; `matches` does not allocate.

import type { RouteMatch } from '../../config/model.js';
import { asciiLower, regionEqualsIgnoreCase } from './ascii.js';
import { CompiledHeaderMatcher } from './header-matcher.js';
import { CompiledQueryMatcher } from './query-matcher.js';
import type { RouteRequest } from './route-request.js';
import { compileFullMatchRegex } from './string-matcher.js';

const PATH_PREFIX = 0;
const PATH_EXACT = 1;
const PATH_REGEX = 2;
const PATH_CONNECT = 3;

export class CompiledRouteMatch {
  private readonly kind: number;
  private readonly caseSensitive: boolean;
  /** The prefix/path to compare, lower-cased when case-insensitive. */
  private readonly value: string;
  private readonly regex: RegExp | null;
  private readonly headers: readonly CompiledHeaderMatcher[] | null;
  private readonly query: readonly CompiledQueryMatcher[] | null;
  /** The configured prefix for `prefix` matches; null when the whole path part matched. */
  readonly matchedPrefix: string | null;
  readonly needsPathOnly: boolean;
  /** A `connect_matcher` route: offered CONNECT requests only. */
  readonly connect: boolean;

  constructor(config: RouteMatch) {
    const p = config.path;
    this.caseSensitive = config.caseSensitive;
    if (p.kind === 'safe_regex') {
      this.kind = PATH_REGEX;
      this.value = '';
      this.regex = compileFullMatchRegex(p.regex);
    } else if (p.kind === 'connect') {
      this.kind = PATH_CONNECT;
      this.value = '';
      this.regex = null;
    } else {
      this.kind = p.kind === 'prefix' ? PATH_PREFIX : PATH_EXACT;
      this.value = config.caseSensitive ? p.value : asciiLower(p.value);
      this.regex = null;
    }
    this.matchedPrefix = p.kind === 'prefix' ? p.value : null;
    this.needsPathOnly = p.kind === 'safe_regex';
    this.connect = p.kind === 'connect';
    this.headers = config.headers.length > 0 ? config.headers.map((h) => new CompiledHeaderMatcher(h)) : null;
    this.query =
      config.queryParameters.length > 0
        ? config.queryParameters.map((q) => new CompiledQueryMatcher(q))
        : null;
  }

  /**
   * `pathEnd`: end of the path part (first "?"/"#" or the length); `pathOnly`: the path
   * part as a string, only meaningful when `needsPathOnly`; the query is
   * [queryStart, queryEnd) (both 0 when there is none). Computed once per request.
   */
  matches(
    req: RouteRequest,
    pathEnd: number,
    pathOnly: string,
    queryStart: number,
    queryEnd: number,
  ): boolean {
    const path = req.path;
    const end = pathEnd;
    const v = this.value;
    switch (this.kind) {
      case PATH_PREFIX:
        if (v.length > end) return false;
        if (this.caseSensitive ? !path.startsWith(v) : !regionEqualsIgnoreCase(path, 0, v)) return false;
        break;
      case PATH_EXACT:
        if (v.length !== end) return false;
        if (this.caseSensitive ? !path.startsWith(v) : !regionEqualsIgnoreCase(path, 0, v)) return false;
        break;
      case PATH_CONNECT:
        break;
      default:
        if (!this.regex!.test(pathOnly)) return false;
    }
    const headers = this.headers;
    if (headers !== null) {
      for (let i = 0; i < headers.length; i++) if (!headers[i].matches(req)) return false;
    }
    const query = this.query;
    if (query !== null) {
      for (let i = 0; i < query.length; i++) {
        if (!query[i].matches(path, queryStart, queryEnd)) return false;
      }
    }
    return true;
  }
}
