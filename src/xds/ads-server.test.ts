// The ADS server over real gRPC on 127.0.0.1: state-of-the-world fetch, ACK, NACK (kept with
// its detail, not re-sent), pushes after snapshot changes (debounced on a manual clock, only
// to proxies whose config changed), RDS/EDS by name, stale nonces, delta add/modify/remove,
// delta reconnect with initial_resource_versions, status() and clean shutdown.
//
// "Nothing was sent" is asserted with a barrier, not a sleep: responses on a stream are
// ordered, so after the action the test makes a request that surely gets a response and
// checks that this response is the next one to arrive.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { status as grpcStatus } from '@grpc/grpc-js';
import { createMemoryLogger } from '../core/logger.js';
import { createManualClock, type ManualClock } from '../proxy/upstream/testing/manual-clock.js';
import { type AdsServer, createAdsServer } from './ads-server.js';
import { createJsonCodec, type Json, type JsonObject } from './json-codec.js';
import { createProtoLoader } from './protos.js';
import { createResourceEncoder, type ResourceEncoder } from './resource-encoder.js';
import { createSnapshot, createStaticSnapshotSource, type StaticSnapshotSource } from './snapshot.js';
import { createSotwResponses, type SotwResponses } from './sotw-responses.js';
import { createAdsTestClient } from './testing/ads-test-client.js';
import { TYPE_URLS } from './type-urls.js';

const protos = createProtoLoader().get();
const codec = createJsonCodec(protos);
const { listener: LDS, route: RDS, cluster: CDS, endpoint: EDS } = TYPE_URLS;

function cluster(name: string, timeout = '1s'): JsonObject {
  return { name, type: 'EDS', connect_timeout: timeout, eds_cluster_config: { eds_config: { ads: {} } } };
}
function endpoints(name: string, ...ports: number[]): JsonObject {
  return {
    cluster_name: name,
    endpoints: [
      {
        lb_endpoints: ports.map((p) => ({
          endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: p } } },
        })),
      },
    ],
  };
}
function routes(name: string, clusterName: string): JsonObject {
  return {
    name,
    virtual_hosts: [
      { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: clusterName } }] },
    ],
  };
}

type Spec = Record<string, Record<string, Json>>;
function baseSpec(): Spec {
  return {
    [CDS]: { a: cluster('a'), b: cluster('b') },
    [EDS]: { a: endpoints('a', 8080), b: endpoints('b', 8081) },
    [RDS]: { r1: routes('r1', 'a'), r2: routes('r2', 'b') },
    [LDS]: {},
  };
}

describe('ADS server', () => {
  let clock: ManualClock;
  let source: StaticSnapshotSource;
  let server: AdsServer;
  let client: ReturnType<typeof createAdsTestClient>;
  let encoder: ResourceEncoder;
  let responses: SotwResponses;
  const logger = createMemoryLogger();

  beforeEach(async () => {
    clock = createManualClock();
    source = createStaticSnapshotSource(createSnapshot(baseSpec()));
    encoder = createResourceEncoder(codec, logger);
    responses = createSotwResponses();
    server = createAdsServer({
      responses,
      source,
      protos,
      codec,
      encoder,
      clock,
      logger,
      host: '127.0.0.1',
      port: 0,
      debounceMs: 100,
      maxDebounceMs: 500,
    });
    const { port } = await server.start();
    client = createAdsTestClient(protos, codec, port);
  });

  afterEach(async () => {
    await server.stop();
    client.close();
  });

  const node = (id: string): JsonObject => ({ id, cluster: 'test', metadata: { shape: 'x' }, locality: {} });
  const change = (edit: (spec: Spec) => void, nodeId?: string): void => {
    const spec = baseSpec();
    edit(spec);
    source.set(createSnapshot(spec), nodeId);
  };

  describe('state of the world', () => {
    it('initial CDS fetch is a wildcard with every cluster; the ACK makes the proxy SYNCED', async () => {
      const s = client.sotw(node('p1'));
      s.send({ typeUrl: CDS });
      const r = await s.next();
      assert.equal(r.typeUrl, CDS);
      assert.ok(r.version !== '' && r.nonce !== '');
      assert.deepEqual(r.resources, [
        { '@type': CDS, ...cluster('a') },
        { '@type': CDS, ...cluster('b') },
      ]);
      assert.equal(server.status()[0].types[0].state, 'STALE', 'sent, not yet ACKed');
      s.send({ typeUrl: CDS, version: r.version, nonce: r.nonce });
      // Barrier: the EDS answer proves the ACK was processed before it.
      s.send({ typeUrl: EDS, names: ['a'] });
      const e = await s.next();
      assert.equal(e.typeUrl, EDS);
      assert.deepEqual(e.names, ['a']);
      assert.deepEqual(e.resources, [{ '@type': EDS, ...endpoints('a', 8080) }]);
      const [st] = server.status();
      assert.equal(st.nodeId, 'p1');
      assert.equal(st.protocol, 'sotw');
      const cds = st.types.find((t) => t.type === 'CDS')!;
      assert.deepEqual(
        {
          state: cds.state,
          acked: cds.ackedVersion,
          sent: cds.sentVersion,
          subscribed: cds.subscribed,
          resources: cds.resources,
        },
        { state: 'SYNCED', acked: r.version, sent: r.version, subscribed: ['*'], resources: 2 },
      );
      assert.equal(st.types.find((t) => t.type === 'EDS')!.state, 'STALE');
      s.close();
    });

    it('an empty CDS set still gets an answer (the proxy must learn it has no clusters)', async () => {
      source.set(createSnapshot({ [LDS]: {} }));
      const s = client.sotw(node('p1'));
      s.send({ typeUrl: CDS });
      const r = await s.next();
      assert.deepEqual([r.typeUrl, r.resources], [CDS, []]);
      s.close();
    });

    it('RDS is by name: only the requested route configurations are sent', async () => {
      const s = client.sotw(node('p1'));
      s.send({ typeUrl: RDS, names: ['r2'] });
      const r = await s.next();
      assert.deepEqual(r.resources, [{ '@type': RDS, ...routes('r2', 'b') }]);
      s.close();
    });

    it('a NACK is recorded with its detail and the rejected version is not re-sent', async () => {
      const s = client.sotw(node('p1'));
      s.send({ typeUrl: CDS });
      const v1 = await s.next();
      s.send({ typeUrl: CDS, version: v1.version, nonce: v1.nonce });
      change((spec) => (spec[CDS].a = cluster('a', '2s')));
      clock.advance(100);
      const v2 = await s.next();
      assert.notEqual(v2.version, v1.version);
      s.send({
        typeUrl: CDS,
        version: v1.version,
        nonce: v2.nonce,
        error: { code: 3, message: 'cluster a: bad timeout' },
      });
      // Another notification with the same content: nothing new for this proxy, nothing re-sent.
      change((spec) => (spec[CDS].a = cluster('a', '2s')));
      clock.advance(100);
      s.send({ typeUrl: EDS, names: ['b'] });
      assert.equal((await s.next()).typeUrl, EDS, 'the NACKed CDS must not be re-sent');
      const cds = server.status()[0].types.find((t) => t.type === 'CDS')!;
      assert.equal(cds.state, 'NACKED');
      assert.equal(cds.ackedVersion, v1.version);
      assert.deepEqual(
        { version: cds.nack?.version, code: cds.nack?.code, message: cds.nack?.message },
        { version: v2.version, code: 3, message: 'cluster a: bad timeout' },
      );
      assert.ok(logger.lines.some((l) => l.includes('rejected CDS') && l.includes('bad timeout')));
      // A fixed config is pushed and its ACK clears the NACK.
      change((spec) => (spec[CDS].a = cluster('a', '3s')));
      clock.advance(100);
      const v3 = await s.next();
      assert.equal(v3.typeUrl, CDS);
      s.send({ typeUrl: CDS, version: v3.version, nonce: v3.nonce });
      s.send({ typeUrl: RDS, names: ['r1'] });
      await s.next();
      const after = server.status()[0].types.find((t) => t.type === 'CDS')!;
      assert.deepEqual([after.state, after.ackedVersion, after.nack], ['SYNCED', v3.version, undefined]);
      s.close();
    });

    it('a snapshot change is pushed after the debounce; EDS carries only the changed assignment', async () => {
      const s = client.sotw(node('p1'));
      s.send({ typeUrl: EDS, names: ['a', 'b'] });
      const first = await s.next();
      assert.deepEqual(first.names.sort(), ['a', 'b']);
      s.send({ typeUrl: EDS, names: ['a', 'b'], version: first.version, nonce: first.nonce });
      change((spec) => (spec[EDS].b = endpoints('b', 9090, 9091)));
      assert.equal(server.status()[0].types[0].state, 'STALE', 'a pending change shows as STALE');
      clock.advance(99);
      s.send({ typeUrl: RDS, names: ['r1'] });
      assert.equal((await s.next()).typeUrl, RDS, 'nothing pushed before the quiet period ends');
      clock.advance(1);
      const pushed = await s.next();
      assert.equal(pushed.typeUrl, EDS);
      assert.deepEqual(pushed.resources, [{ '@type': EDS, ...endpoints('b', 9090, 9091) }]);
      s.close();
    });

    it('debounce: a burst of changes becomes one push of the last state; a steady stream is capped by the max delay', async () => {
      const s = client.sotw(node('p1'));
      s.send({ typeUrl: EDS, names: ['a'] });
      const first = await s.next();
      s.send({ typeUrl: EDS, names: ['a'], version: first.version, nonce: first.nonce });
      for (const port of [1, 2, 3]) {
        change((spec) => (spec[EDS].a = endpoints('a', port)));
        clock.advance(60);
      }
      clock.advance(40);
      const one = await s.next();
      assert.deepEqual(one.resources, [{ '@type': EDS, ...endpoints('a', 3) }]);
      s.send({ typeUrl: EDS, names: ['a'], version: one.version, nonce: one.nonce });
      // Changes every 60 ms never leave 100 ms quiet; the 500 ms cap forces a push.
      for (let i = 10; i < 19; i++) {
        change((spec) => (spec[EDS].a = endpoints('a', i)));
        clock.advance(60);
      }
      const capped = await s.next();
      assert.deepEqual(capped.resources, [{ '@type': EDS, ...endpoints('a', 18) }]);
      s.close();
    });

    it('only proxies whose config changed get a push', async () => {
      const a = client.sotw(node('pa'));
      const b = client.sotw(node('pb'));
      for (const s of [a, b]) {
        s.send({ typeUrl: CDS });
        const r = await s.next();
        s.send({ typeUrl: CDS, version: r.version, nonce: r.nonce });
      }
      change((spec) => (spec[CDS].c = cluster('c')), 'pa');
      clock.advance(100);
      const pushed = await a.next();
      assert.deepEqual(pushed.names, ['a', 'b', 'c']);
      b.send({ typeUrl: RDS, names: ['r1'] });
      assert.equal((await b.next()).typeUrl, RDS, 'pb got no CDS push');
      a.close();
      b.close();
    });

    it('proxies of one shape share each response: encoded once per transition, nonces still rising per stream', async () => {
      const a = client.sotw(node('p1'));
      const b = client.sotw(node('p2'));
      a.send({ typeUrl: EDS, names: ['a', 'b'] });
      b.send({ typeUrl: EDS, names: ['a', 'b'] });
      const [fa, fb] = [await a.next(), await b.next()];
      assert.deepEqual(
        [fa.names.sort(), fb.names.sort()],
        [
          ['a', 'b'],
          ['a', 'b'],
        ],
      );
      assert.equal(fa.nonce, fb.nonce, 'the same bytes went to both');
      assert.equal(responses.encodedCount, 1);
      a.send({ typeUrl: EDS, names: ['a', 'b'], version: fa.version, nonce: fa.nonce });
      b.send({ typeUrl: EDS, names: ['a', 'b'], version: fb.version, nonce: fb.nonce });
      change((spec) => (spec[EDS].a = endpoints('a', 9090)));
      clock.advance(100);
      const [pa, pb] = [await a.next(), await b.next()];
      assert.deepEqual([pa.names, pb.names], [['a'], ['a']]);
      assert.equal(responses.encodedCount, 2);
      assert.ok(Number(pa.nonce) > Number(fa.nonce) && Number(pb.nonce) > Number(fb.nonce));
      a.close();
      b.close();
    });

    it('a CDS request made before any snapshot is answered when an empty one appears', async () => {
      source.set(undefined);
      const s = client.sotw(node('p1'));
      s.send({ typeUrl: CDS });
      // Barrier: the stream is identified (its request processed) once status() lists it.
      while (server.status().length === 0) await new Promise((r) => setImmediate(r));
      source.set(createSnapshot({ [LDS]: {} }));
      clock.advance(100);
      const r = await s.next();
      assert.deepEqual([r.typeUrl, r.resources], [CDS, []]);
      s.close();
    });

    it('a request with a stale nonce is ignored', async () => {
      const s = client.sotw(node('p1'));
      s.send({ typeUrl: EDS, names: ['a'] });
      const r1 = await s.next();
      change((spec) => (spec[EDS].a = endpoints('a', 1)));
      clock.advance(100);
      // The change is owed until the ACK; the ACK releases it.
      s.send({ typeUrl: EDS, names: ['a'], version: r1.version, nonce: r1.nonce });
      const r2 = await s.next();
      assert.deepEqual(r2.resources, [{ '@type': EDS, ...endpoints('a', 1) }]);
      // Stale: answers r1 and asks for 'b'; must be ignored (no EDS response for 'b').
      s.send({ typeUrl: EDS, names: ['a', 'b'], version: r1.version, nonce: r1.nonce });
      s.send({ typeUrl: RDS, names: ['r2'] });
      assert.equal((await s.next()).typeUrl, RDS);
      assert.equal(server.status()[0].types.find((t) => t.type === 'EDS')!.state, 'STALE');
      s.close();
    });

    it('a proxy with no snapshot waits; it is served once one appears', async () => {
      source.set(undefined);
      source.set(createSnapshot(baseSpec()), 'known');
      const s = client.sotw(node('unknown'));
      s.send({ typeUrl: CDS });
      source.set(createSnapshot(baseSpec()), 'unknown');
      clock.advance(100);
      const r = await s.next();
      assert.deepEqual(r.names, ['a', 'b']);
      s.close();
    });

    it('status lists connected proxies and forgets them when they disconnect', async () => {
      const a = client.sotw(node('pa'));
      const b = client.delta(node('pb'));
      a.send({ typeUrl: CDS });
      b.send({ typeUrl: CDS });
      await a.next();
      await b.next();
      assert.deepEqual(
        server.status().map((s) => [s.nodeId, s.protocol, s.cluster]),
        [
          ['pa', 'sotw', 'test'],
          ['pb', 'delta', 'test'],
        ],
      );
      a.close();
      await a.ended;
      await waitUntil(() => server.status().length === 1);
      assert.equal(server.status()[0].nodeId, 'pb');
      b.close();
    });

    it('stop() ends open streams with UNAVAILABLE', async () => {
      const s = client.sotw(node('p1'));
      s.send({ typeUrl: CDS });
      await s.next();
      await server.stop();
      const end = await s.ended;
      assert.equal(end.code, grpcStatus.UNAVAILABLE);
      assert.equal(server.streamCount, 0);
    });
  });

  describe('delta', () => {
    it('sends only added and modified resources, and removed_resources for deletions', async () => {
      const s = client.delta(node('d1'));
      s.send({ typeUrl: CDS });
      const r1 = await s.next();
      assert.deepEqual(r1.names, ['a', 'b']);
      assert.equal(r1.versions.length, 2);
      assert.deepEqual(r1.removed, []);
      s.send({ typeUrl: CDS, nonce: r1.nonce });
      change((spec) => {
        spec[CDS].a = cluster('a', '5s'); // modified
        delete spec[CDS].b; // removed
        spec[CDS].c = cluster('c'); // added
      });
      clock.advance(100);
      const r2 = await s.next();
      assert.deepEqual(r2.names.sort(), ['a', 'c']);
      assert.deepEqual(
        r2.resources.find((r) => r.name === 'a'),
        { '@type': CDS, ...cluster('a', '5s') },
      );
      assert.deepEqual(r2.removed, ['b']);
      s.send({ typeUrl: CDS, nonce: r2.nonce });
      const cds = await waitForStatus(server, 'd1', 'CDS', 'SYNCED');
      assert.equal(cds.resources, 2);
      s.close();
    });

    it('named subscriptions: subscribe, unsubscribe, and a missing name reported as removed', async () => {
      const s = client.delta(node('d1'));
      s.send({ typeUrl: EDS, subscribe: ['a', 'nope'] });
      const r1 = await s.next();
      assert.deepEqual([r1.names, r1.removed], [['a'], ['nope']]);
      s.send({ typeUrl: EDS, nonce: r1.nonce, subscribe: ['b'], unsubscribe: ['a'] });
      const r2 = await s.next();
      assert.deepEqual([r2.names, r2.removed], [['b'], []]);
      s.send({ typeUrl: EDS, nonce: r2.nonce });
      // A change to an unsubscribed resource is not pushed.
      change((spec) => (spec[EDS].a = endpoints('a', 1)));
      clock.advance(100);
      s.send({ typeUrl: RDS, subscribe: ['r1'] });
      assert.equal((await s.next()).typeUrl, RDS);
      s.close();
    });

    it('reconnect with initial_resource_versions gets only what differs', async () => {
      const s1 = client.delta(node('d1'));
      s1.send({ typeUrl: CDS });
      const r1 = await s1.next();
      const held = Object.fromEntries(r1.names.map((n, i) => [n, r1.versions[i]]));
      s1.close();
      change((spec) => {
        spec[CDS].b = cluster('b', '9s');
        delete spec[CDS].a;
        spec[CDS].c = cluster('c');
      });
      clock.advance(100);
      const s2 = client.delta(node('d1'));
      s2.send({ typeUrl: CDS, initialVersions: { ...held, gone: 'x' } });
      const r2 = await s2.next();
      assert.deepEqual(r2.names.sort(), ['b', 'c']);
      assert.deepEqual(r2.removed.sort(), ['a', 'gone']);
      s2.close();
    });

    it('a reconnect that already holds everything gets no response', async () => {
      const s1 = client.delta(node('d1'));
      s1.send({ typeUrl: EDS, subscribe: ['a'] });
      const r1 = await s1.next();
      s1.close();
      const s2 = client.delta(node('d1'));
      s2.send({ typeUrl: EDS, subscribe: ['a'], initialVersions: { a: r1.versions[0] } });
      s2.send({ typeUrl: RDS, subscribe: ['r1'] });
      assert.equal((await s2.next()).typeUrl, RDS);
      const eds = await waitForStatus(server, 'd1', 'EDS', 'SYNCED');
      assert.equal(eds.resources, 1);
      s2.close();
    });

    it('a NACK is recorded with its detail', async () => {
      const s = client.delta(node('d1'));
      s.send({ typeUrl: CDS });
      const r1 = await s.next();
      s.send({ typeUrl: CDS, nonce: r1.nonce, error: { code: 3, message: 'no' } });
      const cds = await waitForStatus(server, 'd1', 'CDS', 'NACKED');
      assert.deepEqual([cds.nack?.message, cds.nack?.nonce, cds.nack?.version], ['no', r1.nonce, r1.version]);
      s.close();
    });
  });

  describe('encoding is shared', () => {
    it('one snapshot served to many proxies encodes each resource once', async () => {
      const streams = [1, 2, 3].map((i) => client.sotw(node(`p${i}`)));
      for (const s of streams) s.send({ typeUrl: CDS });
      for (const s of streams) assert.equal((await s.next()).resources.length, 2);
      assert.equal(server.status().length, 3);
      assert.equal(encoder.encodedCount, 2);
      for (const s of streams) s.close();
    });
  });
});

async function waitUntil(cond: () => boolean): Promise<void> {
  // Polls on the event loop (no timers): the condition depends on socket events only.
  for (let i = 0; i < 100_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(cond(), 'condition not reached');
}

async function waitForStatus(server: AdsServer, nodeId: string, type: string, state: string) {
  let found: ReturnType<AdsServer['status']>[number]['types'][number] | undefined;
  await waitUntil(() => {
    found = server
      .status()
      .find((s) => s.nodeId === nodeId)
      ?.types.find((t) => t.type === type && t.state === state);
    return found !== undefined;
  });
  return found!;
}
