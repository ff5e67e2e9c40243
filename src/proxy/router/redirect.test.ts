// Redirect Location building (Envoy Utility::newUri): each field on its own and the
// port rules when the scheme changes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RedirectAction } from '../../config/model.js';
import { redirect, req } from './route-fixtures.js';
import { buildRedirectLocation } from './route-table.js';

const loc = (
  authority: string,
  path: string,
  r: Partial<RedirectAction>,
  opts = {},
  matched: string | null = null,
) => buildRedirectLocation(req(authority, path, [], opts), redirect(r), matched);

test('nothing configured: the request URL', () => {
  assert.equal(loc('a.com:8080', '/p?q=1', {}), 'http://a.com:8080/p?q=1');
  assert.equal(loc('a.com', '/p', {}, { scheme: 'https' }), 'https://a.com/p');
});

test('scheme_redirect drops the port that was the default of the old scheme', () => {
  assert.equal(loc('a.com', '/p', { schemeRedirect: 'https' }), 'https://a.com/p');
  assert.equal(loc('a.com:80', '/p', { schemeRedirect: 'https' }), 'https://a.com/p');
  assert.equal(loc('a.com:8080', '/p', { schemeRedirect: 'https' }), 'https://a.com:8080/p');
  assert.equal(loc('a.com:443', '/', { schemeRedirect: 'http' }, { scheme: 'https' }), 'http://a.com/');
  // :80 is not https's default, so it stays when leaving https.
  assert.equal(loc('a.com:80', '/', { schemeRedirect: 'http' }, { scheme: 'https' }), 'http://a.com:80/');
  // Same scheme: nothing changes.
  assert.equal(loc('a.com:80', '/', { schemeRedirect: 'http' }), 'http://a.com:80/');
  // IPv6 literal.
  assert.equal(loc('[::1]:80', '/', { schemeRedirect: 'https' }), 'https://[::1]/');
  assert.equal(loc('[::1]', '/', { schemeRedirect: 'https' }), 'https://[::1]/');
});

test('the request scheme for port stripping is X-Forwarded-Proto when present', () => {
  const r = buildRedirectLocation(
    req('a.com:443', '/', ['x-forwarded-proto', 'https']),
    redirect({ schemeRedirect: 'http' }),
    null,
  );
  assert.equal(r, 'http://a.com/');
});

test('host_redirect replaces the whole authority', () => {
  assert.equal(loc('a.com:8080', '/p?q', { hostRedirect: 'b.com' }), 'http://b.com/p?q');
  assert.equal(loc('a.com:8080', '/p', { hostRedirect: 'b.com', portRedirect: 9000 }), 'http://b.com:9000/p');
});

test('port_redirect replaces the request port', () => {
  assert.equal(loc('a.com:8080', '/p', { portRedirect: 9000 }), 'http://a.com:9000/p');
  assert.equal(loc('a.com', '/p', { portRedirect: 9000 }), 'http://a.com:9000/p');
  assert.equal(loc('[::1]:8080', '/', { portRedirect: 9000 }), 'http://[::1]:9000/');
  assert.equal(loc('[::1]', '/', { portRedirect: 9000 }), 'http://[::1]:9000/');
  assert.equal(loc('a.com', '/', { portRedirect: 443, schemeRedirect: 'https' }), 'https://a.com:443/');
});

test('path_redirect keeps the request query unless it has its own', () => {
  assert.equal(loc('a.com', '/old?q=1', { pathRedirect: '/new' }), 'http://a.com/new?q=1');
  assert.equal(loc('a.com', '/old', { pathRedirect: '/new' }), 'http://a.com/new');
  assert.equal(loc('a.com', '/old?q=1', { pathRedirect: '/new?x=2' }), 'http://a.com/new?x=2');
  assert.equal(loc('a.com', '/old', { pathRedirect: 'new' }), 'http://a.com/new', 'a leading "/" is added');
});

test('strip_query drops the query, except one given in path_redirect', () => {
  assert.equal(loc('a.com', '/p?q=1', { stripQuery: true }), 'http://a.com/p');
  assert.equal(loc('a.com', '/old?q=1', { pathRedirect: '/new', stripQuery: true }), 'http://a.com/new');
  assert.equal(
    loc('a.com', '/old?q=1', { pathRedirect: '/new?x=2', stripQuery: true }),
    'http://a.com/new?x=2',
  );
});

test('prefix_rewrite swaps the matched prefix (or the whole path part)', () => {
  assert.equal(loc('a.com', '/old/a?q=1', { prefixRewrite: '/new' }, {}, '/old'), 'http://a.com/new/a?q=1');
  assert.equal(
    loc('a.com', '/old/a?q=1', { prefixRewrite: '/new', stripQuery: true }, {}, '/old'),
    'http://a.com/new/a',
  );
  assert.equal(loc('a.com', '/exact?q=1', { prefixRewrite: '/other' }, {}, null), 'http://a.com/other?q=1');
  // The compiled route may be passed instead of its prefix.
  const viaRoute = buildRedirectLocation(req('a.com', '/old/b'), redirect({ prefixRewrite: '/n/' }), {
    matchedPrefix: '/old/',
  });
  assert.equal(viaRoute, 'http://a.com/n/b');
});

test('everything at once', () => {
  assert.equal(
    loc(
      'a.com:80',
      '/x?q=1',
      {
        schemeRedirect: 'https',
        hostRedirect: 'b.org',
        portRedirect: 8443,
        pathRedirect: '/y',
        stripQuery: true,
      },
      {},
    ),
    'https://b.org:8443/y',
  );
});
