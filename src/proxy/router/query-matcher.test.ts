// Query parameter matchers: parsed from the target without percent-decoding, first value
// of a name only, `present_match` and string matchers.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { QueryParameterMatcher } from '../../config/model.js';
import { deps, match, query, req, route, routeConfig, vhost } from './route-fixtures.js';
import { compileRouteTable } from './route-table.js';

function m(q: QueryParameterMatcher, target: string): boolean {
  const table = compileRouteTable(
    routeConfig([
      vhost('vh', ['*'], [route(match({ kind: 'prefix', value: '/' }, { queryParameters: [q] }))]),
    ]),
    deps(),
  );
  return table.select(req('h', target)) !== null;
}
const exact = (name: string, value: string, ignoreCase = false) =>
  query(name, { kind: 'string', matcher: { kind: 'exact', value, ignoreCase } });

test('present_match: the name appears, with or without a value', () => {
  const p = query('debug', { kind: 'present' });
  assert.equal(m(p, '/?debug'), true);
  assert.equal(m(p, '/?debug='), true);
  assert.equal(m(p, '/?a=1&debug=0&b'), true);
  assert.equal(m(p, '/?debugger=1'), false, 'a longer name is another parameter');
  assert.equal(m(p, '/?xdebug=1'), false);
  assert.equal(m(p, '/?a=debug'), false, 'values are not names');
  assert.equal(m(p, '/debug'), false, 'no query at all');
  assert.equal(m(p, '/?'), false);
  assert.equal(m(p, '/#?debug'), false, 'a "?" inside the fragment starts no query');
  assert.equal(m(p, '/?a=1#debug'), false, 'the fragment is not part of the query');
});

test('string match on the first value of the name', () => {
  const q = exact('v', '2');
  assert.equal(m(q, '/?v=2'), true);
  assert.equal(m(q, '/?v=1&v=2'), false, 'only the first value counts (Envoy)');
  assert.equal(m(q, '/?v=2&v=1'), true);
  assert.equal(m(q, '/?v=22'), false);
  assert.equal(m(q, '/?&&v=2&'), true, 'empty segments are skipped');
  assert.equal(m(exact('v', ''), '/?v'), true, 'a parameter without "=" has the value ""');
  assert.equal(m(exact('v', 'a=b'), '/?v=a=b'), true, 'split at the first "="');
});

test('values are not percent-decoded', () => {
  assert.equal(m(exact('q', 'a b'), '/?q=a%20b'), false);
  assert.equal(m(exact('q', 'a%20b'), '/?q=a%20b'), true);
  assert.equal(m(exact('q', 'a+b'), '/?q=a+b'), true);
});

test('ignore_case and the other string kinds apply to the value', () => {
  assert.equal(m(exact('t', 'YES', true), '/?t=yes'), true);
  assert.equal(m(exact('t', 'YES'), '/?t=yes'), false);
  assert.equal(
    m(query('t', { kind: 'string', matcher: { kind: 'prefix', value: 'ab', ignoreCase: false } }), '/?t=abc'),
    true,
  );
  assert.equal(
    m(query('t', { kind: 'string', matcher: { kind: 'safe_regex', regex: '[0-9]+' } }), '/?t=123'),
    true,
  );
  assert.equal(
    m(query('t', { kind: 'string', matcher: { kind: 'safe_regex', regex: '[0-9]+' } }), '/?t=12a'),
    false,
  );
});

test('a missing parameter never matches a string matcher', () => {
  assert.equal(m(exact('v', ''), '/?w=1'), false);
  assert.equal(m(exact('v', ''), '/'), false);
});
