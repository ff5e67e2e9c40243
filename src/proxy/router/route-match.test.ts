// Route selection within a virtual host: config order (first match wins) and the three
// path match kinds, compared against the path part only.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RouteMatch } from '../../config/model.js';
import { cluster, deps, direct, header, match, req, route, routeConfig, vhost } from './route-fixtures.js';
import { compileRouteTable } from './route-table.js';

/** Name of the route a single-vhost table with one route of match `m` picks for `path`. */
function matches(m: RouteMatch, path: string): boolean {
  const table = compileRouteTable(
    routeConfig([vhost('vh', ['*'], [route(m, direct(), { name: 'r' })])]),
    deps(),
  );
  return table.select(req('h', path)) !== null;
}

test('routes are evaluated in order; the first match wins', () => {
  const table = compileRouteTable(
    routeConfig([
      vhost(
        'vh',
        ['*'],
        [
          route(match({ kind: 'path', value: '/exact' }), cluster('a'), { name: 'exact' }),
          route(match({ kind: 'prefix', value: '/api' }), cluster('b'), { name: 'api' }),
          route(match({ kind: 'prefix', value: '/api/v2' }), cluster('c'), { name: 'never' }),
          route(match({ kind: 'prefix', value: '/' }), cluster('d'), { name: 'catch-all' }),
        ],
      ),
    ]),
    deps(),
  );
  const name = (path: string) => table.select(req('h', path))?.name;
  assert.equal(name('/exact'), 'exact');
  assert.equal(name('/exact/more'), 'catch-all');
  assert.equal(name('/api/v2/x'), 'api', 'an earlier, broader route shadows a later one');
  assert.equal(name('/apix'), 'api', 'prefix is a string prefix, not a segment prefix');
  assert.equal(name('/other'), 'catch-all');
});

test('no route in the selected virtual host → null', () => {
  const table = compileRouteTable(
    routeConfig([vhost('vh', ['*'], [route(match({ kind: 'prefix', value: '/only' }))])]),
    deps(),
  );
  assert.equal(table.select(req('h', '/other')), null);
});

test('a route does not leak into another virtual host', () => {
  const table = compileRouteTable(
    routeConfig([
      vhost('a', ['a.com'], [route(match({ kind: 'prefix', value: '/a' }), cluster('a'), { name: 'ra' })]),
      vhost('b', ['b.com'], [route(match({ kind: 'prefix', value: '/b' }), cluster('b'), { name: 'rb' })]),
    ]),
    deps(),
  );
  assert.equal(table.select(req('a.com', '/a'))?.name, 'ra');
  assert.equal(table.select(req('a.com', '/b')), null);
  assert.equal(table.select(req('b.com', '/b'))?.virtualHostName, 'b');
});

test('prefix compares the path part only, case-sensitively by default', () => {
  const m = match({ kind: 'prefix', value: '/api' });
  assert.equal(matches(m, '/api'), true);
  assert.equal(matches(m, '/api/users?x=1'), true);
  assert.equal(matches(m, '/API/users'), false);
  assert.equal(matches(m, '/ap?i'), false, 'the query is not part of the path');
  assert.equal(matches(m, '/ap#i'), false, 'nor is a fragment');
});

test('case_sensitive: false folds ASCII case for prefix and path', () => {
  const p = match({ kind: 'prefix', value: '/Api' }, { caseSensitive: false });
  assert.equal(matches(p, '/aPI/x'), true);
  assert.equal(matches(p, '/apx'), false);
  const e = match({ kind: 'path', value: '/Login' }, { caseSensitive: false });
  assert.equal(matches(e, '/LOGIN'), true);
  assert.equal(matches(e, '/login?next=/'), true);
  assert.equal(matches(e, '/login/'), false);
});

test('path is an exact match of the path part', () => {
  const m = match({ kind: 'path', value: '/a/b' });
  assert.equal(matches(m, '/a/b'), true);
  assert.equal(matches(m, '/a/b?q=1'), true);
  assert.equal(matches(m, '/a/b#frag'), true);
  assert.equal(matches(m, '/a/bc'), false);
  assert.equal(matches(m, '/a'), false);
  assert.equal(matches(m, '/A/B'), false);
});

test('safe_regex must match the whole path part (without query)', () => {
  const m = match({ kind: 'safe_regex', regex: '/users/[0-9]+' });
  assert.equal(matches(m, '/users/42'), true);
  assert.equal(matches(m, '/users/42?full=1'), true);
  assert.equal(matches(m, '/users/42/x'), false, 'a partial match is not a match');
  assert.equal(matches(m, '/x/users/42'), false);
  const alt = match({ kind: 'safe_regex', regex: '/a|/b' });
  assert.equal(matches(alt, '/b'), true, 'alternation is anchored as a whole');
  assert.equal(matches(alt, '/bc'), false);
});

test('all matchers of a route must match (path AND headers AND query)', () => {
  const m = match(
    { kind: 'prefix', value: '/' },
    {
      headers: [
        {
          name: 'x-a',
          invertMatch: false,
          treatMissingHeaderAsEmpty: false,
          match: { kind: 'present', present: true },
        },
      ],
      queryParameters: [{ name: 'q', match: { kind: 'present' } }],
    },
  );
  const table = compileRouteTable(routeConfig([vhost('vh', ['*'], [route(m)])]), deps());
  assert.notEqual(table.select(req('h', '/?q=1', ['x-a', '1'])), null);
  assert.equal(table.select(req('h', '/?q=1', [])), null);
  assert.equal(table.select(req('h', '/', ['x-a', '1'])), null);
});

test('the compiled route exposes its action, names and matched prefix', () => {
  const action = cluster('backend');
  const table = compileRouteTable(
    routeConfig([
      vhost(
        'vh',
        ['*'],
        [
          route(match({ kind: 'prefix', value: '/p' }), action, { name: 'p' }),
          route(match({ kind: 'safe_regex', regex: '/r.*' }), action, { name: 'r' }),
        ],
      ),
    ]),
    deps(),
  );
  const p = table.select(req('h', '/p/1'))!;
  assert.equal(p.action, action);
  assert.equal(p.virtualHostName, 'vh');
  assert.equal(p.matchedPrefix, '/p');
  assert.equal(table.select(req('h', '/r/1'))!.matchedPrefix, null);
});

test('connect_matcher routes match CONNECT requests only, and only they match CONNECT', () => {
  const table = compileRouteTable(
    routeConfig([
      vhost(
        'vh',
        ['*'],
        [
          route(match({ kind: 'prefix', value: '' }), cluster('a'), { name: 'empty-prefix' }),
          route(
            match(
              { kind: 'connect' },
              {
                headers: [
                  header('x-tunnel', {
                    kind: 'string',
                    matcher: { kind: 'exact', value: 'yes', ignoreCase: false },
                  }),
                ],
              },
            ),
            cluster('b'),
            {
              name: 'connect-with-header',
            },
          ),
          route(match({ kind: 'connect' }), cluster('c'), { name: 'connect' }),
        ],
      ),
    ]),
    deps(),
  );
  const name = (method: string, path: string, headers: string[] = []) =>
    table.select(req('h', path, headers, { method }))?.name;
  // An empty prefix matches every path, but never a CONNECT request.
  assert.equal(name('CONNECT', 'h:443'), 'connect');
  assert.equal(name('CONNECT', 'h:443', ['x-tunnel', 'yes']), 'connect-with-header');
  assert.equal(name('GET', '/'), 'empty-prefix');
  assert.equal(name('POST', 'h:443'), 'empty-prefix');
});

test('a CONNECT request with no connect_matcher route gets no route', () => {
  const table = compileRouteTable(
    routeConfig([vhost('vh', ['*'], [route(match({ kind: 'prefix', value: '' }), cluster('a'))])]),
    deps(),
  );
  assert.equal(table.select(req('h', 'h:443', [], { method: 'CONNECT' })), null);
});
