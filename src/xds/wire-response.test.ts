// A DiscoveryResponse assembled from cached entry bytes decodes to the same message the
// protobuf library encodes from objects (so clients cannot tell the difference).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createJsonCodec } from './json-codec.js';
import { createProtoLoader } from './protos.js';
import { encodeDiscoveryResponse, encodeResourceEntry } from './wire-response.js';

const CLUSTER = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';

test('pre-encoded response bytes decode like a library-encoded DiscoveryResponse', () => {
  const protos = createProtoLoader().get();
  const codec = createJsonCodec(protos);
  const anys = ['a', 'b'].map((name) => codec.toAny(CLUSTER, { name, connect_timeout: '2s', type: 'EDS' }));
  const bytes = encodeDiscoveryResponse({
    versionInfo: 'v7',
    entries: anys.map(encodeResourceEntry),
    typeUrl: CLUSTER,
    nonce: '42',
    controlPlaneId: 'weft-test',
  });
  const type = protos.lookupType('envoy.service.discovery.v3.DiscoveryResponse');
  const expected = type.encode({
    version_info: 'v7',
    resources: anys,
    type_url: CLUSTER,
    nonce: '42',
    control_plane: { identifier: 'weft-test' },
  } as unknown as Record<string, unknown>);
  assert.deepEqual(type.toObject(type.decode(bytes)), type.toObject(type.decode(expected.finish())));
  const decoded = type.decode(bytes) as unknown as { resources: { type_url: string }[]; nonce: string };
  assert.equal(decoded.resources.length, 2);
  assert.equal(decoded.nonce, '42');
  assert.deepEqual(codec.fromAny(decoded.resources[1] as never), {
    '@type': CLUSTER,
    name: 'b',
    connect_timeout: '2s',
    type: 'EDS',
  });
});
