// Microbenchmark of the proxy's per-request JS work without sockets: parse a request
// head, select a route, build the upstream head, parse a 1 KiB response, build the
// downstream head and coalesce it with the body. Prints microseconds per request.
//   npm run build && node dist/bench/micro.js [iterations]
// It isolates Weft's own code from Node/kernel I/O cost (see docs/benchmarks.md).

import type { RouteConfiguration } from '../src/config/model.js';
import { createRequestIdGenerator } from '../src/proxy/http/request-id.js';
import { stripHopByHop } from '../src/proxy/http1/hop-by-hop.js';
import { DEFAULT_PARSER_LIMITS, type RequestHead, RequestParser } from '../src/proxy/http1/request-parser.js';
import { type ResponseHead, ResponseParser } from '../src/proxy/http1/response-parser.js';
import { requestHeadBytes, responseHeadBytes } from '../src/proxy/http1/serialize.js';
import { compileRouteTable } from '../src/proxy/router/route-table.js';
import { createStreamInfo } from '../src/proxy/stream-info.js';

const NO_MUTATIONS = {
  requestHeadersToAdd: [],
  requestHeadersToRemove: [],
  responseHeadersToAdd: [],
  responseHeadersToRemove: [],
};

const routes: RouteConfiguration = {
  name: 'micro',
  ...NO_MUTATIONS,
  virtualHosts: [
    {
      name: 'all',
      domains: ['*'],
      ...NO_MUTATIONS,
      routes: [
        {
          name: 'all',
          ...NO_MUTATIONS,
          match: {
            path: { kind: 'prefix', value: '/' },
            caseSensitive: true,
            headers: [],
            queryParameters: [],
          },
          action: {
            kind: 'route',
            cluster: { kind: 'cluster', name: 'backend' },
            timeoutMs: 15_000,
            prefixRewrite: null,
            hostRewriteLiteral: null,
          },
        },
      ],
    },
  ],
};

/** As the proxy makes them (proxy-server.ts). */
const newRequestId = createRequestIdGenerator();

const REQUEST = Buffer.from(
  'GET / HTTP/1.1\r\nHost: 127.0.0.1:10000\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n',
);
const RESPONSE = Buffer.from(
  'HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Wed, 25 Nov 2026 20:00:00 GMT\r\nContent-Type: text/plain\r\n' +
    `Content-Length: 1024\r\nConnection: keep-alive\r\n\r\n${'x'.repeat(1024)}`,
);

function main(): void {
  const iterations = Number(process.argv[2] ?? 300_000);
  const table = compileRouteTable(routes, { random: Math.random, compileHeaderValue: (v) => () => v });
  let head: RequestHead | null = null;
  let rhead: ResponseHead | null = null;
  let sink = 0;
  const requests = new RequestParser(
    {
      onRequestHead: (h) => {
        head = h;
      },
      onBody: () => {},
      onMessageComplete: () => false,
    },
    DEFAULT_PARSER_LIMITS,
  );
  const responses = new ResponseParser(
    {
      onResponseHead: (h) => {
        rhead = h;
      },
      onBody: (c) => {
        sink += c.length;
      },
      onMessageComplete: () => {},
    },
    DEFAULT_PARSER_LIMITS,
  );
  const one = (): void => {
    requests.execute(REQUEST);
    const h = head as unknown as RequestHead;
    createStreamInfo();
    const route = table.select({
      authority: h.authority,
      path: h.target,
      method: h.method,
      scheme: 'http',
      headers: h.headers,
    });
    if (route === null) throw new Error('no route');
    stripHopByHop(h.headers, h.connectionTokens);
    h.headers.push('x-request-id', newRequestId(), 'x-forwarded-proto', 'http');
    sink += requestHeadBytes(h.method, h.target, h.authority, h.headers, { kind: 'none' }).length;
    responses.expect('GET');
    responses.execute(RESPONSE);
    const r = rhead as unknown as ResponseHead;
    stripHopByHop(r.headers, r.connectionTokens);
    r.headers.push('x-envoy-upstream-service-time', '1', 'server', 'weft');
    // As the downstream connection does: the head and the body coalesced into one buffer.
    const out = responseHeadBytes(200, r.headers, { kind: 'length', length: 1024 }, 1);
    const buf = Buffer.allocUnsafe(out.length + 1024);
    out.copy(buf, 0);
    sink += buf.length;
  };
  for (let i = 0; i < iterations / 2; i++) one(); // warm up the JIT
  const start = performance.now();
  for (let i = 0; i < iterations; i++) one();
  const us = ((performance.now() - start) * 1000) / iterations;
  process.stdout.write(
    `${us.toFixed(2)} µs of Weft JS work per proxied request (${iterations} iterations, ${sink > 0 ? 'ok' : '?'})\n`,
  );
}

main();
