import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createDefaultHttpFilterRegistry } from '../src/config/http-filter-registry.js';
import { parseBootstrap } from '../src/config/load-bootstrap.js';
import { makeCertificate } from './certificate.js';
import { grpcFrame } from './grpc-backend.js';
import { parseH2loadOutput, weftProtocolBootstrap } from './protocols.js';

const H2LOAD = `finished in 2.00s, 11136.50 req/s, 11.61MB/s
requests: 22273 total, 22289 started, 22273 done, 22270 succeeded, 2 failed, 1 errored, 0 timeout
status codes: 22268 2xx, 0 3xx, 0 4xx, 2 5xx
traffic: 23.22MB (24344585) total, 1.08MB (1135923) headers (space savings 49.50%), 21.75MB (22807552) data
`;

describe('protocol bench', () => {
  it('parses h2load: requests/s, successes, and failures + errors + 4xx/5xx as errors', () => {
    assert.deepEqual(parseH2loadOutput(H2LOAD), { requestsPerSec: 11136.5, succeeded: 22270, errors: 5 });
    assert.throws(() => parseH2loadOutput('connect: Connection refused'), /unrecognised h2load output/);
  });

  it('frames a gRPC message: flag 0, big-endian length, payload', () => {
    assert.deepEqual([...grpcFrame(Buffer.from('hi'))], [0, 0, 0, 0, 2, 0x68, 0x69]);
  });

  it("builds a Weft bootstrap that Weft's own validator accepts", () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-bench-test-'));
    const tls = makeCertificate(dir);
    const doc = weftProtocolBootstrap(
      { h2c: 1, tls: 2, grpc: 3, plain: 4, resilient: 5, admin: 6, backend: 7, grpcBackend: 8 },
      tls,
      join(dir, 'access.log'),
    );
    const file = join(dir, 'weft.json');
    writeFileSync(file, JSON.stringify(doc));
    const parsed = parseBootstrap(JSON.stringify(doc), file, createDefaultHttpFilterRegistry());
    assert.equal(parsed.staticResources.listeners.length, 5);
  });

  it('builds a Weft bootstrap with one listener per row', () => {
    const b = weftProtocolBootstrap(
      { h2c: 1, tls: 2, grpc: 3, plain: 4, resilient: 5, admin: 6, backend: 7, grpcBackend: 8 },
      { cert: '/c.pem', key: '/k.pem' },
      '/access.log',
    ) as { static_resources: { listeners: Array<{ name: string }>; clusters: Array<{ name: string }> } };
    assert.deepEqual(
      b.static_resources.listeners.map((l) => l.name),
      ['plain', 'h2c', 'tls', 'grpc', 'resilient'],
    );
    assert.deepEqual(
      b.static_resources.clusters.map((c) => c.name),
      ['backend', 'grpc_backend', 'backend_resilient'],
    );
  });
});
