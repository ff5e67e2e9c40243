// The ADS client against the real ADS server over gRPC on 127.0.0.1: ACK adopts the
// version, a handler's rejection (or exception) is a NACK with its message (the server
// records it and keeps the last accepted version), by-name subscriptions, and reconnection after the server goes away with the back-off
// on a manual clock (nothing reconnects until the clock says so). Plus the back-off law.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createMemoryLogger } from '../../core/logger.js';
import { type AdsServer, createAdsServer } from '../../xds/ads-server.js';
import { createJsonCodec, type JsonObject } from '../../xds/json-codec.js';
import { createProtoLoader } from '../../xds/protos.js';
import { createSnapshot, createStaticSnapshotSource, type StaticSnapshotSource } from '../../xds/snapshot.js';
import { TYPE_URLS } from '../../xds/type-urls.js';
import { createManualClock, type ManualClock } from '../upstream/testing/manual-clock.js';
import { type AdsClient, type AdsUpdate, type AdsVerdict, createAdsClient } from './ads-client.js';
import { createBackoff } from './backoff.js';

const protos = createProtoLoader().get();
const codec = createJsonCodec(protos);
const { cluster: CDS, endpoint: EDS } = TYPE_URLS;

const cluster = (name: string, timeout = '1s'): JsonObject => ({
  name,
  type: 'EDS',
  connect_timeout: timeout,
  eds_cluster_config: { eds_config: { ads: {} } },
});
const cla = (name: string, port: number): JsonObject => ({
  cluster_name: name,
  endpoints: [
    {
      lb_endpoints: [
        { endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: port } } } },
      ],
    },
  ],
});

async function until(what: string, fn: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('jittered exponential back-off', () => {
  it('doubles the ceiling up to max, scaled by the injected random, and resets', () => {
    const b = createBackoff({ baseMs: 500, maxMs: 4000, random: () => 0.5 });
    assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [250, 500, 1000, 2000, 2000]);
    assert.equal(b.attempts, 5);
    b.reset();
    assert.equal(b.next(), 250);
    const zero = createBackoff({ random: () => 0 });
    assert.equal(zero.next(), 0, 'full jitter may retry at once');
    const high = createBackoff({ random: () => 0.999999, maxMs: 30_000 });
    for (let i = 0; i < 100; i++) assert.ok(high.next() < 30_000);
  });
});

describe('ADS client', () => {
  let clock: ManualClock;
  let source: StaticSnapshotSource;
  let server: AdsServer;
  let port: number;
  let client: AdsClient;
  let updates: AdsUpdate[];
  let verdict: (u: AdsUpdate) => AdsVerdict;

  const startServer = async (p = 0) => {
    server = createAdsServer({
      source,
      protos,
      codec,
      logger: createMemoryLogger(),
      port: p,
      debounceMs: 0,
      maxDebounceMs: 0,
    });
    port = (await server.start()).port;
  };
  const open = (protocol: 'sotw' | 'delta') => {
    client = createAdsClient({
      protos,
      codec,
      target: `ipv4:127.0.0.1:${port}`,
      node: { id: 'n1', cluster: 'c' },
      protocol,
      handler: {
        async onUpdate(u) {
          updates.push(u);
          return verdict(u);
        },
      },
      clock,
      random: () => 0.5,
      logger: createMemoryLogger(),
    });
  };
  const typeStatus = (short: string) => server.status()[0]?.types.find((t) => t.type === short);

  beforeEach(async () => {
    clock = createManualClock();
    updates = [];
    verdict = () => ({ ok: true });
    source = createStaticSnapshotSource(
      createSnapshot({ [CDS]: { a: cluster('a') }, [EDS]: { a: cla('a', 80), b: cla('b', 81) } }),
    );
    await startServer();
  });

  afterEach(async () => {
    client.close();
    await server.stop();
  });

  it('SotW: ACKs adopt the version; a rejection is a NACK with the message and the old version stays', async () => {
    open('sotw');
    client.subscribe(CDS, '*');
    client.start();
    await until('the CDS ACK', () => typeStatus('CDS')?.state === 'SYNCED');
    assert.equal(updates[0].resources[0].name, 'a');
    assert.equal(updates[0].complete, true);
    const v1 = typeStatus('CDS')!.ackedVersion;
    assert.equal(client.status().types[0].versionInfo, v1);

    verdict = () => ({ ok: false, message: "Cluster 'a': connect_timeout: bad" });
    source.set(createSnapshot({ [CDS]: { a: cluster('a', '2s') } }));
    server.flush();
    await until('the NACK', () => typeStatus('CDS')?.state === 'NACKED');
    assert.equal(typeStatus('CDS')!.nack!.message, "Cluster 'a': connect_timeout: bad");
    assert.equal(typeStatus('CDS')!.ackedVersion, v1, 'the proxy still reports the old version');
    assert.equal(client.status().types[0].versionInfo, v1);
    assert.equal(client.status().types[0].lastNack?.message, "Cluster 'a': connect_timeout: bad");
  });

  it('by-name subscriptions: only the named resources; a new name is fetched', async () => {
    open('sotw');
    client.subscribe(EDS, ['a']);
    client.start();
    await until('EDS a', () => updates.length === 1);
    assert.deepEqual(
      updates[0].resources.map((r) => r.name),
      ['a'],
    );
    assert.equal(updates[0].complete, false);
    client.subscribe(EDS, ['a', 'b']);
    await until('EDS b', () => updates.length === 2);
    assert.deepEqual(
      updates[1].resources.map((r) => r.name),
      ['b'],
    );
    await until('SYNCED', () => typeStatus('EDS')?.state === 'SYNCED');
    assert.deepEqual(typeStatus('EDS')!.subscribed, ['a', 'b']);
  });

  it('delta: a handler that throws is a NACK carrying the error; the held versions stay', async () => {
    open('delta');
    client.subscribe(CDS, '*');
    client.start();
    await until('SYNCED', () => typeStatus('CDS')?.state === 'SYNCED');
    const held = client.status().types[0].resourceVersions;
    assert.deepEqual(Object.keys(held), ['a']);
    verdict = () => {
      throw new Error('boom');
    };
    source.set(createSnapshot({ [CDS]: { a: cluster('a', '3s'), b: cluster('b') } }));
    server.flush();
    await until('the NACK', () => typeStatus('CDS')?.state === 'NACKED');
    assert.equal(typeStatus('CDS')!.nack!.message, 'boom');
    assert.deepEqual(client.status().types[0].resourceVersions, held);
  });

  it('reconnects on the back-off clock after the server goes away, and re-subscribes', async () => {
    open('sotw');
    client.subscribe(CDS, '*');
    client.start();
    await until('SYNCED', () => typeStatus('CDS')?.state === 'SYNCED');
    const version = typeStatus('CDS')!.ackedVersion;
    await server.stop();
    await until('the stream to end', () => !client.status().connected);
    await startServer(port);
    // Nothing happens until the back-off (0.5 x 500 ms) elapses on the manual clock.
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(server.streamCount, 0);
    clock.advance(249);
    assert.equal(server.streamCount, 0);
    clock.advance(1);
    await until('the new stream', () => typeStatus('CDS')?.state === 'SYNCED');
    assert.equal(client.status().streamsOpened, 2);
    assert.equal(typeStatus('CDS')!.ackedVersion, version);
    assert.equal(updates.length, 2, 'SotW: the new server sends the set again');
  });
});
