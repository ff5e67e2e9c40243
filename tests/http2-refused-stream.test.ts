// retry_on refused-stream with an HTTP/2 upstream that refuses every other stream
// (RST_STREAM REFUSED_STREAM): a route with refused-stream retries the refused attempt and
// the client sees 200; a route whose retry_on does not cover resets answers 502.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HeaderList } from '../src/proxy/http/headers.js';
import { FRAME_HEADERS, REFUSED_STREAM } from '../src/proxy/http2/frames.js';
import { encodeHeaderBlock, headerBlockBound } from '../src/proxy/http2/hpack/encoder.js';
import { type FrameServer, startFrameServer } from '../src/proxy/http2/testing/frame-server.js';
import {
  bootstrap,
  httpListener,
  protocolOptions,
  type RunningProxy,
  request,
  startProxy,
  staticCluster,
} from './support/harness.js';

describe('retry_on refused-stream', () => {
  let upstream: FrameServer;
  let proxy: RunningProxy;
  let requests = 0;

  before(async () => {
    upstream = await startFrameServer((writer) => ({
      onFrame(type, _flags, stream) {
        if (type !== FRAME_HEADERS) return;
        requests++;
        if (requests % 2 === 1) {
          writer.rstStream(stream, REFUSED_STREAM);
          return;
        }
        const fields: HeaderList = [':status', '200', 'content-length', '2'];
        const block = Buffer.alloc(headerBlockBound(fields));
        writer.headers(stream, block, 0, encodeHeaderBlock(fields, block, 0), false);
        writer.data(stream, Buffer.from('ok'), 0, 2, true);
      },
    }));
    const route = (prefix: string, retryOn: string) => ({
      match: { prefix },
      route: { cluster: 'h2', retry_policy: { retry_on: retryOn, num_retries: 1 } },
    });
    proxy = await startProxy(
      bootstrap(
        [
          httpListener('l', [
            {
              name: 'v',
              domains: ['*'],
              routes: [route('/retry', 'refused-stream'), route('/no-retry', 'retriable-4xx')],
            },
          ]),
        ],
        [
          staticCluster(
            'h2',
            [Number(new URL(upstream.url).port)],
            protocolOptions({ explicit_http_config: { http2_protocol_options: {} } }),
          ),
        ],
      ),
    );
  });
  after(async () => {
    await proxy.close();
    upstream.close();
  });

  it('retries a refused stream; without refused-stream (or reset) in retry_on, it is a 502', async () => {
    const retried = await request(proxy.port('l'), '/retry');
    assert.equal(retried.status, 200);
    assert.equal(retried.body, 'ok');
    assert.equal(requests, 2, 'the refused attempt and its retry');
    const plain = await request(proxy.port('l'), '/no-retry');
    assert.equal(plain.status, 502);
    assert.equal(requests, 3, 'no retry');
  });
});
