// Header matchers (Envoy HeaderUtility::matchHeaders): every kind, invert, missing
// headers, treat_missing_header_as_empty, ignore_case, multi-value joining, pseudo-headers.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HeaderMatcher, StringMatcher } from '../../config/model.js';
import { CompiledHeaderMatcher, inRange } from './header-matcher.js';
import { header, req } from './route-fixtures.js';

function m(config: HeaderMatcher, headers: string[], extra = {}): boolean {
  return new CompiledHeaderMatcher(config).matches(req('Example.com:8080', '/p?q=1', headers, extra));
}
const str = (matcher: StringMatcher): HeaderMatcher['match'] => ({ kind: 'string', matcher });
const exact = (value: string, ignoreCase = false) => str({ kind: 'exact', value, ignoreCase });

test('string matcher kinds, with and without ignore_case', () => {
  const cases: Array<[StringMatcher, string, boolean]> = [
    [{ kind: 'exact', value: 'abc', ignoreCase: false }, 'abc', true],
    [{ kind: 'exact', value: 'abc', ignoreCase: false }, 'ABC', false],
    [{ kind: 'exact', value: 'abc', ignoreCase: true }, 'aBc', true],
    [{ kind: 'exact', value: 'abc', ignoreCase: false }, 'abcd', false],
    [{ kind: 'exact', value: '', ignoreCase: false }, '', true],
    [{ kind: 'exact', value: '', ignoreCase: false }, 'x', false],
    [{ kind: 'prefix', value: 'Bear', ignoreCase: false }, 'Bearer t', true],
    [{ kind: 'prefix', value: 'Bear', ignoreCase: false }, 'bearer t', false],
    [{ kind: 'prefix', value: 'Bear', ignoreCase: true }, 'bEARer t', true],
    [{ kind: 'suffix', value: '.JSON', ignoreCase: true }, 'a.json', true],
    [{ kind: 'suffix', value: '.json', ignoreCase: false }, 'a.JSON', false],
    [{ kind: 'suffix', value: 'long-suffix', ignoreCase: true }, 'x', false],
    [{ kind: 'contains', value: 'Mid', ignoreCase: false }, 'aMidb', true],
    [{ kind: 'contains', value: 'Mid', ignoreCase: false }, 'amidb', false],
    [{ kind: 'contains', value: 'Mid', ignoreCase: true }, 'aMIDb', true],
    [{ kind: 'contains', value: 'mid', ignoreCase: true }, 'mi', false],
    [{ kind: 'safe_regex', regex: '[a-c]+' }, 'abcab', true],
    [{ kind: 'safe_regex', regex: '[a-c]+' }, 'abcd', false],
    [{ kind: 'safe_regex', regex: 'v[0-9]' }, 'xv1', false],
  ];
  for (const [matcher, value, expected] of cases) {
    assert.equal(
      m(header('x-h', str(matcher)), ['x-h', value]),
      expected,
      `${JSON.stringify(matcher)} vs ${value}`,
    );
    // invert_match flips the result when the header is present.
    assert.equal(m(header('x-h', str(matcher), { invertMatch: true }), ['x-h', value]), !expected);
  }
});

test('the value is all entries of the name joined with ","', () => {
  const h = ['x-h', 'a', 'other', 'z', 'x-h', 'b'];
  assert.equal(m(header('x-h', exact('a,b')), h), true);
  assert.equal(m(header('x-h', exact('a, b')), h), false);
  assert.equal(m(header('x-h', exact('a')), h), false);
});

test('pseudo-headers read the request fields', () => {
  assert.equal(m(header(':method', exact('POST')), [], { method: 'POST' }), true);
  assert.equal(m(header(':method', exact('POST')), []), false);
  assert.equal(m(header(':authority', exact('Example.com:8080')), []), true);
  assert.equal(m(header('host', exact('example.com:8080', true)), []), true);
  assert.equal(m(header(':path', exact('/p?q=1')), []), true, ':path includes the query');
  assert.equal(m(header(':scheme', exact('https')), [], { scheme: 'https' }), true);
  assert.equal(m(header(':scheme', exact('https')), []), false);
});

test('present_match, present and missing, with invert', () => {
  const present = { kind: 'present', present: true } as const;
  const absent = { kind: 'present', present: false } as const;
  const h = ['x-h', ''];
  assert.equal(m(header('x-h', present), h), true, 'an empty value is still present');
  assert.equal(m(header('x-h', present), []), false);
  assert.equal(m(header('x-h', absent), h), false);
  assert.equal(m(header('x-h', absent), []), true);
  assert.equal(m(header('x-h', present, { invertMatch: true }), h), false);
  assert.equal(m(header('x-h', present, { invertMatch: true }), []), true);
  assert.equal(m(header('x-h', absent, { invertMatch: true }), h), true);
  assert.equal(m(header('x-h', absent, { invertMatch: true }), []), false);
});

test('a missing header never matches a value matcher, inverted or not (Envoy)', () => {
  for (const invertMatch of [false, true]) {
    assert.equal(m(header('x-h', exact('a'), { invertMatch }), []), false);
    assert.equal(m(header('x-h', { kind: 'range', start: 0, end: 10 }, { invertMatch }), []), false);
    assert.equal(m(header('x-h', str({ kind: 'safe_regex', regex: '.*' }), { invertMatch }), []), false);
  }
});

test('treat_missing_header_as_empty evaluates a missing header as ""', () => {
  const t = { treatMissingHeaderAsEmpty: true };
  assert.equal(m(header('x-h', exact(''), t), []), true);
  assert.equal(m(header('x-h', exact('a'), t), []), false);
  assert.equal(m(header('x-h', exact('a'), { ...t, invertMatch: true }), []), true);
  assert.equal(m(header('x-h', { kind: 'range', start: 0, end: 10 }, { ...t, invertMatch: true }), []), true);
  // A missing header then counts as present (Envoy: match = present_match).
  assert.equal(m(header('x-h', { kind: 'present', present: true }, t), []), true);
  assert.equal(m(header('x-h', { kind: 'present', present: false }, t), []), false);
});

test('range_match: signed integers in [start, end)', () => {
  const r = (v: string, invertMatch = false) =>
    m(header('x-n', { kind: 'range', start: -10, end: 10 }, { invertMatch }), ['x-n', v]);
  assert.equal(r('-10'), true, 'start is inclusive');
  assert.equal(r('9'), true);
  assert.equal(r('10'), false, 'end is exclusive');
  assert.equal(r('-11'), false);
  assert.equal(r('+5'), true);
  assert.equal(r(' 5\t'), true, 'surrounding whitespace is allowed (absl::SimpleAtoi)');
  for (const bad of ['', '-', '5.0', '1e1', '0x5', '5a', '- 5', ' ']) {
    assert.equal(r(bad), false, `non-integer ${JSON.stringify(bad)}`);
    assert.equal(r(bad, true), true, `non-integer ${JSON.stringify(bad)} inverted`);
  }
  assert.equal(r('-1', true), false, 'in range, inverted → no match');
});

test('range_match: 64-bit values are exact; overflow does not match', () => {
  assert.equal(inRange('9223372036854775806', 0, 2 ** 63), true);
  assert.equal(inRange('9223372036854775808', 0, 2 ** 64), false, 'beyond int64');
  assert.equal(inRange('-9223372036854775808', -(2 ** 63), 0), true);
  assert.equal(inRange('0000000000000000000005', 0, 10), true, 'leading zeros');
  // 2^60 - 1 rounds to 2^60 as a double; exact parsing keeps it below the range.
  assert.equal(inRange('1152921504606846976', 2 ** 60, 2 ** 60 + 256), true);
  assert.equal(inRange('1152921504606846975', 2 ** 60, 2 ** 60 + 256), false);
});
