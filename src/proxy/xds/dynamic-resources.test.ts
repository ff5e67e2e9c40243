// The xDS state without a network: updates in, applied configs and subscriptions out.
// Warming order (EDS clusters before the routes and listeners that use them, listeners
// after their RDS routes), all-or-nothing NACKs naming resource and field path, no churn
// for unchanged resources, removed clusters kept while routed to, initial fetch timeouts
// on a manual clock, and a failing apply turned into a NACK with nothing changed.

import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { createDefaultHttpFilterRegistry } from '../../config/http-filter-registry.js';
import type { Cluster, Listener } from '../../config/model.js';
import { createMemoryLogger } from '../../core/logger.js';
import type { JsonObject } from '../../xds/json-codec.js';
import { TYPE_URLS } from '../../xds/type-urls.js';
import { createManualClock, type ManualClock } from '../upstream/testing/manual-clock.js';
import type { AdsUpdate } from './ads-client.js';
import type { DynamicConfig } from './dynamic-config.js';
import { createDynamicResources, type DynamicResources } from './dynamic-resources.js';
import { createResourceTypes } from './resource-types.js';

const { listener: LDS, route: RDS, cluster: CDS, endpoint: EDS } = TYPE_URLS;
const HCM =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

const cluster = (name: string): JsonObject => ({
  '@type': CDS,
  name,
  type: 'EDS',
  eds_cluster_config: { eds_config: { ads: {} } },
});
const staticCluster = (name: string, port: number): JsonObject => ({
  '@type': CDS,
  name,
  load_assignment: {
    endpoints: [
      {
        lb_endpoints: [
          { endpoint: { address: { socket_address: { address: '10.0.0.9', port_value: port } } } },
        ],
      },
    ],
  },
});
const cla = (name: string, port: number): JsonObject => ({
  '@type': EDS,
  cluster_name: name,
  endpoints: [
    {
      lb_endpoints: [
        { endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: port } } } },
      ],
    },
  ],
});
const routes = (name: string, clusterName: string): JsonObject => ({
  '@type': RDS,
  name,
  virtual_hosts: [
    { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: clusterName } }] },
  ],
});
const listener = (name: string, rds: string): JsonObject => ({
  '@type': LDS,
  name,
  address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
  filter_chains: [
    {
      filters: [
        {
          name: 'hcm',
          typed_config: {
            '@type': HCM,
            stat_prefix: name,
            rds: { route_config_name: rds, config_source: { ads: {} } },
            http_filters: [{ name: 'router', typed_config: { '@type': ROUTER } }],
          },
        },
      ],
    },
  ],
});

function update(typeUrl: string, version: string, resources: JsonObject[], complete?: boolean): AdsUpdate {
  return {
    typeUrl,
    versionInfo: version,
    resources: resources.map((json) => ({
      name: String(json.name ?? json.cluster_name),
      version,
      json,
    })),
    removed: [],
    complete: complete ?? (typeUrl === LDS || typeUrl === CDS),
  };
}

describe('xDS state: validation, warming, subscriptions', () => {
  let clock: ManualClock;
  let applied: DynamicConfig[];
  let subscriptions: Map<string, readonly string[]>;
  let state: DynamicResources;
  let failApply: Error | null;
  const names = (c: DynamicConfig) => ({
    clusters: c.clusters.map((x: Cluster) => x.name).sort(),
    listeners: c.listeners.map((x: Listener) => x.name).sort(),
    routes: [...c.routes.keys()].sort(),
    endpoints: [...c.endpoints.keys()].sort(),
  });
  const last = () => names(applied[applied.length - 1]);

  beforeEach(() => {
    clock = createManualClock();
    applied = [];
    subscriptions = new Map();
    failApply = null;
    state = createDynamicResources({
      types: createResourceTypes(createDefaultHttpFilterRegistry()),
      clock,
      logger: createMemoryLogger(),
      staticListeners: [],
      staticClusters: [],
      apply: async (c) => {
        if (failApply !== null) throw failApply;
        applied.push(c);
      },
      subscribe: (t, n) => subscriptions.set(t, n),
      initialFetchTimeoutMs: 15_000,
    });
    state.start();
  });

  it('EDS clusters warm until their endpoints arrive; listeners until their routes and clusters are active', async () => {
    assert.deepEqual(await state.onUpdate(update(CDS, 'c1', [cluster('a')])), { ok: true });
    assert.deepEqual(subscriptions.get(EDS), ['a']);
    assert.deepEqual(last().clusters, [], 'a is warming');
    assert.deepEqual(await state.onUpdate(update(LDS, 'l1', [listener('in', 'r')])), { ok: true });
    assert.deepEqual(subscriptions.get(RDS), ['r']);
    assert.deepEqual(last().listeners, [], 'in waits for its routes');
    assert.deepEqual(await state.onUpdate(update(RDS, 'r1', [routes('r', 'a')])), { ok: true });
    assert.deepEqual(
      last(),
      { clusters: [], listeners: [], routes: [], endpoints: [] },
      'r waits for cluster a',
    );
    assert.deepEqual(await state.onUpdate(update(EDS, 'e1', [cla('a', 80)])), { ok: true });
    assert.deepEqual(last(), { clusters: ['a'], listeners: ['in'], routes: ['r'], endpoints: ['a'] });
    const dump = state.dump();
    assert.deepEqual(
      dump.listeners.active.map((e) => [e.name, e.version]),
      [['in', 'l1']],
    );
    assert.deepEqual(dump.listeners.warming, []);
  });

  it('a new cluster version warms while the old one keeps serving', async () => {
    await state.onUpdate(update(CDS, 'c1', [cluster('a')]));
    await state.onUpdate(update(EDS, 'e1', [cla('a', 80)]));
    const renamed = {
      ...cluster('a'),
      eds_cluster_config: { eds_config: { ads: {} }, service_name: 'a-v2' },
    };
    await state.onUpdate(update(CDS, 'c2', [renamed]));
    assert.deepEqual(subscriptions.get(EDS), ['a', 'a-v2'], 'the old service name stays while in use');
    assert.equal(applied[applied.length - 1].clusters[0].edsServiceName, 'a', 'old version active');
    assert.deepEqual(
      state.dump().clusters.warming.map((e) => e.version),
      ['c2'],
    );
    await state.onUpdate(update(EDS, 'e2', [cla('a-v2', 81)]));
    assert.equal(applied[applied.length - 1].clusters[0].edsServiceName, 'a-v2');
    assert.deepEqual(subscriptions.get(EDS), ['a-v2']);
  });

  it('rejects the whole update with every problem, naming resource and field path', async () => {
    await state.onUpdate(update(CDS, 'c1', [cluster('a')]));
    const before = applied.length;
    const bad = { ...cluster('b'), lb_policy: 'CLUSTER_PROVIDED', connect_timeout: '5ms' };
    const v = await state.onUpdate(update(CDS, 'c2', [cluster('a'), bad, staticCluster('c', 80)]));
    assert.equal(v.ok, false);
    assert.match(
      !v.ok ? v.message : '',
      /^Cluster 'b': connect_timeout: .*; Cluster 'b': lb_policy: 'CLUSTER_PROVIDED' is not supported/,
    );
    assert.equal(applied.length, before, 'nothing applied');
    assert.deepEqual(
      state.dump().clusters.warming.map((e) => e.name),
      ['a'],
      'the accepted set is unchanged (c was not added)',
    );
  });

  it('a listener naming an undefined cluster is NACKed; a route with validate_clusters too', async () => {
    await state.onUpdate(update(CDS, 'c1', [staticCluster('known', 80)]));
    const tcp: JsonObject = {
      '@type': LDS,
      name: 'tcp',
      address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
      filter_chains: [
        {
          filters: [
            {
              name: 'tcp',
              typed_config: {
                '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
                stat_prefix: 'tcp',
                cluster: 'unknown',
              },
            },
          ],
        },
      ],
    };
    const v = await state.onUpdate(update(LDS, 'l1', [tcp]));
    assert.deepEqual(v, {
      ok: false,
      message:
        "Listener 'tcp': filter_chains[0].filters[0].typed_config.cluster: cluster 'unknown' is not defined",
    });
    const strict = { ...routes('r', 'unknown'), validate_clusters: true };
    const r = await state.onUpdate(update(RDS, 'r1', [strict]));
    assert.equal(r.ok, false);
    assert.match(
      !r.ok ? r.message : '',
      /RouteConfiguration 'r': virtual_hosts\[0\]\.routes\[0\]\.route\.cluster: cluster 'unknown' is not defined/,
    );
    // Without validate_clusters (the RDS default) an unknown cluster is fine: 503 at request time.
    assert.deepEqual(await state.onUpdate(update(RDS, 'r2', [routes('r', 'unknown')])), { ok: true });
  });

  it('an unchanged resource re-sent (a reconnect) keeps its value and last_updated', async () => {
    await state.onUpdate(update(CDS, 'c1', [staticCluster('s', 80)]));
    const first = applied[applied.length - 1].clusters[0];
    const updatedAt = state.dump().clusters.active[0].lastUpdated;
    clock.advance(1000);
    await state.onUpdate(update(CDS, 'c1-again', [staticCluster('s', 80)]));
    assert.equal(applied[applied.length - 1].clusters[0], first, 'same value object');
    assert.equal(state.dump().clusters.active[0].lastUpdated, updatedAt);
    assert.equal(state.dump().clusters.active[0].version, 'c1-again');
  });

  it('a cluster removed by CDS stays while an active route still sends traffic to it', async () => {
    await state.onUpdate(update(CDS, 'c1', [staticCluster('old', 80), staticCluster('new', 81)]));
    await state.onUpdate(update(LDS, 'l1', [listener('in', 'r')]));
    await state.onUpdate(update(RDS, 'r1', [routes('r', 'old')]));
    await state.onUpdate(update(CDS, 'c2', [staticCluster('new', 81)]));
    assert.deepEqual(last().clusters, ['new', 'old']);
    await state.onUpdate(update(RDS, 'r2', [routes('r', 'new')]));
    assert.deepEqual(last().clusters, ['new']);
  });

  it('a resource that never arrives stops blocking after the initial fetch timeout', async () => {
    await state.onUpdate(update(CDS, 'c1', [cluster('a')]));
    await state.onUpdate(update(LDS, 'l1', [listener('in', 'r')]));
    assert.deepEqual(last().listeners, []);
    clock.advance(15_000);
    await state.idle();
    assert.deepEqual(last(), { clusters: ['a'], listeners: ['in'], routes: ['r'], endpoints: [] });
    assert.equal(applied[applied.length - 1].routes.get('r')?.virtualHosts.length, 0, 'no routes: 404');
  });

  it('an apply that fails is a NACK and changes nothing', async () => {
    await state.onUpdate(update(CDS, 'c1', [staticCluster('s', 80)]));
    failApply = new Error("listener 'in': cannot listen on 127.0.0.1:1: EACCES");
    const v = await state.onUpdate(update(LDS, 'l1', [listener('in', 'r'), listener('in2', 'r')]));
    // Listeners wait for RDS: nothing to bind yet, so the apply (of no listener) is attempted and fails.
    assert.equal(v.ok, false);
    assert.match(!v.ok ? v.message : '', /applying LDS version l1: listener 'in': cannot listen/);
    assert.deepEqual(state.dump().listeners.warming, []);
    assert.equal(subscriptions.get(RDS), undefined, 'no RDS subscription for rejected listeners');
  });
});
