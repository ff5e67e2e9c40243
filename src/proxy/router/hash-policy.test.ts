import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HashPolicy } from '../../config/model.js';
import { xxHash64 } from '../upstream/lb/xxhash64.js';
import { computeRequestHash, cookieValue, type HashRequest } from './hash-policy.js';

const req = (over: Partial<HashRequest> = {}): HashRequest => ({
  headers: ['x-user', 'alice', 'cookie', 'a=1; sid="abc"', 'x-multi', 'one', 'x-multi', 'two'],
  method: 'GET',
  authority: 'shop.local',
  path: '/p?x=1&user=bob&flag&user=eve',
  remoteIp: '10.1.2.3',
  remoteAddress: '10.1.2.3:5555',
  localAddress: '127.0.0.1:8080',
  ...over,
});
const rotl1 = (h: bigint) => ((h << 1n) | (h >> 63n)) & 0xffff_ffff_ffff_ffffn;

describe('route hash_policy', () => {
  it('hashes one input with xxHash64 of its value', () => {
    const one = (p: HashPolicy) => computeRequestHash([p], req()).hashKey;
    assert.equal(one({ kind: 'header', headerName: 'x-user', terminal: false }), xxHash64('alice'));
    assert.equal(one({ kind: 'header', headerName: 'x-multi', terminal: false }), xxHash64('one, two'));
    assert.equal(one({ kind: 'header', headerName: ':authority', terminal: false }), xxHash64('shop.local'));
    assert.equal(one({ kind: 'source_ip', terminal: false }), xxHash64('10.1.2.3'));
    assert.equal(one({ kind: 'query_parameter', name: 'user', terminal: false }), xxHash64('bob'));
    assert.equal(one({ kind: 'query_parameter', name: 'flag', terminal: false }), xxHash64(''));
    assert.equal(
      one({ kind: 'cookie', name: 'sid', ttlMs: null, path: '', terminal: false }),
      xxHash64('abc'),
    );
  });

  it('combines inputs by rotating left one bit and XORing; skips absent ones; stops at a terminal hash', () => {
    const user: HashPolicy = { kind: 'header', headerName: 'x-user', terminal: false };
    const ip: HashPolicy = { kind: 'source_ip', terminal: false };
    const missing: HashPolicy = { kind: 'header', headerName: 'x-none', terminal: true };
    assert.equal(
      computeRequestHash([user, ip], req()).hashKey,
      rotl1(xxHash64('alice')) ^ xxHash64('10.1.2.3'),
    );
    assert.equal(
      computeRequestHash([user, user], req()).hashKey,
      rotl1(xxHash64('alice')) ^ xxHash64('alice'),
    );
    assert.equal(
      computeRequestHash([missing, user], req()).hashKey,
      xxHash64('alice'),
      'terminal without a hash goes on',
    );
    assert.equal(computeRequestHash([{ ...user, terminal: true }, ip], req()).hashKey, xxHash64('alice'));
    assert.deepEqual(computeRequestHash([missing], req()), { hashKey: null, setCookie: null });
  });

  it('generates a missing cookie only with ttl, from the connection addresses', () => {
    const policy: HashPolicy = {
      kind: 'cookie',
      name: 'sticky',
      ttlMs: 90_000,
      path: '/app',
      terminal: false,
    };
    const r = computeRequestHash([policy], req({ headers: [] }));
    const value = xxHash64('10.1.2.3:5555127.0.0.1:8080').toString(16).padStart(16, '0');
    assert.equal(r.setCookie, `sticky="${value}"; Max-Age=90; Path=/app; HttpOnly`);
    assert.equal(r.hashKey, xxHash64(value));
    const session = computeRequestHash([{ ...policy, ttlMs: 0, path: '' }], req({ headers: [] }));
    assert.equal(session.setCookie, `sticky="${value}"; HttpOnly`);
    assert.equal(computeRequestHash([{ ...policy, ttlMs: null }], req({ headers: [] })).hashKey, null);
  });

  it('parses Cookie headers (several headers, spaces, quotes)', () => {
    assert.equal(cookieValue(['cookie', 'a=1', 'cookie', ' b = x ; c="q"'], 'c'), 'q');
    assert.equal(cookieValue(['cookie', 'ab=1'], 'a'), undefined);
  });
});
