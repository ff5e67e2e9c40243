// retry_on refused-stream with an HTTP/2 upstream that refuses every other stream
// (RST_STREAM REFUSED_STREAM): a route with refused-stream retries the refused attempt and
// the client sees 200; a route whose retry_on does not cover resets answers 502.
// And a stream the upstream's GOAWAY leaves out (above its last stream: never processed,
// RFC 9113 §6.8) goes again on a fresh connection with no retry policy at all, as a request
// that raced an HTTP/1.1 keep-alive close does; a request with a body is not replayed.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HeaderList } from '../src/proxy/http/headers.js';
import { FRAME_HEADERS, NO_ERROR, REFUSED_STREAM } from '../src/proxy/http2/frames.js';
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

/** A proxy with listener `l` routing to cluster `h2`: the frame server, over HTTP/2. */
function proxyToH2(upstream: FrameServer, routes: unknown[]): Promise<RunningProxy> {
  return startProxy(
    bootstrap(
      [httpListener('l', [{ name: 'v', domains: ['*'], routes }])],
      [
        staticCluster(
          'h2',
          [Number(new URL(upstream.url).port)],
          protocolOptions({ explicit_http_config: { http2_protocol_options: {} } }),
        ),
      ],
    ),
  );
}

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
    proxy = await proxyToH2(upstream, [
      route('/retry', 'refused-stream'),
      route('/no-retry', 'retriable-4xx'),
    ]);
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

describe('a stream left out by an upstream GOAWAY', () => {
  let upstream: FrameServer;
  let proxy: RunningProxy;
  let connections = 0;
  const answered: string[] = [];

  before(async () => {
    // Each connection answers its first request, then meets the next one with GOAWAY
    // (last stream: the first one) and closes: the second request was never processed.
    upstream = await startFrameServer((writer, socket) => {
      const connection = ++connections;
      let first = 0;
      return {
        onFrame(type, _flags, stream) {
          if (type !== FRAME_HEADERS) return;
          if (first !== 0) {
            writer.goaway(first, NO_ERROR, 'restarting');
            setImmediate(() => socket.end());
            return;
          }
          first = stream;
          answered.push(`connection ${connection} stream ${stream}`);
          const fields: HeaderList = [':status', '200', 'content-length', '2'];
          const block = Buffer.alloc(headerBlockBound(fields));
          writer.headers(stream, block, 0, encodeHeaderBlock(fields, block, 0), false);
          writer.data(stream, Buffer.from('ok'), 0, 2, true);
        },
      };
    });
    proxy = await proxyToH2(upstream, [{ match: { prefix: '/' }, route: { cluster: 'h2' } }]);
  });
  after(async () => {
    await proxy.close();
    upstream.close();
  });

  it('sends the request again on a fresh connection, with no retry policy', async () => {
    const a = await request(proxy.port('l'), '/a');
    assert.equal(a.status, 200);
    const b = await request(proxy.port('l'), '/b');
    assert.equal(b.status, 200, 'the request the GOAWAY left out, sent again');
    assert.equal(b.body, 'ok');
    assert.deepEqual(answered, ['connection 1 stream 1', 'connection 2 stream 1']);
    assert.equal(connections, 2);
  });

  it('does not replay a request with a body: 502', async () => {
    const c = await request(proxy.port('l'), '/c', { method: 'POST', body: 'payload' });
    assert.equal(c.status, 502);
  });
});
