// Spike (docs/benchmarks.md, "The sixteenth round"): what HTTP/1.1 work costs per request at
// 1000 requests/s, on top of a byte relay over Weft's native socket layer (native/socket-io.c).
// Each MODE adds one piece of work to the same relay; the bytes forwarded are unchanged
// except in `ser`, which forwards the heads Weft's serializers write.
//
//   MODE=raw     bytes only: one upstream connection per downstream one
//   MODE=coffs   C finds each head's field offsets (split.c); JS decodes the start line only
//   MODE=slice   JS finds the head's end and decodes it as one latin1 string
//   MODE=split   slice, then a string per header name (lower-cased) and value, in an array
//   MODE=csplit  the same strings, made in C through N-API (split.c)
//   MODE=parse   Weft's request and response parsers (src/proxy/http1)
//   MODE=ser     parse, then Weft's serializers write the heads that are forwarded
//
// Run after `npm ci` (dist/ built), next to a backend on BACKEND (default 18500):
//   cc -O2 -shared -fPIC -I"$(dirname "$(dirname "$(command -v node)")")/include/node" \
//     bench/spikes/header-cost/split.c -o /tmp/split.node
//   MODE=split PORT=18524 node --max-semi-space-size=1 --no-allocation-site-pretenuring \
//     --no-parallel-scavenge bench/spikes/header-cost/relay.mjs
// then load it with `hey -z 5s -c 16 -q 62.5` and read its CPU from /proc/PID/task/*/schedstat.

import { createRequire } from 'node:module';
import net from 'node:net';
import { DEFAULT_PARSER_LIMITS, RequestParser } from '../../../dist/src/proxy/http1/request-parser.js';
import { ResponseParser } from '../../../dist/src/proxy/http1/response-parser.js';
import { requestHeadBytes, responseHeadBytes } from '../../../dist/src/proxy/http1/serialize.js';
import { loadNativeSocketIo } from '../../../dist/src/proxy/network/native-socket.js';

const MODE = process.env.MODE ?? 'raw';
const PORT = Number(process.env.PORT ?? 18521);
const BACKEND = Number(process.env.BACKEND ?? 18500);
const SPLIT_ADDON = process.env.SPLIT_ADDON ?? '/tmp/split.node';
const C = MODE === 'coffs' || MODE === 'csplit' ? createRequire(import.meta.url)(SPLIT_ADDON) : null;

const { io, reason } = loadNativeSocketIo();
if (io === null) throw new Error(`the socket-io addon is not built: ${reason}`);

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

/** The head's end, or -1. */
const headEnd = (c) => c.indexOf(HEAD_END);

/** The start line and [name, value, ...] as strings, made in JavaScript. */
function splitJs(c) {
  const end = headEnd(c);
  if (end < 0) return null;
  const t = c.latin1Slice(0, end);
  const headers = [];
  let p = t.indexOf('\r\n') + 2;
  const line = t.substring(0, p - 2);
  while (p < end) {
    let e = t.indexOf('\r\n', p);
    if (e < 0) e = end;
    const colon = t.indexOf(':', p);
    headers.push(t.substring(p, colon).toLowerCase(), t.substring(colon + 2, e));
    p = e + 2;
  }
  return { line, headers };
}

/** Per-direction work for each mode: returns whether the caller forwards the bytes as read. */
function inspector(mode) {
  switch (mode) {
    case 'raw':
      return () => true;
    case 'coffs':
      return (c) => {
        C.offsets(c);
        c.latin1Slice(C.offs[0], C.offs[1]);
        return true;
      };
    case 'slice':
      return (c) => {
        const end = headEnd(c);
        if (end >= 0) c.latin1Slice(0, end);
        return true;
      };
    case 'split':
      return (c) => splitJs(c) !== undefined;
    case 'csplit':
      return (c) => C.split(c) !== undefined;
    default:
      throw new Error(`MODE=${mode}: not one of raw, coffs, slice, split, csplit, parse, ser`);
  }
}

/** Weft's parsers on both directions; with `ser`, the forwarded heads are Weft's own. */
function weftParsers(nd, nu, serialize) {
  const rp = new ResponseParser(
    {
      onResponseHead(h) {
        if (!serialize) return;
        const headers = [];
        for (let i = 0; i < h.headers.length; i += 2) {
          if (h.headers[i] !== 'content-length') headers.push(h.headers[i], h.headers[i + 1]);
        }
        nd.write(responseHeadBytes(h.statusCode, headers, { kind: 'length', length: h.contentLength }));
      },
      onBody(c) {
        if (serialize) nd.write(c);
      },
      onMessageComplete() {},
    },
    DEFAULT_PARSER_LIMITS,
  );
  const qp = new RequestParser(
    {
      onRequestHead(h) {
        rp.expect(h.method);
        if (serialize)
          nu.write(requestHeadBytes(h.method, h.target, h.authority, h.headers, { kind: 'none' }));
      },
      onBody() {},
      onMessageComplete() {
        return false;
      },
    },
    DEFAULT_PARSER_LIMITS,
  );
  nd.startReading((c) => {
    qp.execute(c);
    if (!serialize) nu.write(c);
  });
  nu.startReading((c) => {
    rp.execute(c);
    if (!serialize) nd.write(c);
  });
}

const look = MODE === 'parse' || MODE === 'ser' ? null : inspector(MODE);

net
  .createServer((down) => {
    const up = net.connect(BACKEND, '127.0.0.1');
    up.on('error', () => down.destroy());
    up.on('connect', () => {
      const nd = io.adopt(down, 1);
      const nu = io.adopt(up, 0);
      nd.on('error', () => nu.destroy());
      nu.on('error', () => nd.destroy());
      nd.on('close', () => nu.destroy());
      nu.on('close', () => nd.destroy());
      if (look === null) return weftParsers(nd, nu, MODE === 'ser');
      nd.startReading((c) => look(c) && nu.write(c));
      nu.startReading((c) => look(c) && nd.write(c));
    });
  })
  .listen(PORT, '127.0.0.1');
