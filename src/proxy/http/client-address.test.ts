// The trusted client address, checked against the six examples of Envoy's
// x-forwarded-for documentation and the edge cases around them.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  addressFromRight,
  type ClientAddress,
  detectClientAddress,
  resolveClientAddress,
  restoreForwardingHeaders,
  sanitizeForwardingHeaders,
} from './client-address.js';
import { internalAddressMatcher, isInternalAddress } from './internal-address.js';

const XFF_3 = '203.0.113.128, 203.0.113.10, 203.0.113.1';
const XFF_4 = `${XFF_3}, 192.0.2.5`;

function resolve(xff: string | null, peer: string, useRemoteAddress: boolean, hops: number): ClientAddress {
  const headers = xff === null ? ['accept', '*/*'] : ['x-forwarded-for', xff];
  return resolveClientAddress(headers, peer, {
    useRemoteAddress,
    xffNumTrustedHops: hops,
    detectors: null,
    isInternal: isInternalAddress,
  });
}

describe("Envoy's x-forwarded-for examples", () => {
  test('1: edge proxy, no trusted proxy in front: the peer, external', () => {
    assert.deepEqual(resolve(XFF_3, '192.0.2.5', true, 0), {
      ip: '192.0.2.5',
      fromHeader: false,
      internal: false,
      edge: true,
    });
  });

  test('2: internal proxy behind that edge: the last XFF address', () => {
    assert.deepEqual(resolve(XFF_4, '10.11.12.13', false, 0), {
      ip: '192.0.2.5',
      fromHeader: true,
      internal: false,
      edge: false,
    });
  });

  test('3: edge proxy with two trusted proxies in front: the 2nd from the right', () => {
    assert.deepEqual(resolve(XFF_3, '192.0.2.5', true, 2), {
      ip: '203.0.113.10',
      fromHeader: true,
      internal: false,
      edge: true,
    });
  });

  test('4: internal proxy behind that edge: the 3rd from the right', () => {
    assert.deepEqual(resolve(XFF_4, '10.11.12.13', false, 2), {
      ip: '203.0.113.10',
      fromHeader: true,
      internal: false,
      edge: false,
    });
  });

  test('5: internal client, no XFF: the peer, not internal (no XFF to say so)', () => {
    assert.deepEqual(resolve(null, '10.20.30.40', false, 0), {
      ip: '10.20.30.40',
      fromHeader: false,
      internal: false,
      edge: false,
    });
  });

  test('6: internal client through another proxy: one internal XFF address is internal', () => {
    assert.deepEqual(resolve('10.20.30.40', '10.20.30.50', false, 0), {
      ip: '10.20.30.40',
      fromHeader: true,
      internal: true,
      edge: false,
    });
  });
});

describe('trusted client address edge cases', () => {
  test('an edge proxy calls a request internal only without XFF and from an internal peer', () => {
    assert.equal(resolve(null, '10.0.0.7', true, 0).internal, true);
    assert.equal(resolve(null, '127.0.0.1', true, 0).edge, false);
    assert.equal(resolve('10.0.0.1', '10.0.0.7', true, 0).internal, false);
    assert.equal(resolve(null, '198.51.100.1', true, 0).edge, true);
  });

  test('too few XFF entries, or a non-IP entry, fall back to the peer', () => {
    assert.equal(resolve('203.0.113.1', '192.0.2.5', true, 2).ip, '192.0.2.5');
    assert.equal(resolve('203.0.113.1', '10.1.1.1', false, 1).ip, '10.1.1.1');
    assert.equal(resolve('unknown', '10.1.1.1', false, 0).ip, '10.1.1.1');
    assert.equal(resolve('203.0.113.1:8080', '10.1.1.1', false, 0).fromHeader, false);
  });

  test('several x-forwarded-for lines count as one list', () => {
    const headers = ['x-forwarded-for', '203.0.113.7, 203.0.113.8', 'x-forwarded-for', '203.0.113.9'];
    const client = resolveClientAddress(headers, '10.0.0.1', {
      useRemoteAddress: false,
      xffNumTrustedHops: 1,
      detectors: null,
      isInternal: isInternalAddress,
    });
    assert.equal(client.ip, '203.0.113.8');
  });

  test('addressFromRight trims spaces and accepts IPv6', () => {
    assert.equal(addressFromRight(' 2001:db8::1 ,10.0.0.1', 1), '2001:db8::1');
    assert.equal(addressFromRight('10.0.0.1', 0), '10.0.0.1');
    assert.equal(addressFromRight('10.0.0.1', 1), null);
    assert.equal(addressFromRight(',10.0.0.1', 1), null);
    assert.equal(addressFromRight('', 0), null);
  });
});

describe('original_ip_detection_extensions (detectClientAddress)', () => {
  const config = {
    useRemoteAddress: false,
    xffNumTrustedHops: 0,
    detectors: null,
    isInternal: isInternalAddress,
  };
  const realIp = (trusted: boolean, rejectStatus: number | null) =>
    ({ kind: 'custom_header', headerName: 'x-real-ip', trusted, rejectStatus }) as const;

  test('custom_header: the header is the client; internal only when the extension may trust it', () => {
    const h = ['x-real-ip', '10.1.2.3', 'x-forwarded-for', '203.0.113.1'];
    assert.deepEqual(detectClientAddress(h, '192.0.2.9', config, [realIp(true, null)]), {
      ip: '10.1.2.3',
      fromHeader: true,
      internal: true,
      edge: false,
    });
    assert.equal(
      (detectClientAddress(h, '192.0.2.9', config, [realIp(false, null)]) as ClientAddress).internal,
      false,
    );
    const external = ['x-real-ip', '203.0.113.50'];
    assert.equal(
      (detectClientAddress(external, '10.0.0.1', config, [realIp(true, null)]) as ClientAddress).internal,
      false,
    );
  });

  test('custom_header: missing or not an IP falls through to the next extension, or refuses with its status', () => {
    const xff = { kind: 'xff', xffNumTrustedHops: 0 } as const;
    const h = ['x-real-ip', 'unknown', 'x-forwarded-for', '10.9.9.9'];
    assert.deepEqual(detectClientAddress(h, '192.0.2.9', config, [realIp(true, null), xff]), {
      ip: '10.9.9.9',
      fromHeader: true,
      internal: true,
      edge: false,
    });
    assert.equal(detectClientAddress(h, '192.0.2.9', config, [realIp(true, 403), xff]), 403);
    assert.deepEqual(detectClientAddress([], '192.0.2.9', config, [realIp(true, null)]), {
      ip: '192.0.2.9',
      fromHeader: false,
      internal: false,
      edge: false,
    });
  });

  test('xff: its own trusted-hop count; internal only with a single XFF address', () => {
    const two = { kind: 'xff', xffNumTrustedHops: 1 } as const;
    const client = detectClientAddress(['x-forwarded-for', '10.0.0.5, 10.0.0.6'], '10.0.0.1', config, [two]);
    assert.deepEqual(client, { ip: '10.0.0.5', fromHeader: true, internal: false, edge: false });
  });
});

describe('internal_address_config', () => {
  test('cidr_ranges replace the default internal ranges', () => {
    const isInternal = internalAddressMatcher([
      { addressPrefix: '100.64.0.0', prefixLen: 10 },
      { addressPrefix: 'fd00::', prefixLen: 8 },
    ]);
    assert.equal(isInternal('100.100.1.2'), true);
    assert.equal(isInternal('fd12::1'), true);
    assert.equal(isInternal('::ffff:100.64.0.1'), true, 'an IPv4-mapped peer counts as its IPv4 address');
    assert.equal(isInternal('10.0.0.1'), false, 'RFC 1918 is no longer internal');
    assert.equal(isInternal('127.0.0.1'), false);
    assert.equal(isInternal('not-an-ip'), false);
    const client = resolveClientAddress([], '100.64.3.4', {
      useRemoteAddress: true,
      xffNumTrustedHops: 0,
      detectors: null,
      isInternal,
    });
    assert.equal(client.internal, true);
    assert.equal(internalAddressMatcher([])('10.0.0.1'), false, 'an empty list: nothing is internal');
    assert.equal(internalAddressMatcher(null)('10.0.0.1'), true, 'no config: the default ranges');
  });
});

describe('sanitizeForwardingHeaders', () => {
  test('an internal request gets x-envoy-internal: true, replacing what the client sent', () => {
    const h = ['x-envoy-internal', 'false', 'accept', '*/*'];
    sanitizeForwardingHeaders(h, { ip: '10.0.0.1', fromHeader: true, internal: true, edge: false });
    assert.deepEqual(h, ['accept', '*/*', 'x-envoy-internal', 'true']);
  });

  test('an edge request loses router-control headers and gets x-envoy-external-address', () => {
    const h = [
      'x-envoy-internal',
      'true',
      'x-envoy-retry-on',
      '5xx',
      'x-envoy-upstream-rq-timeout-ms',
      '1',
      'x-envoy-external-address',
      '1.1.1.1',
      'x-envoy-fault-abort-request',
      '503',
      'accept',
      '*/*',
    ];
    sanitizeForwardingHeaders(h, { ip: '203.0.113.10', fromHeader: true, internal: false, edge: true });
    assert.deepEqual(h, [
      'x-envoy-fault-abort-request',
      '503',
      'accept',
      '*/*',
      'x-envoy-external-address',
      '203.0.113.10',
    ]);
  });

  test('an external request behind the edge keeps what the edge set, and loses router-control headers', () => {
    const h = [
      'x-envoy-external-address',
      '203.0.113.10',
      'x-envoy-internal',
      'true',
      'x-envoy-retry-on',
      '5xx',
      'x-envoy-downstream-service-cluster',
      'front',
      'x-envoy-expected-rq-timeout-ms',
      '900',
    ];
    sanitizeForwardingHeaders(h, { ip: '203.0.113.10', fromHeader: true, internal: false, edge: false });
    assert.deepEqual(h, [
      'x-envoy-external-address',
      '203.0.113.10',
      'x-envoy-downstream-service-cluster',
      'front',
    ]);
  });

  test('an internal request keeps the router-control headers', () => {
    const h = [
      'x-envoy-retry-on',
      '5xx',
      'x-envoy-max-retries',
      '3',
      'x-envoy-external-address',
      '192.0.2.1',
    ];
    sanitizeForwardingHeaders(h, { ip: '10.0.0.1', fromHeader: true, internal: true, edge: false });
    assert.deepEqual(h, [
      'x-envoy-retry-on',
      '5xx',
      'x-envoy-max-retries',
      '3',
      'x-envoy-external-address',
      '192.0.2.1',
      'x-envoy-internal',
      'true',
    ]);
  });

  test('restoreForwardingHeaders puts back what a Connection header nominated away', () => {
    const internal = ['accept', '*/*'];
    restoreForwardingHeaders(
      internal,
      { ip: '10.0.0.1', fromHeader: false, internal: true, edge: false },
      [],
    );
    assert.deepEqual(internal, ['accept', '*/*', 'x-envoy-internal', 'true']);
    const edge: string[] = [];
    restoreForwardingHeaders(edge, { ip: '203.0.113.1', fromHeader: false, internal: false, edge: true }, [
      'x-request-id',
      'id-1',
    ]);
    assert.deepEqual(edge, ['x-request-id', 'id-1', 'x-envoy-external-address', '203.0.113.1']);
    const kept = ['x-envoy-internal', 'true', 'x-request-id', 'id-2'];
    restoreForwardingHeaders(kept, { ip: '10.0.0.1', fromHeader: false, internal: true, edge: false }, [
      'x-request-id',
      'id-2',
    ]);
    assert.deepEqual(kept, ['x-envoy-internal', 'true', 'x-request-id', 'id-2']);
  });
});
