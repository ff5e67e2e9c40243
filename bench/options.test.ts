// Unit tests for the bench's command-line options.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOptions } from './options.js';

describe('parseOptions', () => {
  it('defaults to 10 s, 3 rounds, all proxies, print only', () => {
    assert.deepEqual(parseOptions([]), {
      durationS: 10,
      rounds: 3,
      only: ['nginx', 'haproxy', 'weft', 'node-pipe', 'node-http-relay'],
      write: false,
      install: false,
      quick: false,
      help: false,
    });
  });

  it('--quick means 2 s and 1 round unless told otherwise', () => {
    const quick = parseOptions(['--quick']);
    assert.equal(quick.durationS, 2);
    assert.equal(quick.rounds, 1);
    assert.equal(parseOptions(['--quick', '--rounds', '2']).rounds, 2);
  });

  it('accepts --flag value and --flag=value, and keeps proxy order canonical', () => {
    const o = parseOptions(['--duration=5', '--only', 'weft,nginx', '--write']);
    assert.equal(o.durationS, 5);
    assert.deepEqual(o.only, ['nginx', 'weft']);
    assert.equal(o.write, true);
  });

  it('rejects unknown options, unknown proxies and bad numbers', () => {
    assert.throws(() => parseOptions(['--fast']), /unknown option/);
    assert.throws(() => parseOptions(['--only', 'envoy']), /unknown proxy envoy/);
    assert.throws(() => parseOptions(['--rounds', '0']), /positive integer/);
    assert.throws(() => parseOptions(['--duration']), /needs a value/);
  });
});
