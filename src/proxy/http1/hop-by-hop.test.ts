// Tests for stripHopByHop: exactly the RFC 9110 §7.6.1 fields, the Connection-listed
// ones, and Content-Length (re-emitted by the serializer) are removed; order is kept.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { stripHopByHop } from './hop-by-hop.js';
import { parseRequests } from './parse-recorder.js';

it('removes the fixed hop-by-hop fields and keeps end-to-end ones in order', () => {
  const h = [
    'connection',
    'keep-alive',
    'a',
    '1',
    'keep-alive',
    'timeout=5',
    'proxy-connection',
    'keep-alive',
    'te',
    'trailers',
    'transfer-encoding',
    'chunked',
    'upgrade',
    'websocket',
    'content-length',
    '3',
    'trailer',
    'x-sum',
    'proxy-authorization',
    'basic x',
    'b',
    '2',
  ];
  stripHopByHop(h, 'keep-alive');
  assert.deepEqual(h, ['a', '1', 'trailer', 'x-sum', 'proxy-authorization', 'basic x', 'b', '2']);
});

it('removes every field named in Connection, matching whole list elements only', () => {
  const r = parseRequests(
    'GET / HTTP/1.1\r\nHost: h\r\nConnection: X-Secret ,\tx-debug\r\nX-Secret: s\r\nX-Debug: d\r\nX-Secret-Not: keep\r\nX: y\r\n\r\n',
  );
  const head = r.messages[0].head;
  stripHopByHop(head.headers, head.connectionTokens);
  assert.deepEqual(head.headers, ['x-secret-not', 'keep', 'x', 'y']);
});

it('leaves a list without hop-by-hop fields untouched', () => {
  const h = ['a', '1', 'b', '2'];
  stripHopByHop(h, '');
  assert.deepEqual(h, ['a', '1', 'b', '2']);
});
