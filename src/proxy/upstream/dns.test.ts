import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectAddresses } from './dns.js';

const mixed = [
  { address: '10.0.0.1', family: 4 },
  { address: 'fd00::1', family: 6 },
  { address: '10.0.0.2', family: 4 },
];
const v4only = [{ address: '10.0.0.1', family: 4 }];
const v6only = [{ address: 'fd00::1', family: 6 }];

describe('dns_lookup_family', () => {
  it('AUTO prefers v6, falls back to v4', () => {
    assert.deepEqual(selectAddresses(mixed, 'AUTO'), ['fd00::1']);
    assert.deepEqual(selectAddresses(v4only, 'AUTO'), ['10.0.0.1']);
  });
  it('V4_PREFERRED prefers v4, falls back to v6', () => {
    assert.deepEqual(selectAddresses(mixed, 'V4_PREFERRED'), ['10.0.0.1', '10.0.0.2']);
    assert.deepEqual(selectAddresses(v6only, 'V4_PREFERRED'), ['fd00::1']);
  });
  it('V4_ONLY / V6_ONLY filter; ALL keeps resolver order', () => {
    assert.deepEqual(selectAddresses(v6only, 'V4_ONLY'), []);
    assert.deepEqual(selectAddresses(mixed, 'V6_ONLY'), ['fd00::1']);
    assert.deepEqual(selectAddresses(mixed, 'ALL'), ['10.0.0.1', 'fd00::1', '10.0.0.2']);
  });
});
