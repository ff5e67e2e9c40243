// Path normalization without sockets: dot segments (with %2e), merged slashes, the four
// escaped-slash actions, and the query string left alone.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  mergeSlashes,
  normalizeRequestPath,
  type PathNormalization,
  removeDotSegments,
  unescapeSlashes,
} from './path-normalize.js';

const ALL: PathNormalization = { normalizePath: true, mergeSlashes: true, escapedSlashes: 'KEEP_UNCHANGED' };

describe('path normalization', () => {
  test('remove_dot_segments, RFC 3986 §5.2.4 (and %2e as a dot)', () => {
    const cases: [string, string][] = [
      ['/a/b/c/./../../g', '/a/g'],
      ['/mid/content=5/../6', '/mid/6'],
      ['/public/../admin', '/admin'],
      ['/../../admin', '/admin'],
      ['/a/.', '/a/'],
      ['/a/..', '/'],
      ['/%2e%2E/admin', '/admin'],
      ['/a/.%2e/b', '/b'],
      ['/a/..b/c', '/a/..b/c'],
      ['/a/.hidden', '/a/.hidden'],
      ['/plain/path', '/plain/path'],
    ];
    for (const [input, out] of cases) assert.equal(removeDotSegments(input), out, input);
  });

  test('merge_slashes and unescaping slashes', () => {
    assert.equal(mergeSlashes('//a///b/'), '/a/b/');
    assert.equal(mergeSlashes('/a/b'), '/a/b');
    assert.equal(unescapeSlashes('/a%2Fb%2fc%5Cd%5c'), '/a/b/c\\d\\');
    assert.equal(unescapeSlashes('/a/b'), null);
  });

  test('the query string is never touched; targets that are not paths are passed through', () => {
    assert.deepEqual(normalizeRequestPath('//x/../y?a=/../b//c', ALL), {
      action: 'continue',
      path: '/y?a=/../b//c',
    });
    assert.deepEqual(normalizeRequestPath('*', ALL), { action: 'continue', path: '*' });
  });

  test('escaped slashes: keep, reject, unescape and forward, unescape and redirect', () => {
    const with_ = (escapedSlashes: PathNormalization['escapedSlashes']) =>
      normalizeRequestPath('/a%2F..%2Fadmin?x=%2F', { ...ALL, escapedSlashes });
    assert.deepEqual(with_('KEEP_UNCHANGED'), { action: 'continue', path: '/a%2F..%2Fadmin?x=%2F' });
    assert.deepEqual(with_('REJECT_REQUEST'), { action: 'reject' });
    assert.deepEqual(with_('UNESCAPE_AND_FORWARD'), { action: 'continue', path: '/admin?x=%2F' });
    assert.deepEqual(with_('UNESCAPE_AND_REDIRECT'), { action: 'redirect', path: '/admin?x=%2F' });
    assert.deepEqual(normalizeRequestPath('/plain', { ...ALL, escapedSlashes: 'REJECT_REQUEST' }), {
      action: 'continue',
      path: '/plain',
    });
  });
});
