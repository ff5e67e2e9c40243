// A compiled `envoy.type.matcher.v3.StringMatcher`, shared by header and query matchers.
//
// Semantics (Envoy StringMatcherImpl): exact / prefix / suffix / contains, each optionally
// ignoring ASCII case; `safe_regex` must match the whole value (RE2 full match). The
// pattern is prepared once; `match` runs per request and does not allocate.

import type { StringMatcher } from '../../config/model.js';
import {
  asciiLower,
  endsWithIgnoreCase,
  equalsIgnoreCase,
  includesIgnoreCase,
  startsWithIgnoreCase,
} from './ascii.js';

const EXACT = 0;
const PREFIX = 1;
const SUFFIX = 2;
const CONTAINS = 3;
const REGEX = 4;

export class CompiledStringMatcher {
  private readonly kind: number;
  private readonly ignoreCase: boolean;
  /** The pattern, lower-cased when ignoreCase. */
  private readonly value: string;
  private readonly regex: RegExp | null;

  constructor(config: StringMatcher) {
    if (config.kind === 'safe_regex') {
      this.kind = REGEX;
      this.ignoreCase = false;
      this.value = '';
      this.regex = compileFullMatchRegex(config.regex);
      return;
    }
    this.kind =
      config.kind === 'exact'
        ? EXACT
        : config.kind === 'prefix'
          ? PREFIX
          : config.kind === 'suffix'
            ? SUFFIX
            : CONTAINS;
    this.ignoreCase = config.ignoreCase;
    this.value = config.ignoreCase ? asciiLower(config.value) : config.value;
    this.regex = null;
  }

  match(s: string): boolean {
    const v = this.value;
    switch (this.kind) {
      case EXACT:
        return this.ignoreCase ? equalsIgnoreCase(s, v) : s === v;
      case PREFIX:
        return this.ignoreCase ? startsWithIgnoreCase(s, v) : s.startsWith(v);
      case SUFFIX:
        return this.ignoreCase ? endsWithIgnoreCase(s, v) : s.endsWith(v);
      case CONTAINS:
        return this.ignoreCase ? includesIgnoreCase(s, v) : s.includes(v);
      default:
        return this.regex!.test(s);
    }
  }
}

/**
 * Envoy's safe_regex matchers are full matches (the regex must consume the whole input).
 * Anchoring with `^(?:…)$` gives that for a JS RegExp without the `m` flag; no `g`/`y`
 * flag, so `test` keeps no `lastIndex` state between requests.
 */
export function compileFullMatchRegex(regex: string): RegExp {
  return new RegExp(`^(?:${regex})$`);
}
