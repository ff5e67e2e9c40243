import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isInternalAddress } from './internal-address.js';

test('internal addresses are RFC 1918, loopback and unique-local', () => {
  for (const ip of [
    '10.1.2.3',
    '127.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '::1',
    'fd00::1',
  ]) {
    assert.equal(isInternalAddress(ip), true, ip);
  }
  for (const ip of ['8.8.8.8', '172.15.0.1', '172.32.0.1', '192.169.0.1', '2001:db8::1', '11.0.0.1']) {
    assert.equal(isInternalAddress(ip), false, ip);
  }
});
