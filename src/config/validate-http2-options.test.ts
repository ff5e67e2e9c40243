import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateClusterResource } from './validate-xds-resource.js';

const KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const TYPE = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';

function cluster(extra: Record<string, unknown>) {
  return {
    '@type': TYPE,
    name: 'c',
    type: 'STATIC',
    load_assignment: {
      cluster_name: 'c',
      endpoints: [
        {
          lb_endpoints: [
            { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 1 } } } },
          ],
        },
      ],
    },
    ...extra,
  };
}

function options(config: Record<string, unknown>) {
  return {
    typed_extension_protocol_options: { [KEY]: { '@type': `type.googleapis.com/${KEY}`, ...config } },
  };
}

test('CDS clusters may speak HTTP/2: explicit, deprecated, downstream and auto', () => {
  const explicit = validateClusterResource(
    cluster(options({ explicit_http_config: { http2_protocol_options: { max_concurrent_streams: 7 } } })),
  );
  assert.deepEqual(explicit.issues, []);
  assert.equal(explicit.value?.httpProtocol, 'HTTP2');
  assert.equal(explicit.value?.http2Options?.maxConcurrentStreams, 7);
  assert.equal(explicit.value?.http2Options?.initialStreamWindowSize, 268_435_456);

  const deprecated = validateClusterResource(cluster({ http2_protocol_options: {} }));
  assert.deepEqual(deprecated.issues, []);
  assert.equal(deprecated.value?.httpProtocol, 'HTTP2');

  const downstream = validateClusterResource(
    cluster(
      options({ use_downstream_protocol_config: { http2_protocol_options: {}, http_protocol_options: {} } }),
    ),
  );
  assert.equal(downstream.value?.httpProtocol, 'USE_DOWNSTREAM');

  const auto = validateClusterResource(cluster(options({ auto_config: { http2_protocol_options: {} } })));
  assert.deepEqual(auto.issues, []);
  assert.equal(auto.value?.httpProtocol, undefined, 'plaintext auto_config is HTTP/1.1');

  const plain = validateClusterResource(cluster({}));
  assert.equal(plain.value?.httpProtocol, undefined);
  assert.equal(plain.value?.http2Options, undefined);
});

test('HttpProtocolOptions: one protocol config only; unknown HTTP/2 fields by path', () => {
  const both = validateClusterResource(
    cluster(options({ explicit_http_config: { http_protocol_options: {} }, auto_config: {} })),
  );
  assert.ok(both.issues.length > 0);
  const bad = validateClusterResource(
    cluster(
      options({
        explicit_http_config: {
          http2_protocol_options: { initial_connection_window_size: 1, max_outbound_frames: 5 },
        },
      }),
    ),
  );
  const paths = bad.issues.map((i) => i.path);
  const base = `typed_extension_protocol_options.${KEY}.explicit_http_config.http2_protocol_options`;
  assert.ok(
    paths.some((p) => p.endsWith(`${base}.initial_connection_window_size`)),
    paths.join('\n'),
  );
  assert.ok(
    paths.some((p) => p.endsWith(`${base}.max_outbound_frames`)),
    paths.join('\n'),
  );
});
