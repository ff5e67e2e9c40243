// Unit tests for the wrk and hey report parsers (captured output of wrk 4.1 and hey 0.1.4).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { heyCommand, parseHeyOutput, parseWrkOutput, wrkCommand } from './load.js';

const WRK_CLEAN = `Running 1s test @ http://127.0.0.1:18999/
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   133.50us   44.04us   0.86ms   73.05%
    Req/Sec    67.40k     5.46k   74.00k    63.64%
  73600 requests in 1.10s, 82.40MB read
Requests/sec:  66902.16
Transfer/sec:     74.90MB
`;

const WRK_ERRORS = `Running 2s test @ http://127.0.0.1:40000/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.10ms  200.00us   5.00ms   90.00%
    Req/Sec    40.00k     1.00k   42.00k    70.00%
  80000 requests in 2.00s, 90.00MB read
  Socket errors: connect 1, read 2, write 3, timeout 4
  Non-2xx or 3xx responses: 25
Requests/sec:  40000.50
Transfer/sec:     45.00MB
`;

const HEY = `
Summary:
  Total:	1.0233 secs
  Slowest:	0.0012 secs
  Fastest:	0.0001 secs
  Average:	0.0003 secs
  Requests/sec:	101.6309
  
  Total data:	106496 bytes
  Size/request:	1024 bytes

Response time histogram:
  0.000 [1]	|■
  0.001 [1]	|■


Latency distribution:
  10% in 0.0002 secs
  25% in 0.0002 secs
  50% in 0.0003 secs
  75% in 0.0004 secs
  90% in 0.0006 secs
  95% in 0.0007 secs
  99% in 0.0012 secs

Details (average, fastest, slowest):
  DNS+dialup:	0.0000 secs, 0.0001 secs, 0.0012 secs
  resp read:	0.0000 secs, 0.0000 secs, 0.0002 secs

Status code distribution:
  [200]	104 responses
`;

const HEY_ERRORS = `${HEY}  [503]	6 responses

Error distribution:
  [3]	Get "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused
  [2]	Get "http://127.0.0.1:1/": EOF
`;

describe('parseWrkOutput', () => {
  it('reads requests and Requests/sec from a clean run', () => {
    assert.deepEqual(parseWrkOutput(WRK_CLEAN), { requests: 73600, requestsPerSec: 66902.16, errors: 0 });
  });

  it('counts socket errors and error statuses', () => {
    const res = parseWrkOutput(WRK_ERRORS);
    assert.equal(res.requestsPerSec, 40000.5);
    assert.equal(res.errors, 1 + 2 + 3 + 4 + 25);
  });

  it('throws on output without a summary', () => {
    assert.throws(
      () => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n'),
      /wrk output/,
    );
  });
});

describe('parseHeyOutput', () => {
  it('reads rps and p50/p99 in milliseconds', () => {
    const res = parseHeyOutput(HEY);
    assert.equal(res.requestsPerSec, 101.6309);
    assert.ok(Math.abs(res.p50Ms - 0.3) < 1e-9);
    assert.ok(Math.abs(res.p99Ms - 1.2) < 1e-9);
    assert.equal(res.responses, 104);
    assert.equal(res.errors, 0);
  });

  it('counts non-2xx statuses and transport errors', () => {
    const res = parseHeyOutput(HEY_ERRORS);
    assert.equal(res.responses, 110);
    assert.equal(res.errors, 6 + 3 + 2);
  });

  it('throws when the latency distribution is missing', () => {
    assert.throws(() => parseHeyOutput('\nSummary:\n  Requests/sec:\t0.0000\n'), /hey output/);
  });
});

describe('commands', () => {
  it('wrk runs one thread for the given connections and seconds', () => {
    assert.deepEqual(wrkCommand('wrk', 'http://x/', 50, 10).args, ['-t1', '-c50', '-d10s', 'http://x/']);
  });

  it("hey splits the total rate over its workers (hey's -q is per worker)", () => {
    assert.deepEqual(heyCommand('hey', 'http://x/', 16, 1000, 10).args, [
      '-z',
      '10s',
      '-c',
      '16',
      '-q',
      '62.5',
      'http://x/',
    ]);
  });
});
