// Access-log filters through `weft proxy`: an errors-only log (status_code_filter GE 500, or
// any response flag), a log of requests carrying a debug header, and a 0% sample that logs
// nothing. Lines that must not be there are checked after a later line that must, so the
// batching sink has written everything before them.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  bootstrap,
  httpListener,
  logLinesStartingWith,
  type RunningProxy,
  request,
  startProxy,
  staticCluster,
  tempDir,
} from './support/harness.js';

const FILE_LOG = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';

function filteredLog(path: string, filter: unknown) {
  return {
    name: 'log',
    filter,
    typed_config: {
      '@type': FILE_LOG,
      path,
      log_format: { text_format: '%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS%\n' },
    },
  };
}

describe('access log filters', () => {
  let proxy: RunningProxy;
  let errors: string;
  let debug: string;
  let none: string;

  before(async () => {
    const dir = tempDir('weft-log-filter-');
    errors = join(dir, 'errors.log');
    debug = join(dir, 'debug.log');
    none = join(dir, 'none.log');
    const status = (code: number) => ({
      match: { prefix: `/${code}` },
      direct_response: { status: code, body: { inline_string: `${code}\n` } },
    });
    const vhosts = [
      {
        name: 'all',
        domains: ['*'],
        routes: [
          status(200),
          status(404),
          status(503),
          { match: { prefix: '/dead' }, route: { cluster: 'dead' } },
        ],
      },
    ];
    proxy = await startProxy(
      bootstrap(
        [
          httpListener('in', vhosts, {
            access_log: [
              filteredLog(errors, {
                or_filter: {
                  filters: [
                    {
                      status_code_filter: {
                        comparison: { op: 'GE', value: { default_value: 500, runtime_key: 'k' } },
                      },
                    },
                    { response_flag_filter: {} },
                  ],
                },
              }),
              filteredLog(debug, { header_filter: { header: { name: 'x-debug', present_match: true } } }),
              filteredLog(none, { runtime_filter: { runtime_key: 'k', percent_sampled: { numerator: 0 } } }),
            ],
          }),
        ],
        [staticCluster('dead', [])],
      ),
    );
  });

  after(async () => {
    await proxy.close();
  });

  it('an errors-only log: 5xx responses and flagged requests, not 200 or 404', async () => {
    for (const path of ['/200', '/404', '/dead', '/503']) await request(proxy.port('in'), path);
    assert.deepEqual(await logLinesStartingWith(errors, '', 2), ['/dead 503 UH', '/503 503 -']);
  });

  it('a header_filter log and a 0% sample', async () => {
    await request(proxy.port('in'), '/200');
    await request(proxy.port('in'), '/404', { headers: { 'x-debug': '1' } });
    assert.deepEqual(await logLinesStartingWith(debug, '', 1), ['/404 404 -']);
    // The errors log is written in order: once this 503 is there, the 0% log has had its chance.
    await request(proxy.port('in'), '/503');
    await logLinesStartingWith(errors, '/503', 2);
    assert.deepEqual(await logLinesStartingWith(none, '', 0), []);
  });
});
