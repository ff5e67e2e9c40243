// gRPC through `weft proxy` (the real CLI, Envoy-shaped YAML): a @grpc/grpc-js client and
// server pair over h2c on both sides — unary, client streaming, server streaming (a large
// stream, through both sessions' flow control), bidi ping-pong; grpc-timeout honoured
// through route max_stream_duration (the proxy answers DEADLINE_EXCEEDED); a dead upstream
// and an unknown method answered by the proxy as gRPC statuses (UNAVAILABLE, UNIMPLEMENTED).

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:http2';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Client, status } from '@grpc/grpc-js';
import YAML from 'yaml';
import {
  bidiPingPong,
  clientStreaming,
  serverStreaming,
  startStreamsServer,
  streamsClient,
  unary,
} from './support/grpc-streams.js';
import {
  bootstrap,
  fileAccessLog,
  httpListener,
  listenerPort,
  logLinesStartingWith,
  type SpawnedProxy,
  spawnProxy,
  staticCluster,
  tempDir,
} from './support/harness.js';

const KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const H2_UPSTREAM = {
  typed_extension_protocol_options: {
    [KEY]: { '@type': `type.googleapis.com/${KEY}`, explicit_http_config: { http2_protocol_options: {} } },
  },
};

/** A port nothing listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('gRPC through weft proxy', () => {
  let backend: Awaited<ReturnType<typeof startStreamsServer>>;
  let proxy: SpawnedProxy;
  let port: number;
  let client: Client;
  let accessLog: string;

  before(async () => {
    accessLog = join(tempDir(), 'access.log');
    backend = await startStreamsServer('srv');
    const vhosts = [
      {
        name: 'grpc',
        domains: ['*'],
        routes: [
          {
            match: { prefix: '/weft.test.Streams/Hang' },
            // The offset makes the proxy time out 900 ms before the deadline the backend sees
            // (Envoy's reason for grpc_timeout_header_offset), so the proxy's answer wins.
            route: {
              cluster: 'grpc',
              timeout: '0s',
              max_stream_duration: { grpc_timeout_header_max: '0s', grpc_timeout_header_offset: '0.9s' },
            },
          },
          { match: { prefix: '/weft.test.Streams/' }, route: { cluster: 'grpc', timeout: '0s' } },
          { match: { prefix: '/weft.test.Dead/' }, route: { cluster: 'dead', timeout: '0s' } },
        ],
      },
    ];
    const config = bootstrap(
      [
        httpListener('grpc', vhosts, {
          access_log: fileAccessLog(
            accessLog,
            '%REQ(:PATH)% %GRPC_STATUS% %TRAILER(GRPC-STATUS)% %RESPONSE_TRAILERS_BYTES%\n',
          ),
        }),
      ],
      [
        staticCluster('grpc', [backend.port], H2_UPSTREAM),
        staticCluster('dead', [await deadPort()], H2_UPSTREAM),
      ],
    );
    const file = join(tempDir(), 'envoy.yaml');
    writeFileSync(file, YAML.stringify(config));
    proxy = await spawnProxy(file);
    port = await listenerPort(proxy.adminAddress, 'grpc');
    client = streamsClient(`127.0.0.1:${port}`);
  });
  after(async () => {
    client?.close();
    proxy?.child.kill('SIGTERM');
    await proxy?.exited;
    backend?.server.forceShutdown();
  });

  it('unary', async () => {
    assert.equal(await unary(client, 'Say', 'hi'), 'srv hi');
  });

  it("the access log sees the upstream's trailers (grpc-status)", async () => {
    assert.equal(await unary(client, 'Say', 'logged'), 'srv logged');
    const [line] = await logLinesStartingWith(accessLog, '/weft.test.Streams/Say ', 1);
    const [, grpcStatus, trailer, trailerBytes] = line.split(' ');
    assert.equal(grpcStatus, 'Ok'); // Envoy's default CAMEL_STRING form
    assert.equal(trailer, '0');
    assert.ok(Number(trailerBytes) >= 'grpc-status'.length + 1, `trailer bytes ${trailerBytes}`);
  });

  it('client streaming', async () => {
    assert.equal(await clientStreaming(client, ['a', 'b', 'c', 'd']), 'a+b+c+d');
  });

  it('server streaming, 2000 messages through both sessions', async () => {
    const got = await serverStreaming(client, 2000);
    assert.equal(got.length, 2000);
    assert.equal(got[0], '1');
    assert.equal(got[1999], '2000');
  });

  it('bidi: each message waits for the previous echo', async () => {
    const msgs = Array.from({ length: 20 }, (_, i) => `m${i}`);
    assert.deepEqual(
      await bidiPingPong(client, msgs),
      msgs.map((m) => `echo:${m}`),
    );
  });

  it('grpc-timeout is honoured by the proxy: DEADLINE_EXCEEDED from the proxy', async () => {
    // A raw HTTP/2 gRPC request with grpc-timeout and no deadline of its own (grpc-js would
    // also time the call out itself): only the proxy can end it.
    const session = connect(`http://127.0.0.1:${port}`);
    try {
      const head = await new Promise<{ h: Record<string, unknown>; end: boolean }>((resolve, reject) => {
        const req = session.request({
          ':method': 'POST',
          ':path': '/weft.test.Streams/Hang',
          'content-type': 'application/grpc',
          te: 'trailers',
          'grpc-timeout': '1S', // the proxy: 1 s - 0.9 s = 100 ms
        });
        req.on('response', (h, flags) => resolve({ h, end: (flags & 1) !== 0 }));
        req.on('error', reject);
        // One empty gRPC message (5-byte prefix), then the end of the request.
        req.end(Buffer.alloc(5));
      });
      assert.equal(head.h[':status'], 200);
      assert.equal(head.h['grpc-status'], String(status.DEADLINE_EXCEEDED));
      assert.equal(head.h['grpc-message'], 'upstream request timeout');
      assert.equal(head.end, true);
    } finally {
      session.close();
    }
  });

  it('a client deadline that expires', async () => {
    await assert.rejects(
      unary(client, 'Hang', 'x', new Date(Date.now() + 200)),
      (e: { code: number }) => e.code === status.DEADLINE_EXCEEDED,
    );
  });

  it('a dead upstream is UNAVAILABLE from the proxy, as a trailers-only response', async () => {
    const dead = streamsClient(`127.0.0.1:${port}`);
    try {
      await assert.rejects(
        new Promise((resolve, reject) =>
          dead.makeUnaryRequest(
            '/weft.test.Dead/Say',
            (b: Buffer) => b,
            (b: Buffer) => b,
            Buffer.from('x'),
            (err, r) => (err ? reject(err) : resolve(r)),
          ),
        ),
        (e: { code: number; details: string }) => {
          assert.equal(e.code, status.UNAVAILABLE);
          assert.match(e.details, /connection failure/);
          return true;
        },
      );
    } finally {
      dead.close();
    }
    // On the wire: HTTP 200, grpc-status 14 in the HEADERS frame that ends the stream.
    const session = connect(`http://127.0.0.1:${port}`);
    try {
      const head = await new Promise<{ h: Record<string, unknown>; end: boolean }>((resolve, reject) => {
        const req = session.request({
          ':method': 'POST',
          ':path': '/weft.test.Dead/Say',
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        req.on('response', (h, flags) => resolve({ h, end: (flags & 1) !== 0 }));
        req.on('error', reject);
        req.end();
      });
      assert.equal(head.h[':status'], 200);
      assert.equal(head.h['grpc-status'], '14');
      assert.equal(head.end, true);
    } finally {
      session.close();
    }
  });

  it('no route is UNIMPLEMENTED', async () => {
    await assert.rejects(
      new Promise((resolve, reject) =>
        client.makeUnaryRequest(
          '/other.Service/X',
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.from('x'),
          (err, r) => (err ? reject(err) : resolve(r)),
        ),
      ),
      (e: { code: number }) => e.code === status.UNIMPLEMENTED,
    );
  });
});
