// Tests for the RE2-to-RegExp compatibility check.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRegexCompatibility } from './regex.js';

test('regexes with the same meaning in RE2 and RegExp pass', () => {
  for (const re of [
    '/api/v[0-9]+/.*',
    '^/users/(?<id>\\d+)$',
    '[^/]+\\.(png|jpg)',
    '/a\\]b',
    '(?:ab)+?',
    '[\\]a]',
  ]) {
    assert.equal(checkRegexCompatibility(re), null, re);
  }
});

test('RE2-incompatible or differently-read constructs are refused with a reason', () => {
  const cases: [string, RegExp][] = [
    ['(?=a)b', /lookahead/],
    ['(?<!a)b', /lookbehind/],
    ['(a)\\1', /backreferences/],
    ['(?<n>a)\\k<n>', /named backreferences/],
    ['[[:digit:]]+', /POSIX/],
    ['(?i)abc', /inline flags/],
    ['(?P<id>\\d+)', /\(\?<name>/],
    ['[]a]', /first in a character class/],
    ['\\Aabc\\z', /does not compile/],
    ['\\pN', /does not compile/],
    ['a{,3}', /does not compile/],
    ['(unclosed', /does not compile/],
  ];
  for (const [re, why] of cases) {
    const problem = checkRegexCompatibility(re);
    assert.ok(problem !== null, `expected ${re} to be refused`);
    assert.match(problem, why, re);
  }
});
