// A compiled `envoy.config.route.v3.HeaderMatcher` (route `match.headers`).
//
// Follows Envoy's HeaderUtility::matchHeaders:
// - the value is all entries of that name joined with "," (no space), as Envoy's
//   getAllOfHeaderAsString does; `:authority`, `:path`, `:method`, `:scheme` read the
//   request fields (`host` too, since the Host header travels as the authority here);
// - a missing header (without treat_missing_header_as_empty) matches only
//   `present_match: false`; inverted, it matches only `present_match: true`. So an
//   inverted string/range matcher does NOT match a missing header — set
//   treat_missing_header_as_empty for "header absent or not equal to X";
// - with treat_missing_header_as_empty a missing header is the empty string, and
//   `present_match` then yields its configured value;
// - range_match parses a signed 64-bit integer (absl::SimpleAtoi: surrounding ASCII
//   whitespace and a sign allowed) and checks start <= v < end; anything else fails.

import type { HeaderMatcher } from '../../config/model.js';
import type { HeaderList } from '../http/headers.js';
import type { RouteRequest } from './route-request.js';
import { CompiledStringMatcher } from './string-matcher.js';

const SOURCE_HEADER = 0;
const SOURCE_AUTHORITY = 1;
const SOURCE_PATH = 2;
const SOURCE_METHOD = 3;
const SOURCE_SCHEME = 4;

const KIND_STRING = 0;
const KIND_PRESENT = 1;
const KIND_RANGE = 2;

export class CompiledHeaderMatcher {
  private readonly name: string;
  private readonly source: number;
  private readonly kind: number;
  private readonly invert: boolean;
  private readonly missingAsEmpty: boolean;
  private readonly present: boolean;
  private readonly rangeStart: number;
  private readonly rangeEnd: number;
  private readonly string: CompiledStringMatcher | null;

  constructor(config: HeaderMatcher) {
    this.name = config.name;
    this.source = sourceOf(config.name);
    this.invert = config.invertMatch;
    this.missingAsEmpty = config.treatMissingHeaderAsEmpty;
    const m = config.match;
    this.kind = m.kind === 'string' ? KIND_STRING : m.kind === 'present' ? KIND_PRESENT : KIND_RANGE;
    this.present = m.kind === 'present' ? m.present : false;
    this.rangeStart = m.kind === 'range' ? m.start : 0;
    this.rangeEnd = m.kind === 'range' ? m.end : 0;
    this.string = m.kind === 'string' ? new CompiledStringMatcher(m.matcher) : null;
  }

  matches(req: RouteRequest): boolean {
    let value: string | undefined;
    switch (this.source) {
      case SOURCE_AUTHORITY:
        value = req.authority;
        break;
      case SOURCE_PATH:
        value = req.path;
        break;
      case SOURCE_METHOD:
        value = req.method;
        break;
      case SOURCE_SCHEME:
        value = req.scheme;
        break;
      default:
        value = joinedValue(req.headers, this.name);
    }
    if (value === undefined) {
      if (!this.missingAsEmpty) {
        // Envoy: an absent header only ever satisfies a presence check.
        if (this.kind !== KIND_PRESENT) return false;
        return this.invert ? this.present : !this.present;
      }
      value = '';
    }
    let match: boolean;
    switch (this.kind) {
      case KIND_STRING:
        match = this.string!.match(value);
        break;
      case KIND_PRESENT:
        match = this.present;
        break;
      default:
        match = inRange(value, this.rangeStart, this.rangeEnd);
    }
    return match !== this.invert;
  }
}

function sourceOf(name: string): number {
  switch (name) {
    case ':authority':
    case 'host':
      return SOURCE_AUTHORITY;
    case ':path':
      return SOURCE_PATH;
    case ':method':
      return SOURCE_METHOD;
    case ':scheme':
      return SOURCE_SCHEME;
    default:
      return SOURCE_HEADER;
  }
}

/** All values of `name` joined with "," (Envoy's separator for header matching). */
function joinedValue(headers: HeaderList, name: string): string | undefined {
  let out: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) out = out === undefined ? headers[i + 1] : `${out},${headers[i + 1]}`;
  }
  return out;
}

function isAsciiSpace(c: number): boolean {
  // absl::ascii_isspace: space, \t, \n, \v, \f, \r
  return c === 32 || (c >= 9 && c <= 13);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** absl::SimpleAtoi into int64, then start <= v < end. */
export function inRange(s: string, start: number, end: number): boolean {
  let i = 0;
  let j = s.length;
  while (i < j && isAsciiSpace(s.charCodeAt(i))) i++;
  while (j > i && isAsciiSpace(s.charCodeAt(j - 1))) j--;
  let negative = false;
  if (i < j) {
    const c = s.charCodeAt(i);
    if (c === 45 || c === 43) {
      negative = c === 45;
      i++;
    }
  }
  if (i === j) return false;
  let n = 0;
  for (let k = i; k < j; k++) {
    const d = s.charCodeAt(k) - 48;
    if (d < 0 || d > 9) return false;
    n = n * 10 + d;
  }
  if (j - i <= 15) {
    // Exact in a double: no precision loss below 10^15.
    const v = negative ? -n : n;
    return v >= start && v < end;
  }
  // Long digit strings: exact arithmetic, and int64 overflow is a parse failure.
  let big = BigInt(s.slice(i, j));
  if (negative) big = -big;
  if (big < INT64_MIN || big > INT64_MAX) return false;
  return big >= BigInt(Math.trunc(start)) && big < BigInt(Math.trunc(end));
}
