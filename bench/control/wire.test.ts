// The bench's hand-written ADS wire code against protobufjs and the Envoy protos: requests it
// encodes decode as DiscoveryRequests, and the names it walks out of a real response match.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createJsonCodec } from '../../src/xds/json-codec.js';
import { createProtoLoader } from '../../src/xds/protos.js';
import {
  decodeResponseHead,
  edsServiceName,
  encodeNames,
  encodeNode,
  encodeRequest,
  rdsNames,
  resourceName,
  TYPE_CDS,
  TYPE_LDS,
} from './wire.js';

const protos = createProtoLoader().get();
const codec = createJsonCodec(protos);

test('encodeRequest decodes as a DiscoveryRequest', () => {
  const type = protos.lookupType('envoy.service.discovery.v3.DiscoveryRequest');
  const bytes = encodeRequest(
    TYPE_CDS,
    'v1',
    'n7',
    encodeNames(['a', 'b|c']),
    encodeNode('sidecar~ns~w', 'cl'),
  );
  const msg = type.toObject(type.decode(bytes)) as Record<string, unknown>;
  assert.equal(msg.version_info, 'v1');
  assert.equal(msg.type_url, TYPE_CDS);
  assert.equal(msg.response_nonce, 'n7');
  assert.deepEqual(msg.resource_names, ['a', 'b|c']);
  assert.deepEqual(msg.node, { id: 'sidecar~ns~w', cluster: 'cl' });
});

test('decodeResponseHead reads the head and walks cluster and listener names', () => {
  const cluster = codec.toAny(TYPE_CDS, {
    name: 'outbound|80||web.shop',
    type: 'EDS',
    eds_cluster_config: { eds_config: { ads: {} }, service_name: 'outbound|80||web.shop' },
  });
  const staticCluster = codec.toAny(TYPE_CDS, { name: 'static', type: 'STATIC' });
  const listener = codec.toAny(TYPE_LDS, {
    name: 'outbound_http',
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type':
                'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              stat_prefix: 'x',
              rds: { config_source: { ads: {} }, route_config_name: 'outbound_http' },
              http_filters: [],
            },
          },
        ],
      },
    ],
  });
  const type = protos.lookupType('envoy.service.discovery.v3.DiscoveryResponse');
  const bytes = type
    .encode({ version_info: 'v9', resources: [cluster, staticCluster], type_url: TYPE_CDS, nonce: '3' })
    .finish();
  const head = decodeResponseHead(bytes);
  assert.ok(head);
  assert.equal(head.versionInfo, 'v9');
  assert.equal(head.typeUrl, TYPE_CDS);
  assert.equal(head.nonce, '3');
  assert.equal(head.values.length, 2);
  assert.equal(resourceName(head.values[0]), 'outbound|80||web.shop');
  assert.equal(edsServiceName(head.values[0]), 'outbound|80||web.shop');
  assert.equal(edsServiceName(head.values[1]), null);
  const rds = new Set<string>();
  rdsNames(listener.value, rds);
  assert.deepEqual([...rds], ['outbound_http']);
  assert.equal(decodeResponseHead(bytes.subarray(0, bytes.length - 1)), null);
});
