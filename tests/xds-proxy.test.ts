// `weft proxy` as an xDS (ADS) client, end to end over real gRPC and real sockets: a real
// ADS server (createAdsServer) feeds a proxy a listener with RDS and an EDS cluster; routes
// and endpoints change live (no restart, in-flight requests unharmed); an invalid resource
// is NACKed with its field path while the last good config serves; the control plane stops
// (traffic continues) and a new one on the same port is reconnected to and resynced without
// churn; config_dump shows versions; the delta protocol; and the spawned CLI.
//
// The ADS client's back-off runs on a manual clock, so a reconnect happens when the test
// advances it, never after a sleep. waitFor polls real processes and sockets, not time.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../src/core/clock.js';
import { createMemoryLogger } from '../src/core/logger.js';
import { ProxyServer } from '../src/proxy/proxy-server.js';
import { createManualClock, type ManualClock } from '../src/proxy/upstream/testing/manual-clock.js';
import { buildXdsBootstrap } from '../src/proxy/xds/xds-bootstrap.js';
import { type AdsServer, createAdsServer } from '../src/xds/ads-server.js';
import type { Json, JsonObject } from '../src/xds/json-codec.js';
import { createProtoLoader } from '../src/xds/protos.js';
import {
  createSnapshot,
  createStaticSnapshotSource,
  type StaticSnapshotSource,
} from '../src/xds/snapshot.js';
import { TYPE_URLS } from '../src/xds/type-urls.js';
import {
  type Backend,
  HCM_TYPE,
  ROUTER_FILTER,
  request,
  requestHost,
  splitHostPort,
  startBackend,
  tempDir,
  waitFor,
} from './support/harness.js';

const protos = createProtoLoader().get();
const { listener: LDS, route: RDS, cluster: CDS, endpoint: EDS } = TYPE_URLS;

function edsCluster(name: string): JsonObject {
  return { name, type: 'EDS', connect_timeout: '1s', eds_cluster_config: { eds_config: { ads: {} } } };
}
function endpoints(name: string, ...ports: number[]): JsonObject {
  return {
    cluster_name: name,
    endpoints: [
      {
        lb_endpoints: ports.map((p) => ({
          endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } },
        })),
      },
    ],
  };
}
function routes(name: string, cluster: string, extra: JsonObject = {}): JsonObject {
  return {
    name,
    virtual_hosts: [
      { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster }, ...extra }] },
    ],
  };
}
function rdsListener(name: string, routeConfigName: string): JsonObject {
  return {
    name,
    address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': HCM_TYPE,
              stat_prefix: name,
              rds: { route_config_name: routeConfigName, config_source: { ads: {} } },
              http_filters: [ROUTER_FILTER as unknown as Json],
            },
          },
        ],
      },
    ],
  };
}

type Spec = Record<string, Record<string, Json>>;

interface Harness {
  server: AdsServer;
  port: number;
  source: StaticSnapshotSource;
  proxy: ProxyServer;
  xdsClock: ManualClock;
  logs: string[];
  set(spec: Spec): void;
  listenerPort(name: string): number;
  close(): Promise<void>;
}

async function startAds(
  source: StaticSnapshotSource,
  port = 0,
): Promise<{ server: AdsServer; port: number }> {
  const server = createAdsServer({
    source,
    protos,
    logger: createMemoryLogger(),
    port,
    // Pushes go out at once: the tests wait for their effect, not for a debounce.
    debounceMs: 0,
    maxDebounceMs: 0,
  });
  const bound = await server.start();
  return { server, port: bound.port };
}

async function startHarness(spec: Spec, opts: { delta?: boolean; nodeId?: string } = {}): Promise<Harness> {
  const source = createStaticSnapshotSource(createSnapshot(spec));
  let ads = await startAds(source);
  const xdsClock = createManualClock();
  const logger = createMemoryLogger();
  const proxy = await ProxyServer.start(
    {
      bootstrap: buildXdsBootstrap({
        server: `127.0.0.1:${ads.port}`,
        nodeId: opts.nodeId ?? 'proxy-1',
        nodeCluster: 'test',
        delta: opts.delta,
        adminAddress: '127.0.0.1:0',
      }),
      drainTimeMs: 2000,
    },
    {
      clock: systemClock,
      logger,
      hostname: 'test-host',
      xds: { protos: () => protos, clock: xdsClock, random: () => 0.5 },
    },
  );
  const h: Harness = {
    get server() {
      return ads.server;
    },
    set server(s) {
      ads = { ...ads, server: s };
    },
    port: ads.port,
    source,
    proxy,
    xdsClock,
    logs: logger.lines,
    set(next) {
      source.set(createSnapshot(next));
      ads.server.flush();
    },
    listenerPort(name) {
      const l = proxy.listeners.get(name);
      if (l === undefined) throw new Error(`no listener ${name}`);
      return l.address.port;
    },
    async close() {
      await proxy.shutdown();
      await ads.server.stop();
    },
  };
  return h;
}

function baseSpec(a: Backend, b: Backend): Spec {
  return {
    [CDS]: { alpha: edsCluster('alpha'), beta: edsCluster('beta') },
    [EDS]: { alpha: endpoints('alpha', a.port), beta: endpoints('beta', b.port) },
    [LDS]: { ingress: rdsListener('ingress', 'main') },
    [RDS]: { main: routes('main', 'alpha') },
  };
}

async function get(port: number, path = '/', agent?: Agent): Promise<{ status: number; body: string }> {
  const r = await request(port, path, { agent });
  return { status: r.status, body: r.body };
}

async function adminJson(proxy: ProxyServer, path: string): Promise<Record<string, unknown>> {
  const [host, port] = splitHostPort(proxy.admin!.addressString);
  return JSON.parse((await requestHost(host, port, path)).body) as Record<string, unknown>;
}

describe('weft proxy as an ADS client (state of the world)', () => {
  let a: Backend;
  let b: Backend;
  let c: Backend;
  const held: ServerResponse[] = [];
  let h: Harness;
  let spec: Spec;

  before(async () => {
    a = await startBackend('a');
    b = await startBackend('b');
    // c answers only when the test releases the response (an in-flight request).
    c = await startBackend('c', (_req, res) => {
      held.push(res);
    });
    spec = baseSpec(a, b);
    h = await startHarness(spec);
  });

  after(async () => {
    await h.close();
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('a listener with RDS and an EDS cluster from ADS: a request reaches the backend', async () => {
    await waitFor(() => h.proxy.listeners.get('ingress') !== undefined, 'the xDS listener');
    const r = await get(h.listenerPort('ingress'), '/hello');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'a GET /hello\n');
    const [st] = h.server.status();
    assert.equal(st.nodeId, 'proxy-1');
    assert.deepEqual(
      st.types.map((t) => [t.type, t.state]),
      [
        ['CDS', 'SYNCED'],
        ['LDS', 'SYNCED'],
        ['EDS', 'SYNCED'],
        ['RDS', 'SYNCED'],
      ],
    );
  });

  it('a route change (RDS) applies to the next request, on the same connection, without listener churn', async () => {
    const port = h.listenerPort('ingress');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    assert.match((await get(port, '/x', agent)).body, /^a /);
    spec = { ...spec, [RDS]: { main: routes('main', 'beta') } };
    h.set(spec);
    await waitFor(async () => (await get(port, '/x', agent)).body.startsWith('b '), 'the new route');
    assert.equal(h.listenerPort('ingress'), port, 'the listener was not re-bound');
    agent.destroy();
  });

  it('an EDS change moves traffic; the request in flight to a removed endpoint completes', async () => {
    const port = h.listenerPort('ingress');
    spec = { ...spec, [EDS]: { ...spec[EDS], beta: endpoints('beta', c.port) } };
    h.set(spec);
    // The held request goes to c and stays in flight.
    let inflight: Promise<{ status: number; body: string }> | undefined;
    await waitFor(() => {
      if (held.length > 0) return true;
      if (inflight === undefined) inflight = get(port, '/slow');
      return false;
    }, 'a request held by c');
    const beta = h.proxy.clusters.get('beta');
    // c is replaced by b while the request is in flight.
    spec = { ...spec, [EDS]: { ...spec[EDS], beta: endpoints('beta', b.port) } };
    h.set(spec);
    await waitFor(() => h.proxy.clusters.get('beta')?.hosts[0]?.port === b.port, 'the new endpoint');
    assert.equal(h.proxy.clusters.get('beta'), beta, 'the cluster was updated in place, not rebuilt');
    assert.match((await get(port, '/after')).body, /^b GET \/after/);
    const res = held.shift()!;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('c finished\n');
    const done = await inflight!;
    assert.deepEqual(done, { status: 200, body: 'c finished\n' });
  });

  it('an invalid resource is NACKed with its path; the last good config keeps serving', async () => {
    const port = h.listenerPort('ingress');
    const bad = { ...edsCluster('gamma'), lb_policy: 'CLUSTER_PROVIDED' };
    h.set({ ...spec, [CDS]: { ...spec[CDS], gamma: bad } });
    await waitFor(
      () => h.server.status()[0]?.types.find((t) => t.type === 'CDS')?.state === 'NACKED',
      'the CDS NACK',
    );
    const cds = h.server.status()[0].types.find((t) => t.type === 'CDS')!;
    assert.match(
      cds.nack!.message,
      /Cluster 'gamma': lb_policy: 'CLUSTER_PROVIDED' is not supported by Weft/,
    );
    assert.equal(h.proxy.clusters.get('gamma'), undefined);
    assert.match((await get(port, '/still')).body, /^b /);
    // The proxy's own view shows the rejection too.
    const xds = (await adminJson(h.proxy, '/xds')) as { types: Array<{ type: string; lastNack: unknown }> };
    assert.notEqual(xds.types.find((t) => t.type === 'CDS')?.lastNack, null);
    assert.equal(h.proxy.stats.counter('xds.cds.update_rejected').value, 1);

    // A listener naming a cluster nobody defined is a reference the proxy cannot satisfy.
    const tcp = {
      name: 'tcp',
      address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
      filter_chains: [
        {
          filters: [
            {
              name: 'envoy.filters.network.tcp_proxy',
              typed_config: {
                '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
                stat_prefix: 'tcp',
                cluster: 'nowhere',
              },
            },
          ],
        },
      ],
    };
    h.set({ ...spec, [LDS]: { ...spec[LDS], tcp } });
    await waitFor(
      () => h.server.status()[0]?.types.find((t) => t.type === 'LDS')?.state === 'NACKED',
      'the LDS NACK',
    );
    const lds = h.server.status()[0].types.find((t) => t.type === 'LDS')!;
    assert.match(
      lds.nack!.message,
      /Listener 'tcp': filter_chains\[0\]\.filters\[0\]\.typed_config\.cluster: cluster 'nowhere' is not defined/,
    );
    assert.equal(h.proxy.listeners.get('tcp'), undefined);
    // The good config comes back (and clears the NACKs).
    h.set(spec);
    await waitFor(
      () => h.server.status()[0]?.types.every((t) => t.state === 'SYNCED') === true,
      'everything SYNCED again',
    );
  });

  it('config_dump shows the dynamic resources with their versions', async () => {
    const dump = (await adminJson(h.proxy, '/config_dump')) as { configs: Array<Record<string, unknown>> };
    const byType = new Map(dump.configs.map((c) => [c['@type'] as string, c]));
    const listeners = byType.get('type.googleapis.com/envoy.admin.v3.ListenersConfigDump') as {
      version_info: string;
      dynamic_listeners: Array<{
        name: string;
        active_state: { version_info: string; listener: JsonObject };
      }>;
    };
    const [st] = h.server.status();
    const acked = (t: string) => st.types.find((x) => x.type === t)!.ackedVersion;
    assert.equal(listeners.version_info, acked('LDS'));
    assert.deepEqual(
      listeners.dynamic_listeners.map((l) => [l.name, l.active_state.version_info]),
      [['ingress', acked('LDS')]],
    );
    assert.equal(listeners.dynamic_listeners[0].active_state.listener.name, 'ingress');
    const clusters = byType.get('type.googleapis.com/envoy.admin.v3.ClustersConfigDump') as {
      static_clusters: Array<{ name: string }>;
      dynamic_active_clusters: Array<{ version_info: string; cluster: JsonObject; last_updated: string }>;
    };
    assert.deepEqual(clusters.dynamic_active_clusters.map((x) => x.cluster.name).sort(), ['alpha', 'beta']);
    assert.ok(clusters.dynamic_active_clusters.every((x) => x.version_info === acked('CDS')));
    assert.ok(!Number.isNaN(Date.parse(clusters.dynamic_active_clusters[0].last_updated)));
    assert.deepEqual(
      clusters.static_clusters.map((x) => x.name),
      ['xds_cluster'],
    );
    const routes = byType.get('type.googleapis.com/envoy.admin.v3.RoutesConfigDump') as {
      dynamic_route_configs: Array<{ version_info: string; route_config: JsonObject }>;
    };
    assert.deepEqual(
      routes.dynamic_route_configs.map((r) => [r.route_config.name, r.version_info]),
      [['main', acked('RDS')]],
    );
    const eps = byType.get('type.googleapis.com/envoy.admin.v3.EndpointsConfigDump') as {
      dynamic_endpoint_configs: Array<{ endpoint_config: JsonObject }>;
    };
    assert.deepEqual(eps.dynamic_endpoint_configs.map((e) => e.endpoint_config.cluster_name).sort(), [
      'alpha',
      'beta',
    ]);
  });

  it('control plane down: traffic continues; a new server on the same port is reconnected to without churn', async () => {
    const port = h.listenerPort('ingress');
    const beta = h.proxy.clusters.get('beta')!;
    const host = beta.hosts[0];
    const routeVersion = h.server.status()[0].types.find((t) => t.type === 'RDS')!.ackedVersion;
    await h.server.stop();
    await waitFor(() => h.proxy.xds?.status().connected === false, 'the proxy to see the stream end');
    assert.equal(h.proxy.stats.gauge('control_plane.connected_state').value, 0);
    assert.match((await get(port, '/down')).body, /^b GET \/down/);
    assert.match((await get(port, '/down')).body, /^b /);

    const restarted = await startAds(h.source, h.port);
    h.server = restarted.server;
    // The back-off timer (random 0.5 of at most 500 ms) fires on the manual clock.
    h.xdsClock.advance(30_000);
    await waitFor(
      () =>
        h.server.status()[0]?.types.length === 4 &&
        h.server.status()[0].types.every((t) => t.state === 'SYNCED'),
      'the proxy to resync with the new server',
    );
    assert.equal(h.server.status()[0].types.find((t) => t.type === 'RDS')!.ackedVersion, routeVersion);
    assert.equal(h.proxy.stats.gauge('control_plane.connected_state').value, 1);
    assert.equal(h.proxy.clusters.get('beta'), beta, 'same cluster object');
    assert.equal(h.proxy.clusters.get('beta')!.hosts[0], host, 'same host (and pool)');
    assert.equal(h.listenerPort('ingress'), port);
    // And it follows the new server's changes.
    spec = { ...spec, [RDS]: { main: routes('main', 'alpha') } };
    h.set(spec);
    await waitFor(async () => (await get(port, '/x')).body.startsWith('a '), 'the route from the new server');
  });
});

describe('weft proxy as an ADS client (delta)', () => {
  let a: Backend;
  let b: Backend;
  let h: Harness;
  let spec: Spec;

  before(async () => {
    a = await startBackend('a');
    b = await startBackend('b');
    spec = baseSpec(a, b);
    h = await startHarness(spec, { delta: true, nodeId: 'delta-1' });
  });

  after(async () => {
    await h.close();
    await Promise.all([a.close(), b.close()]);
  });

  it('serves from delta xDS; EDS and RDS changes apply; a removed listener drains', async () => {
    await waitFor(() => h.proxy.listeners.get('ingress') !== undefined, 'the xDS listener');
    const port = h.listenerPort('ingress');
    assert.match((await get(port, '/d')).body, /^a GET \/d/);
    assert.equal(h.server.status()[0].protocol, 'delta');
    spec = { ...spec, [EDS]: { ...spec[EDS], alpha: endpoints('alpha', b.port) } };
    h.set(spec);
    await waitFor(async () => (await get(port, '/d')).body.startsWith('b '), 'the new endpoint');
    spec = {
      ...spec,
      [LDS]: { ingress: rdsListener('ingress', 'main'), second: rdsListener('second', 'main') },
    };
    h.set(spec);
    await waitFor(() => h.proxy.listeners.get('second') !== undefined, 'the second listener');
    spec = { ...spec, [LDS]: { ingress: rdsListener('ingress', 'main') } };
    h.set(spec);
    await waitFor(() => h.proxy.listeners.get('second') === undefined, 'the removed listener to go');
    assert.match((await get(port, '/d')).body, /^b /);
  });

  it('reconnects with initial_resource_versions: nothing is re-sent, nothing churns', async () => {
    const port = h.listenerPort('ingress');
    const alpha = h.proxy.clusters.get('alpha');
    const versionsBefore = Object.fromEntries(
      h.proxy.xds!.status().types.map((t) => [t.type, t.resourceVersions]),
    );
    assert.deepEqual(Object.keys(versionsBefore.EDS).sort(), ['alpha', 'beta']);
    await h.server.stop();
    await waitFor(() => h.proxy.xds?.status().connected === false, 'the proxy to see the stream end');
    const restarted = await startAds(h.source, h.port);
    h.server = restarted.server;
    h.xdsClock.advance(30_000);
    await waitFor(
      () =>
        h.server.status()[0]?.types.length === 4 &&
        h.server.status()[0].types.every((t) => t.state !== 'STALE'),
      'the proxy to resubscribe',
    );
    // EDS and RDS: nothing differed from the declared versions, so nothing was sent. (LDS and
    // CDS wildcards always get a first answer; it carried no change.)
    const sent = (t: string) => h.server.status()[0].types.find((x) => x.type === t)!.sentNonce;
    assert.equal(sent('EDS'), undefined);
    assert.equal(sent('RDS'), undefined);
    const held = (t: string) => h.proxy.xds!.status().types.find((x) => x.type === t)!.resourceVersions;
    assert.deepEqual(held('CDS'), versionsBefore.CDS);
    assert.deepEqual(held('LDS'), versionsBefore.LDS);
    assert.equal(h.proxy.clusters.get('alpha'), alpha);
    assert.match((await get(port, '/again')).body, /^b /);
  });
});

describe('weft proxy --xds (the CLI)', () => {
  it('starts from --xds and --node alone and serves what the control plane sends', async () => {
    const a = await startBackend('a');
    const b = await startBackend('b');
    const source = createStaticSnapshotSource(createSnapshot(baseSpec(a, b)));
    const ads = await startAds(source);
    const dir = tempDir('weft-xds-cli-');
    const addrPath = join(dir, 'admin');
    const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
    const child = spawn(
      process.execPath,
      [main, 'proxy', '--xds', `127.0.0.1:${ads.port}`, '--node', 'cli-1', '--admin-address-path', addrPath],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      let admin = '';
      await waitFor(() => {
        if (child.exitCode !== null) throw new Error(`weft proxy exited ${child.exitCode}: ${stderr}`);
        try {
          admin = readFileSync(addrPath, 'utf8');
        } catch {
          return false;
        }
        return admin !== '';
      }, 'the admin address');
      const [host, port] = splitHostPort(admin);
      let listenerPort = 0;
      await waitFor(async () => {
        const body = JSON.parse((await requestHost(host, port, '/listeners?format=json')).body) as {
          listener_statuses: Array<{
            name: string;
            local_address: { socket_address: { port_value: number } };
          }>;
        };
        listenerPort =
          body.listener_statuses.find((l) => l.name === 'ingress')?.local_address.socket_address.port_value ??
          0;
        return listenerPort !== 0;
      }, 'the xDS listener in the spawned proxy');
      assert.match((await get(listenerPort, '/cli')).body, /^a GET \/cli/);
      assert.equal(ads.server.status()[0].nodeId, 'cli-1');
    } finally {
      child.kill('SIGTERM');
      await exited;
      await ads.server.stop();
      await Promise.all([a.close(), b.close()]);
    }
  });
});
