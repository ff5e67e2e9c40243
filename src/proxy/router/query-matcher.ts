// A compiled `envoy.config.route.v3.QueryParameterMatcher` (route `match.query_parameters`).
//
// Envoy parses the query with Http::Utility::QueryParamsMulti::parseQueryString: split on
// "&", name and value split at the first "=", a parameter without "=" has the value "",
// and NOTHING is percent-decoded. A matcher looks at the first value of its name only
// (ConfigUtility::QueryParameterMatcher: "ignoring all but the first value"); a missing
// parameter never matches. We scan the target in place instead of building a map, so a
// request whose route has no query matchers pays nothing.

import type { QueryParameterMatcher } from '../../config/model.js';
import { CompiledStringMatcher } from './string-matcher.js';

export class CompiledQueryMatcher {
  private readonly name: string;
  private readonly string: CompiledStringMatcher | null;

  constructor(config: QueryParameterMatcher) {
    this.name = config.name;
    this.string = config.match.kind === 'string' ? new CompiledStringMatcher(config.match.matcher) : null;
  }

  /** `queryStart`: index just after "?"; `queryEnd`: end of the query (before any "#"). */
  matches(target: string, queryStart: number, queryEnd: number): boolean {
    const name = this.name;
    const n = name.length;
    let i = queryStart;
    while (i < queryEnd) {
      let amp = target.indexOf('&', i);
      if (amp < 0 || amp > queryEnd) amp = queryEnd;
      if (amp - i >= n && target.startsWith(name, i)) {
        const after = i + n;
        if (after === amp) return this.string === null || this.string.match('');
        if (target.charCodeAt(after) === 61 /* = */) {
          return this.string === null || this.string.match(target.slice(after + 1, amp));
        }
      }
      i = amp + 1;
    }
    return false;
  }
}
