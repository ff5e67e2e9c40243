// The proto loader's cache: a load from the cached definitions gives the same types as a
// parse of the .proto files, and a torn cache file is replaced by a parse.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createJsonCodec } from './json-codec.js';
import { createProtoLoader } from './protos.js';

describe('proto loader cache', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'weft-protos-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cluster = {
    name: 'c',
    type: 'EDS',
    connect_timeout: '1s',
    eds_cluster_config: { eds_config: { ads: {} } },
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
  };
  const CDS = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';

  it('writes the parsed definitions once and loads the same types from them', () => {
    const parsed = createProtoLoader().get();
    const first = createProtoLoader({ cacheDir: dir }).get();
    const cached = readdirSync(dir).filter((f) => f.endsWith('.json'));
    assert.equal(cached.length, 1);
    const second = createProtoLoader({ cacheDir: dir }).get();
    // protobufjs does not read enum values' options (valuesOptions) back from JSON; nothing in
    // Weft uses them. Everything else must come back the same.
    const json = (p: typeof parsed): string =>
      JSON.stringify(p.root.toJSON(), (k, v) => (k === 'valuesOptions' ? undefined : v));
    assert.equal(json(first), json(parsed));
    assert.equal(json(second), json(parsed));
    const bytes = (p: typeof parsed): Buffer => Buffer.from(createJsonCodec(p).toAny(CDS, cluster).value);
    assert.deepEqual(bytes(second), bytes(parsed));
  });

  it('a torn cache file is ignored (the protos are parsed) and replaced', () => {
    const [file] = readdirSync(dir).filter((f) => f.endsWith('.json'));
    writeFileSync(path.join(dir, file), '{"nested": {');
    const protos = createProtoLoader({ cacheDir: dir }).get();
    assert.ok(protos.findType(CDS) !== undefined);
    assert.ok(readFileSync(path.join(dir, file), 'utf8').length > 1000);
  });
});
