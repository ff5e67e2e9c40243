// prefix_rewrite: the matched prefix (or whole path part) is replaced; the query stays.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RouteMatch } from '../../config/model.js';
import { cluster, deps, match, redirect, req, route, routeConfig, vhost } from './route-fixtures.js';
import { compileRouteTable, rewritePath } from './route-table.js';

function rewrite(m: RouteMatch, prefixRewrite: string | null, path: string): string | null {
  const table = compileRouteTable(
    routeConfig([vhost('vh', ['*'], [route(m, cluster('c', { prefixRewrite }))])]),
    deps(),
  );
  const r = table.select(req('h', path));
  assert.ok(r, `route should match ${path}`);
  return rewritePath(path, r);
}

test('prefix routes: the matched prefix is swapped, the query is kept', () => {
  const m = match({ kind: 'prefix', value: '/api' });
  assert.equal(rewrite(m, '/v1', '/api/users'), '/v1/users');
  assert.equal(rewrite(m, '/v1', '/api/users?x=1&y=/api'), '/v1/users?x=1&y=/api');
  assert.equal(rewrite(m, '/v1', '/api?x=1'), '/v1?x=1');
  assert.equal(rewrite(match({ kind: 'prefix', value: '/api/' }), '/', '/api/users'), '/users');
});

test('case-insensitive prefix: the same number of characters is replaced', () => {
  const m = match({ kind: 'prefix', value: '/API' }, { caseSensitive: false });
  assert.equal(rewrite(m, '/v1', '/api/x'), '/v1/x');
  assert.equal(rewrite(m, '/v1', '/ApI/x?Q=1'), '/v1/x?Q=1');
});

test('path and regex routes: the whole path part is swapped, the query is kept', () => {
  assert.equal(
    rewrite(match({ kind: 'path', value: '/login' }), '/auth/login', '/login?next=/a'),
    '/auth/login?next=/a',
  );
  assert.equal(rewrite(match({ kind: 'path', value: '/login' }), '/auth/login', '/login'), '/auth/login');
  assert.equal(rewrite(match({ kind: 'safe_regex', regex: '/u/[0-9]+' }), '/user', '/u/42?v=2'), '/user?v=2');
});

test('no rewrite configured (null or "") or not a route action → null', () => {
  const m = match({ kind: 'prefix', value: '/' });
  assert.equal(rewrite(m, null, '/a'), null);
  assert.equal(rewrite(m, '', '/a'), null);
  const table = compileRouteTable(
    routeConfig([vhost('vh', ['*'], [route(m, redirect({ prefixRewrite: '/x' }))])]),
    deps(),
  );
  assert.equal(rewritePath('/a', table.select(req('h', '/a'))!), null);
});

test('regex_rewrite: every match in the path part, with \\N groups; the query is kept; $ is literal', () => {
  const run = (regex: string, substitution: string, path: string) => {
    const table = compileRouteTable(
      routeConfig([
        vhost(
          'vh',
          ['*'],
          [
            route(
              match({ kind: 'prefix', value: '/' }),
              cluster('c', { regexRewrite: { regex, substitution } }),
            ),
          ],
        ),
      ]),
      deps(),
    );
    return rewritePath(path, table.select(req('h', path))!);
  };
  assert.equal(
    run('^/service/([^/]+)(/.*)$', '\\2/instance/\\1', '/service/foo/v1/api?x=/service/a'),
    '/v1/api/instance/foo?x=/service/a',
  );
  assert.equal(run('one', 'two', '/xxx/one/yyy/one/zzz'), '/xxx/two/yyy/two/zzz');
  assert.equal(run('^/.*$', '/cost$1', '/a'), '/cost$1');
});
