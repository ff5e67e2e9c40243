import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createProtoLoader } from './protos.js';
import { contiguousFieldSpan, createNamesDecoder } from './request-names.js';

const type = createProtoLoader().get().lookupType('envoy.service.discovery.v3.DiscoveryRequest');
const EDS = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

function encode(message: Record<string, unknown>): Buffer {
  return Buffer.from(type.encode(type.fromObject(message)).finish());
}

describe('DiscoveryRequest decoding with shared resource_names', () => {
  test('equal name lists decode to one frozen array; other fields decode as usual', () => {
    const decoder = createNamesDecoder(type);
    const names = ['outbound|80||a.shop', 'outbound|80||b.shop', 'outbound|80||c.shop'];
    const a = decoder.decode(
      encode({ type_url: EDS, resource_names: names, response_nonce: '1', version_info: 'v1' }),
    ) as Record<string, unknown>;
    const b = decoder.decode(
      encode({
        type_url: EDS,
        resource_names: names,
        response_nonce: '2',
        error_detail: { code: 3, message: 'bad' },
      }),
    ) as Record<string, unknown>;
    assert.deepEqual(a.resource_names, names);
    assert.equal(a.resource_names, b.resource_names, 'one array for equal lists');
    assert.ok(Object.isFrozen(a.resource_names));
    assert.equal(a.type_url, EDS);
    assert.equal(a.version_info, 'v1');
    assert.equal(a.response_nonce, '1');
    assert.equal(b.response_nonce, '2');
    assert.equal((b.error_detail as { message: string }).message, 'bad');
    const c = decoder.decode(
      encode({
        type_url: EDS,
        resource_names: ['outbound|80||a.shop', 'outbound|80||b.shop', 'outbound|80||d.shop'],
      }),
    ) as Record<string, unknown>;
    assert.notEqual(c.resource_names, a.resource_names, 'same length, other bytes');
    assert.deepEqual(c.resource_names, ['outbound|80||a.shop', 'outbound|80||b.shop', 'outbound|80||d.shop']);
  });

  test('names split by another field, no names, and malformed input', () => {
    const decoder = createNamesDecoder(type);
    // resource_names (3), type_url (4), resource_names (3): legal protobuf, not contiguous.
    const split = Buffer.concat([
      encode({ resource_names: ['x'] }),
      encode({ type_url: EDS }),
      encode({ resource_names: ['y'] }),
    ]);
    assert.equal(contiguousFieldSpan(split, 3), null);
    assert.deepEqual((decoder.decode(split) as { resource_names: string[] }).resource_names, ['x', 'y']);
    assert.equal(contiguousFieldSpan(encode({ type_url: EDS }), 3), null);
    assert.deepEqual(
      (decoder.decode(encode({ type_url: EDS })) as { resource_names: string[] }).resource_names,
      [],
    );
    // A truncated field is left to protobufjs, which decodes it as it always did.
    const truncated = Buffer.from([0x1a, 0x05, 0x61]);
    assert.deepEqual(decoder.decode(truncated), type.decode(truncated));
  });
});
