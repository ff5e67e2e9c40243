// Interned lower-case strings for common header names. Matching a name's bytes against
// this table (case-insensitively) avoids allocating and lower-casing a new string per
// field, and the interned result makes later `name === 'content-length'` checks cheap.

import { TOKEN_LOWER } from './char-tables.js';

const COMMON = [
  'te',
  'via',
  'age',
  'host',
  'date',
  'etag',
  'vary',
  'from',
  'range',
  'accept',
  'cookie',
  'expect',
  'origin',
  'pragma',
  'server',
  'referer',
  'upgrade',
  'trailer',
  'expires',
  'location',
  'if-match',
  'if-range',
  'connection',
  'keep-alive',
  'set-cookie',
  'user-agent',
  'tracestate',
  'x-real-ip',
  'traceparent',
  'content-type',
  'x-request-id',
  'content-length',
  'cache-control',
  'authorization',
  'last-modified',
  'if-none-match',
  'accept-ranges',
  'content-range',
  'accept-encoding',
  'accept-language',
  'x-forwarded-for',
  'content-encoding',
  'content-language',
  'content-location',
  'proxy-connection',
  'x-forwarded-host',
  'x-forwarded-proto',
  'transfer-encoding',
  'if-modified-since',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-sampled',
  'x-b3-parentspanid',
  'x-envoy-upstream-service-time',
  'x-envoy-expected-rq-timeout-ms',
  'access-control-allow-origin',
  'strict-transport-security',
  'www-authenticate',
  'proxy-authorization',
  'proxy-authenticate',
  'upgrade-insecure-requests',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-accept',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'grpc-status',
  'grpc-message',
  'grpc-timeout',
  'grpc-encoding',
  'grpc-accept-encoding',
  'content-disposition',
];

const MAX_LEN = 40;
const BY_LENGTH: readonly (readonly string[])[] = buildByLength();

function buildByLength(): string[][] {
  const t: string[][] = [];
  for (let n = 0; n <= MAX_LEN; n++) t.push([]);
  for (const name of COMMON) if (name.length <= MAX_LEN) t[name.length].push(name);
  return t;
}

/** The interned lower-case name when buf[start..end) is a common header name, else ''. */
export function knownHeaderName(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  if (n > MAX_LEN) return '';
  const list = BY_LENGTH[n];
  const first = TOKEN_LOWER[buf[start]];
  for (let c = 0; c < list.length; c++) {
    const cand = list[c];
    if (cand.charCodeAt(0) !== first) continue;
    let k = 1;
    while (k < n && TOKEN_LOWER[buf[start + k]] === cand.charCodeAt(k)) k++;
    if (k === n) return cand;
  }
  return '';
}
