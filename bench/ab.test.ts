import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AbWindow, pairOrder, pairRatios, parseAbOptions, renderAbReport, sidePeer } from './ab.js';

describe('bench:ab options', () => {
  it('takes the two builds and defaults the rest', () => {
    assert.deepEqual(parseAbOptions(['--a', '/x', '--b', '/y']), {
      a: '/x',
      b: '/y',
      pairs: 10,
      windowS: 3,
      load: 'max',
      table: 'http',
    });
    const o = parseAbOptions([
      '--b',
      '/y',
      '--a',
      '/x',
      '--pairs',
      '4',
      '--window',
      '5',
      '--load',
      'fixed',
      '--table',
      'tcp',
    ]);
    assert.equal(o.pairs, 4);
    assert.equal(o.windowS, 5);
    assert.equal(o.load, 'fixed');
    assert.equal(o.table, 'tcp');
    assert.equal(parseAbOptions(['--a', '.', '--b', 'nginx', '--table', 'https']).table, 'https');
  });

  it('names what is wrong', () => {
    assert.throws(() => parseAbOptions(['--a', '/x']), /--a and --b are required/);
    assert.throws(
      () => parseAbOptions(['--a', 'nginx', '--b', 'haproxy']),
      /--a nginx and --b haproxy are both peers: one side must be a Weft DIR/,
    );
    assert.throws(
      () => parseAbOptions(['--a', '/x', '--b', '/y', '--pairs', '0']),
      /--pairs must be a whole number from 1 to 100, not '0'/,
    );
    assert.throws(
      () => parseAbOptions(['--a', '/x', '--b', '/y', '--window', '2.5']),
      /--window must be a whole number/,
    );
    assert.throws(
      () => parseAbOptions(['--a', '/x', '--b', '/y', '--load', 'slow']),
      /--load must be max or fixed, not 'slow'/,
    );
    assert.throws(
      () => parseAbOptions(['--a', '/x', '--b', '/y', '--table', 'udp']),
      /--table must be http, tcp or https/,
    );
    assert.throws(() => parseAbOptions(['--c', '/z']), /unknown argument '--c'/);
    assert.throws(() => parseAbOptions(['--a', '--b', '/y']), /--a needs a value/);
  });
});

describe('bench:ab sides', () => {
  it('takes a peer by its name and anything else as a Weft checkout', () => {
    assert.equal(sidePeer('nginx'), 'nginx');
    assert.equal(sidePeer('node-pipe'), 'node-pipe');
    assert.equal(sidePeer('haproxy'), 'haproxy');
    assert.equal(sidePeer('weft'), null);
    assert.equal(sidePeer('./nginx'), null);
    assert.equal(sidePeer('/tmp/before'), null);
    assert.deepEqual(parseAbOptions(['--a', '.', '--b', 'nginx']).b, 'nginx');
  });
});

describe('bench:ab windows and report', () => {
  it('alternates which side goes first', () => {
    assert.deepEqual([0, 1, 2, 3].map(pairOrder), [
      ['A', 'B'],
      ['B', 'A'],
      ['A', 'B'],
      ['B', 'A'],
    ]);
  });

  it('reports each side’s windows, their medians and B against A', () => {
    const w = (side: 'A' | 'B', requestsPerSec: number, cpuUsPerRequest: number): AbWindow => ({
      side,
      requestsPerSec,
      cpuUsPerRequest,
      p50Ms: null,
      p99Ms: null,
    });
    const options = parseAbOptions(['--a', '/before', '--b', '/after', '--pairs', '3']);
    const report = renderAbReport(options, [
      w('A', 10_000, 60),
      w('B', 12_000, 50),
      w('B', 11_000, 55),
      w('A', 9_000, 70),
      w('A', 11_000, 58),
      w('B', 13_000, 45),
    ]);
    assert.match(report, /^A requests\/s: 10000 9000 11000$/m);
    assert.match(report, /^B CPU µs\/request: 50\.0 55\.0 45\.0$/m);
    assert.match(
      report,
      /^medians: A 10000 requests\/s, 60\.0 µs\/request; B 12000 requests\/s, 50\.0 µs\/request$/m,
    );
    assert.match(report, /^B\/A: requests\/s 1\.20x, CPU per request 0\.83x$/m);
    // Pairs: 12000/10000, 11000/9000, 13000/11000.
    assert.match(report, /^B\/A requests\/s per pair: median 1\.20x, from 1\.18x to 1\.22x$/m);
    // CPU: 50/60, 55/70, 45/58.
    assert.match(report, /^B\/A CPU per request per pair: median 0\.79x, from 0\.78x to 0\.83x$/m);
    assert.doesNotMatch(report, /p50|p99/);
  });

  it('reports latency for the fixed load: p50 and p99 per window, medians, and p99 per pair', () => {
    const w = (side: 'A' | 'B', p50Ms: number, p99Ms: number): AbWindow => ({
      side,
      requestsPerSec: 1000,
      cpuUsPerRequest: 90,
      p50Ms,
      p99Ms,
    });
    const options = parseAbOptions(['--a', '/before', '--b', 'nginx', '--load', 'fixed', '--pairs', '2']);
    const report = renderAbReport(options, [w('A', 1.5, 4), w('B', 1, 2), w('B', 1.2, 3), w('A', 1.4, 3)]);
    assert.match(report, /^A p99 ms: 4\.00 3\.00$/m);
    assert.match(report, /^B p50 ms: 1\.00 1\.20$/m);
    // Pairs: 2/4, 3/3.
    assert.match(report, /^B\/A p99 per pair: median 0\.75x, from 0\.50x to 1\.00x$/m);
    assert.match(report, /^p99: A 3\.50 ms, B 2\.50 ms$/m);
  });

  it('takes each pair’s ratio in run order, whichever side went first', () => {
    const w = (side: 'A' | 'B', requestsPerSec: number): AbWindow => ({
      side,
      requestsPerSec,
      cpuUsPerRequest: 1,
      p50Ms: null,
      p99Ms: null,
    });
    const rate = (x: AbWindow) => x.requestsPerSec;
    assert.deepEqual(
      pairRatios([w('A', 100), w('B', 50), w('B', 300), w('A', 200), w('A', 10)], rate),
      [0.5, 1.5],
    );
    assert.deepEqual(pairRatios([], rate), []);
  });
});
