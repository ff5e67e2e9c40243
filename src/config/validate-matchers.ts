// Validation of the request matchers a route uses: StringMatcher and RegexMatcher
// (envoy.type.matcher.v3), HeaderMatcher and QueryParameterMatcher (envoy.config.route.v3).

import type { ConfigIssue } from '../core/errors.js';
import { type FieldReader, readMessage } from './fields.js';
import type { HeaderMatcher, QueryParameterMatcher, StringMatcher } from './model.js';
import { checkRegexCompatibility } from './regex.js';

const STRING_KINDS = ['exact', 'prefix', 'suffix', 'contains', 'safe_regex'] as const;
const HEADER_SPECIFIERS = [
  'exact_match',
  'prefix_match',
  'suffix_match',
  'contains_match',
  'safe_regex_match',
  'present_match',
  'range_match',
  'string_match',
] as const;
/** Pseudo-headers a request carries in Weft (RFC 9113 §8.3.1 names, as Envoy exposes them). */
const PSEUDO_HEADERS = new Set([':authority', ':method', ':path', ':scheme']);

/** `RegexMatcher` {google_re2, regex}: returns the regex ('' when invalid). */
export function readRegexMatcher(r: FieldReader): string {
  // google_re2 selects the engine; its only option (max_program_size) is deprecated and
  // refused by done() below. An empty object is consumed and ignored.
  r.message('google_re2');
  const regex = r.requiredString('regex');
  if (regex !== '') {
    const problem = checkRegexCompatibility(regex);
    if (problem !== null) {
      r.issue('regex', problem);
      return '';
    }
  }
  return regex;
}

/** `StringMatcher`: exactly one of exact, prefix, suffix, contains, safe_regex. */
export function readStringMatcher(r: FieldReader): StringMatcher {
  const kind = r.oneOf(STRING_KINDS, STRING_KINDS.join(', ')) as (typeof STRING_KINDS)[number] | null;
  const ignoreCase = r.boolean('ignore_case', false);
  let out: StringMatcher = { kind: 'exact', value: '', ignoreCase };
  if (kind === 'safe_regex') {
    // Envoy documents ignore_case as having no effect on safe_regex; Weft does the same.
    out = { kind: 'safe_regex', regex: readRegexMatcher(r.requiredMessage('safe_regex')) };
  } else if (kind !== null) {
    const value = r.string(kind) ?? '';
    if (value === '' && kind !== 'exact') r.issue(kind, 'must not be empty');
    out = { kind, value, ignoreCase };
  } else {
    r.issue(null, `one of ${STRING_KINDS.join(', ')} is required`);
  }
  for (const k of STRING_KINDS) r.ignore(k);
  return out;
}

/** Lower-cases a matched header name; `host` is the `:authority` pseudo-header in Weft. */
function normalizeMatchedName(name: string, r: FieldReader): string {
  const lower = name.toLowerCase();
  if (lower === 'host') return ':authority';
  if (lower.startsWith(':') && !PSEUDO_HEADERS.has(lower)) {
    r.issue('name', `unknown pseudo-header '${name}'; known: ${[...PSEUDO_HEADERS].join(', ')}`);
  }
  return lower;
}

export function validateHeaderMatcher(raw: unknown, path: string, issues: ConfigIssue[]): HeaderMatcher {
  const r = readMessage(raw, path, issues);
  const name = normalizeMatchedName(r.requiredString('name'), r);
  const invertMatch = r.boolean('invert_match', false);
  const treatMissingHeaderAsEmpty = r.boolean('treat_missing_header_as_empty', false);
  const which = r.oneOf(HEADER_SPECIFIERS, HEADER_SPECIFIERS.join(', '));
  // No specifier at all means "header is present" (Envoy's HeaderMatcher docs).
  let match: HeaderMatcher['match'] = { kind: 'present', present: true };
  switch (which) {
    case 'exact_match':
    case 'prefix_match':
    case 'suffix_match':
    case 'contains_match': {
      const kind = which.slice(0, -'_match'.length) as 'exact' | 'prefix' | 'suffix' | 'contains';
      match = { kind: 'string', matcher: { kind, value: r.string(which) ?? '', ignoreCase: false } };
      break;
    }
    case 'safe_regex_match':
      match = {
        kind: 'string',
        matcher: { kind: 'safe_regex', regex: readRegexMatcher(r.requiredMessage('safe_regex_match')) },
      };
      break;
    case 'present_match':
      match = { kind: 'present', present: r.boolean('present_match', true) };
      break;
    case 'range_match': {
      const range = r.requiredMessage('range_match');
      const start = range.int64('start');
      const end = range.int64('end');
      if (start === undefined) range.issue('start', 'is required');
      if (end === undefined) range.issue('end', 'is required');
      if (start !== undefined && end !== undefined && start >= end)
        range.issue(null, 'start must be below end');
      match = { kind: 'range', start: start ?? 0, end: end ?? 0 };
      break;
    }
    case 'string_match':
      match = { kind: 'string', matcher: readStringMatcher(r.requiredMessage('string_match')) };
      break;
  }
  for (const k of HEADER_SPECIFIERS) r.ignore(k);
  r.done();
  return { name, invertMatch, treatMissingHeaderAsEmpty, match };
}

export function validateQueryParameterMatcher(
  raw: unknown,
  path: string,
  issues: ConfigIssue[],
): QueryParameterMatcher {
  const r = readMessage(raw, path, issues);
  const name = r.requiredString('name');
  const which = r.oneOf(['string_match', 'present_match'], 'string_match, present_match');
  let match: QueryParameterMatcher['match'] = { kind: 'present' };
  if (which === 'string_match') {
    match = { kind: 'string', matcher: readStringMatcher(r.requiredMessage('string_match')) };
  } else if (which === 'present_match' && !r.boolean('present_match', true)) {
    r.issue('present_match', 'false is not supported; omit the matcher instead');
  }
  r.ignore('string_match');
  r.ignore('present_match');
  r.done();
  return { name, match };
}
