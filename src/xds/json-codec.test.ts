// The proto3 JSON mapping over real Envoy configs (every listener and cluster of
// examples/envoy.yaml survives JSON -> Any -> JSON unchanged) and each well-known type's
// rules from https://protobuf.dev/programming-guides/proto3/#json, plus a mutation fuzz of
// the decoder (bytes from the wire are untrusted).

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ConfigError } from '../core/errors.js';
import { seededRandom } from '../core/seeded-random.js';
import { createJsonCodec, type Json, type JsonObject } from './json-codec.js';
import { createProtoLoader } from './protos.js';
import { TYPE_URLS } from './type-urls.js';

const protos = createProtoLoader().get();
const codec = createJsonCodec(protos);

function repoFile(...parts: string[]): string {
  // Tests run from the repo root (npm test) or from a build dir three levels below it.
  for (const base of [process.cwd(), resolve(import.meta.dirname, '../../..')]) {
    const candidate = join(base, ...parts);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`cannot find ${parts.join('/')}`);
}

function roundTrip(type: string, json: Json): JsonObject {
  return codec.decode(type, codec.encode(type, json));
}

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected a ConfigError');
}

describe('json codec: examples/envoy.yaml static_resources', () => {
  const bootstrap = parse(readFileSync(repoFile('examples', 'envoy.yaml'), 'utf8')) as {
    static_resources: { listeners: JsonObject[]; clusters: JsonObject[] };
  };

  it('every listener encodes to an Any and decodes back to equal JSON', () => {
    assert.equal(bootstrap.static_resources.listeners.length, 2);
    for (const listener of bootstrap.static_resources.listeners) {
      const any = codec.toAny(TYPE_URLS.listener, listener);
      assert.equal(any.type_url, TYPE_URLS.listener);
      assert.ok(any.value.length > 50);
      assert.deepEqual(codec.fromAny(any), { '@type': TYPE_URLS.listener, ...listener });
    }
  });

  it('an HCM with original_ip_detection_extensions round-trips (status codes by name)', () => {
    const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
    const hcm: JsonObject = {
      stat_prefix: 'in',
      original_ip_detection_extensions: [
        {
          name: 'envoy.http.original_ip_detection.custom_header',
          typed_config: {
            '@type':
              'type.googleapis.com/envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig',
            header_name: 'x-real-ip',
            allow_extension_to_set_address_as_trusted: true,
            reject_with_status: { code: 'Forbidden' },
          },
        },
        {
          name: 'envoy.http.original_ip_detection.xff',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.http.original_ip_detection.xff.v3.XffConfig',
            xff_num_trusted_hops: 1,
          },
        },
      ],
    };
    assert.deepEqual(roundTrip(HCM, hcm), hcm);
  });

  it('every cluster encodes to an Any and decodes back to equal JSON', () => {
    assert.equal(bootstrap.static_resources.clusters.length, 4);
    for (const cluster of bootstrap.static_resources.clusters) {
      const any = codec.toAny(TYPE_URLS.cluster, cluster);
      assert.deepEqual(codec.fromAny(any), { '@type': TYPE_URLS.cluster, ...cluster });
    }
  });

  it('an unknown field deep inside typed_config is reported with its path', () => {
    const listener = structuredClone(bootstrap.static_resources.listeners[0]) as Record<string, unknown>;
    const hcm = (listener as { filter_chains: { filters: { typed_config: JsonObject }[] }[] })
      .filter_chains[0].filters[0].typed_config;
    hcm.stat_prefx = 'x';
    (hcm.http_filters as JsonObject[])[0].typed_config = { '@type': 'type.googleapis.com/acme.Nope' };
    assert.deepEqual(issuesOf(() => codec.toAny(TYPE_URLS.listener, listener as JsonObject)).sort(), [
      "filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.@type: unknown type 'type.googleapis.com/acme.Nope'",
      "filter_chains[0].filters[0].typed_config.stat_prefx: unknown field 'stat_prefx' in envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
    ]);
  });
});

describe('json codec: field names, enums, oneofs, maps', () => {
  it('accepts lowerCamel names and emits snake_case', () => {
    assert.deepEqual(
      roundTrip('envoy.config.cluster.v3.Cluster', {
        name: 'c',
        connectTimeout: '2s',
        lbPolicy: 'RING_HASH',
      }),
      {
        name: 'c',
        connect_timeout: '2s',
        lb_policy: 'RING_HASH',
      },
    );
  });

  it('enums by name or number; unknown numbers stay numbers (open enums)', () => {
    assert.deepEqual(roundTrip('envoy.config.cluster.v3.Cluster', { lb_policy: 2 }), {
      lb_policy: 'RING_HASH',
    });
    assert.deepEqual(roundTrip('envoy.config.cluster.v3.Cluster', { lb_policy: 99 }), { lb_policy: 99 });
    assert.match(
      issuesOf(() => codec.encode('envoy.config.cluster.v3.Cluster', { lb_policy: 'FASTEST' }))[0],
      /^lb_policy: unknown LbPolicy value 'FASTEST'/,
    );
  });

  it('rejects two members of one oneof, naming both', () => {
    assert.deepEqual(
      issuesOf(() =>
        codec.encode('envoy.config.core.v3.DataSource', { inline_bytes: 'YQ==', inline_string: 'a' }),
      ),
      ["inline_string: 'inline_string' and 'inline_bytes' are in the same oneof 'specifier'"],
    );
  });

  it('null means the default (field omitted)', () => {
    assert.deepEqual(roundTrip('envoy.config.cluster.v3.Cluster', { name: 'c', connect_timeout: null }), {
      name: 'c',
    });
  });

  it('maps of Any (typed_extension_protocol_options) round-trip', () => {
    const cluster = {
      name: 'h2',
      typed_extension_protocol_options: {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
          explicit_http_config: { http2_protocol_options: { max_concurrent_streams: 100 } },
        },
      },
    };
    assert.deepEqual(roundTrip('envoy.config.cluster.v3.Cluster', cluster), cluster);
  });

  it('collects every error, not just the first', () => {
    const issues = issuesOf(() =>
      codec.encode('envoy.config.cluster.v3.Cluster', {
        name: 5,
        connect_timeout: '1',
        type: 'NOPE',
        bogus: 1,
      }),
    );
    assert.equal(issues.length, 4);
  });
});

describe('json codec: scalars', () => {
  it('int64 accepts numbers and strings and is emitted as a string', () => {
    const m = { name: 'x-n', range_match: { start: 1, end: '9007199254740993' } };
    assert.deepEqual(roundTrip('envoy.config.route.v3.HeaderMatcher', m), {
      name: 'x-n',
      range_match: { start: '1', end: '9007199254740993' },
    });
    assert.match(
      issuesOf(() => codec.encode('google.protobuf.Int64Value', '9223372036854775808'))[0],
      /out of range/,
    );
  });

  it('32-bit integers: strings and exponents accepted, fractions and out-of-range rejected', () => {
    const addr = (port: Json) => ({ socket_address: { address: '::1', port_value: port } });
    assert.deepEqual(roundTrip('envoy.config.core.v3.Address', addr('8080')), addr(8080));
    assert.deepEqual(roundTrip('envoy.config.core.v3.Address', addr('1e3')), addr(1000));
    assert.match(
      issuesOf(() => codec.encode('envoy.config.core.v3.Address', addr(1.5)))[0],
      /socket_address.port_value: expected an integer/,
    );
    assert.match(
      issuesOf(() => codec.encode('envoy.config.core.v3.Address', addr(-1)))[0],
      /out of range for uint32/,
    );
  });

  it('bytes: base64 in (standard or URL-safe, padding optional), standard padded out', () => {
    assert.deepEqual(roundTrip('envoy.config.core.v3.DataSource', { inline_bytes: 'aGVsbG8' }), {
      inline_bytes: 'aGVsbG8=',
    });
    assert.deepEqual(roundTrip('envoy.config.core.v3.DataSource', { inline_bytes: '-_8' }), {
      inline_bytes: '+/8=',
    });
    assert.match(
      issuesOf(() => codec.encode('envoy.config.core.v3.DataSource', { inline_bytes: 'a!b' }))[0],
      /invalid base64/,
    );
  });

  it('floats: NaN and Infinity as strings', () => {
    assert.deepEqual(
      roundTrip('google.protobuf.DoubleValue', 'Infinity'),
      'Infinity' as unknown as JsonObject,
    );
    assert.deepEqual(roundTrip('google.protobuf.DoubleValue', 'NaN'), 'NaN' as unknown as JsonObject);
    assert.deepEqual(roundTrip('google.protobuf.DoubleValue', 0.25), 0.25 as unknown as JsonObject);
  });
});

describe('json codec: well-known types', () => {
  const wkt = (type: string, json: Json): Json => roundTrip(`google.protobuf.${type}`, json);

  it('Duration: "1.5s" style, 0/3/6/9 fractional digits out, sign on both parts', () => {
    assert.equal(wkt('Duration', '1.5s'), '1.500s');
    assert.equal(wkt('Duration', '300s'), '300s');
    assert.equal(wkt('Duration', '0.000001s'), '0.000001s');
    assert.equal(wkt('Duration', '-0.5s'), '-0.500s');
    assert.equal(wkt('Duration', '1.000000001s'), '1.000000001s');
    const duration = protos.lookupType('google.protobuf.Duration');
    const raw = duration.toObject(duration.decode(codec.encode('google.protobuf.Duration', '-1.5s')), {
      longs: Number,
    });
    assert.deepEqual(raw, { seconds: -1, nanos: -500000000 });
    for (const bad of ['5', '1.5', '1.1234567891s', 's', '315576000001s']) {
      assert.equal(issuesOf(() => codec.encode('google.protobuf.Duration', bad)).length, 1, bad);
    }
  });

  it('Timestamp: RFC 3339 in (offsets allowed), UTC "Z" out', () => {
    assert.equal(wkt('Timestamp', '1972-01-01T10:00:20.021Z'), '1972-01-01T10:00:20.021Z');
    assert.equal(wkt('Timestamp', '2024-02-29T01:00:00+01:00'), '2024-02-29T00:00:00Z');
    assert.equal(wkt('Timestamp', '0001-01-01T00:00:00Z'), '0001-01-01T00:00:00Z');
    assert.equal(wkt('Timestamp', '2024-01-01T00:00:00.5Z'), '2024-01-01T00:00:00.500Z');
    for (const bad of ['2023-02-29T00:00:00Z', '2024-01-01 00:00:00Z', '2024-01-01T00:00:00']) {
      assert.equal(issuesOf(() => codec.encode('google.protobuf.Timestamp', bad)).length, 1, bad);
    }
  });

  it('wrappers are bare values; a false BoolValue is kept (presence), UInt32Value is a number', () => {
    assert.deepEqual(
      roundTrip('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', {
        use_remote_address: false,
      }),
      {
        use_remote_address: false,
      },
    );
    assert.deepEqual(
      roundTrip('envoy.config.cluster.v3.Cluster', { per_connection_buffer_limit_bytes: 32768 }),
      {
        per_connection_buffer_limit_bytes: 32768,
      },
    );
    assert.equal(wkt('UInt64Value', 18446744073709551615n.toString()), '18446744073709551615');
    assert.equal(wkt('StringValue', ''), '');
    assert.equal(wkt('BytesValue', 'AAE='), 'AAE=');
    assert.match(
      issuesOf(() => codec.encode('google.protobuf.BoolValue', 'true'))[0],
      /expected true or false/,
    );
  });

  it('Struct / Value / ListValue map to plain JSON', () => {
    const meta = { filter_metadata: { 'envoy.lb': { a: 1.5, b: [true, null, 'x', { c: [] }], d: {} } } };
    assert.deepEqual(roundTrip('envoy.config.core.v3.Metadata', meta), meta);
    assert.deepEqual(wkt('Value', null), null);
    assert.deepEqual(wkt('ListValue', [1, 'a']), [1, 'a']);
  });

  it('Any holding a well-known type carries it in "value"; Any in Any nests', () => {
    const any = { '@type': 'type.googleapis.com/google.protobuf.Duration', value: '2s' };
    assert.deepEqual(wkt('Any', any), any);
    const nested = {
      '@type': 'type.googleapis.com/google.protobuf.Any',
      value: { '@type': 'type.googleapis.com/google.protobuf.StringValue', value: 'hi' },
    };
    assert.deepEqual(wkt('Any', nested), nested);
    assert.match(issuesOf(() => codec.encode('google.protobuf.Any', { value: '2s' }))[0], /needs an "@type"/);
  });

  it('FieldMask is comma-joined lowerCamel paths', () => {
    assert.equal(
      wkt('FieldMask', 'connectTimeout,loadAssignment.clusterName'),
      'connectTimeout,loadAssignment.clusterName',
    );
    const raw = protos
      .lookupType('google.protobuf.FieldMask')
      .decode(codec.encode('google.protobuf.FieldMask', 'fooBar'));
    assert.deepEqual([...(raw as unknown as { paths: string[] }).paths], ['foo_bar']);
  });

  it('Empty is {}', () => {
    assert.deepEqual(wkt('Empty', {}), {});
  });
});

describe('json codec: decoder fuzz', () => {
  it('mutated Listener bytes decode or fail with ConfigError, never anything else', () => {
    const bootstrap = parse(readFileSync(repoFile('examples', 'envoy.yaml'), 'utf8')) as {
      static_resources: { listeners: JsonObject[] };
    };
    const good = codec.encode('envoy.config.listener.v3.Listener', bootstrap.static_resources.listeners[0]);
    const random = seededRandom(Number(process.env.WEFT_FUZZ_SEED ?? 0xf00d));
    const iterations = Number(process.env.WEFT_FUZZ_ITERATIONS ?? 300);
    let decoded = 0;
    for (let i = 0; i < iterations; i++) {
      const bytes = Uint8Array.from(good);
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips; f++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      const cut = random() < 0.2 ? bytes.subarray(0, Math.floor(random() * bytes.length)) : bytes;
      try {
        codec.decode('envoy.config.listener.v3.Listener', cut);
        decoded++;
      } catch (err) {
        assert.ok(err instanceof ConfigError, `iteration ${i}: ${String(err)}`);
      }
    }
    assert.ok(decoded < iterations, 'some mutations must be rejected');
  });
});
