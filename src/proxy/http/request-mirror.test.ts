// The shadow host of a mirrored request: `-shadow` goes on the host part, before a port,
// and never inside an IPv6 literal.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shadowAuthority } from './request-mirror.js';

test('-shadow is appended to the host, before any port', () => {
  assert.equal(shadowAuthority('shop.local'), 'shop.local-shadow');
  assert.equal(shadowAuthority('shop.local:8080'), 'shop.local-shadow:8080');
  assert.equal(shadowAuthority('10.0.0.1:80'), '10.0.0.1-shadow:80');
  assert.equal(shadowAuthority('[::1]:8080'), '[::1]-shadow:8080');
  assert.equal(shadowAuthority('[::1]'), '[::1]-shadow');
  assert.equal(shadowAuthority('host:'), 'host:-shadow', 'an empty port is not a port');
});
