// Path normalization through `weft proxy`: with normalize_path and merge_slashes a route for
// /admin also takes /public/../admin, //admin and /%2e%2e/admin, and the upstream gets the
// normalized path (query untouched); escaped slashes refused (400) or redirected (307).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type Backend,
  bootstrap,
  httpListener,
  type RunningProxy,
  request,
  startBackend,
  startProxy,
  staticCluster,
} from './support/harness.js';

describe('path normalization', () => {
  let app: Backend;
  let proxy: RunningProxy;

  before(async () => {
    app = await startBackend('app');
    const vhosts = [
      {
        name: 'all',
        domains: ['*'],
        routes: [
          {
            match: { path: '/admin' },
            direct_response: { status: 403, body: { inline_string: 'admin is closed\n' } },
          },
          { match: { prefix: '/' }, route: { cluster: 'app' } },
        ],
      },
    ];
    proxy = await startProxy(
      bootstrap(
        [
          httpListener('normalized', vhosts, { normalize_path: true, merge_slashes: true }),
          httpListener('raw', vhosts),
          httpListener('reject', vhosts, { path_with_escaped_slashes_action: 'REJECT_REQUEST' }),
          httpListener('redirect', vhosts, {
            normalize_path: true,
            path_with_escaped_slashes_action: 'UNESCAPE_AND_REDIRECT',
          }),
        ],
        [staticCluster('app', [app.port])],
      ),
    );
  });

  after(async () => {
    await proxy.close();
    await app.close();
  });

  it('normalize_path + merge_slashes: every spelling of /admin meets the /admin route', async () => {
    for (const path of ['/admin', '/public/../admin', '//admin', '/%2e%2e/admin', '/x/./..//admin']) {
      const res = await request(proxy.port('normalized'), path);
      assert.equal(res.status, 403, path);
    }
    const raw = await request(proxy.port('raw'), '/public/../admin');
    assert.equal(raw.status, 200, 'without normalization the route does not see /admin');
  });

  it('the upstream gets the normalized path, the query as it came', async () => {
    await request(proxy.port('normalized'), '/a//b/./c/../d?next=/x/../y//z');
    assert.equal(app.seen.at(-1)!.url, '/a/b/d?next=/x/../y//z');
  });

  it('escaped slashes: REJECT_REQUEST answers 400, UNESCAPE_AND_REDIRECT a 307 to the unescaped path', async () => {
    const rejected = await request(proxy.port('reject'), '/files/a%2Fb');
    assert.equal(rejected.status, 400);
    assert.equal((await request(proxy.port('reject'), '/files/a/b')).status, 200);
    const redirected = await request(proxy.port('redirect'), '/files/a%2F..%2Fb?x=1');
    assert.equal(redirected.status, 307);
    assert.equal(redirected.headers.location, '/files/b?x=1');
  });
});
