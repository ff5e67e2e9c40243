// `weft control` serving xDS from its store, end to end: a real control-plane process (API and
// ADS on port 0), resources applied with the real `weft apply`, and an ADS client speaking
// real gRPC. Covers the first config, pushes on route/Workload changes and TTL expiry, ACK and
// NACK shown by `weft proxy-status`, `weft proxy-config`, route status in `weft get`, a restart
// with the same state that changes no version (static stability), and a real
// @grpc/grpc-js-xds client calling gRPC backends through a GRPCRoute.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { createJsonCodec, type JsonObject } from '../src/xds/json-codec.js';
import { createProtoLoader } from '../src/xds/protos.js';
import {
  createAdsTestClient,
  type TestAdsStream,
  type TestResponse,
} from '../src/xds/testing/ads-test-client.js';
import { TYPE_URLS } from '../src/xds/type-urls.js';
import { type Control, eventually, startControl, weft } from './support/control-harness.js';
import { startEchoServer } from './support/grpc-echo.js';

const GRPC_CHILD = new URL('../src/xds/testing/grpc-xds-client-child.js', import.meta.url).pathname;
const { listener: LDS, route: RDS, cluster: CDS, endpoint: EDS } = TYPE_URLS;
const SIDECAR = 'sidecar~shop~client-1';

async function api<T>(control: Control, path: string): Promise<T> {
  const res = await fetch(control.apiUrl + path);
  return (await res.json()) as T;
}

/** An ADS stream with responses sorted by type, remembering subscriptions so ACKs repeat them. */
function typed(stream: TestAdsStream) {
  const queues = new Map<string, TestResponse[]>();
  const waiters = new Map<
    string,
    Array<{ resolve: (r: TestResponse) => void; reject: (e: Error) => void }>
  >();
  const names = new Map<string, string[]>();
  const versions = new Map<string, string>();
  let failure: Error | undefined;
  (async () => {
    for (;;) {
      let r: TestResponse;
      try {
        r = await stream.next();
      } catch (err) {
        failure = err as Error;
        for (const list of waiters.values()) for (const w of list.splice(0)) w.reject(failure);
        return;
      }
      versions.set(r.typeUrl, r.version);
      const w = waiters.get(r.typeUrl)?.shift();
      if (w !== undefined) w.resolve(r);
      else queues.set(r.typeUrl, [...(queues.get(r.typeUrl) ?? []), r]);
    }
  })();
  return {
    versions,
    ended: stream.ended,
    subscribe(typeUrl: string, list: string[] = []) {
      names.set(typeUrl, list);
      stream.send({ typeUrl, names: list });
    },
    next(typeUrl: string): Promise<TestResponse> {
      const queued = queues.get(typeUrl)?.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      if (failure !== undefined) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        waiters.set(typeUrl, [...(waiters.get(typeUrl) ?? []), { resolve, reject }]);
      });
    },
    ack(r: TestResponse) {
      stream.send({
        typeUrl: r.typeUrl,
        names: names.get(r.typeUrl) ?? [],
        version: r.version,
        nonce: r.nonce,
      });
    },
    nack(r: TestResponse, message: string) {
      stream.send({
        typeUrl: r.typeUrl,
        names: names.get(r.typeUrl) ?? [],
        version: '',
        nonce: r.nonce,
        error: { code: 3, message },
      });
    },
    close: () => stream.close(),
  };
}

/** Subscribes to CDS, EDS (the EDS clusters), LDS and RDS (outbound_http), ACKing each first answer. */
async function fullSync(s: ReturnType<typeof typed>) {
  s.subscribe(CDS);
  const cds = await s.next(CDS);
  s.ack(cds);
  s.subscribe(
    EDS,
    cds.resources.filter((c) => c.type === 'EDS').map((c) => String(c.name)),
  );
  const eds = await s.next(EDS);
  s.ack(eds);
  s.subscribe(LDS);
  const lds = await s.next(LDS);
  s.ack(lds);
  s.subscribe(RDS, ['outbound_http']);
  const rds = await s.next(RDS);
  s.ack(rds);
  return { cds, eds, lds, rds };
}

function addressesOf(cla: JsonObject): string[] {
  const out: string[] = [];
  for (const group of (cla.endpoints as JsonObject[] | undefined) ?? [])
    for (const e of (group.lb_endpoints as JsonObject[] | undefined) ?? []) {
      const sa = ((e.endpoint as JsonObject).address as JsonObject).socket_address as JsonObject;
      out.push(`${sa.address}:${sa.port_value}`);
    }
  return out.sort();
}

function claOf(r: TestResponse, cluster: string): JsonObject | undefined {
  return r.resources.find((c) => c.cluster_name === cluster);
}

/** The clusters the `web.shop:80` virtual host's routes send to, by path match. */
function webRoutes(rds: TestResponse): Record<string, string> {
  const vh = ((rds.resources[0]!.virtual_hosts as JsonObject[]) ?? []).find((v) =>
    (v.domains as string[]).includes('web.shop:80'),
  );
  const out: Record<string, string> = {};
  for (const r of (vh?.routes as JsonObject[]) ?? []) {
    const m = r.match as JsonObject;
    out[String(m.prefix ?? m.path ?? '?')] = String((r.route as JsonObject)?.cluster);
  }
  return out;
}

const doc = (o: unknown) => YAML.stringify(o);
const svc = (name: string, port: number, protocol: string, app = name) => ({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'Service',
  metadata: { name, namespace: 'shop' },
  spec: { selector: { app }, ports: [{ name: protocol === 'GRPC' ? 'grpc' : 'http', port, protocol }] },
});
const wl = (name: string, app: string, address: string, ports: Record<string, number>, extra = {}) => ({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'Workload',
  metadata: { name, namespace: 'shop', labels: { app } },
  spec: { address, ports, ...extra },
});
const webRoute = (prefix: string) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'web-route', namespace: 'shop' },
  spec: {
    parentRefs: [{ group: '', kind: 'Service', name: 'web', port: 80 }],
    rules: [
      {
        matches: [{ path: { type: 'PathPrefix', value: prefix } }],
        backendRefs: [{ name: 'web-v2', port: 80 }],
      },
      { backendRefs: [{ name: 'web', port: 80 }] },
    ],
  },
});
const brokenRoute = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'broken-route', namespace: 'shop' },
  spec: {
    parentRefs: [{ group: '', kind: 'Service', name: 'web-v2', port: 80 }],
    rules: [{ backendRefs: [{ name: 'nope', port: 80 }] }],
  },
};

describe('weft control serves xDS from its store', () => {
  const root = mkdtempSync(join(tmpdir(), 'weft-cp-xds-'));
  const stateDir = join(root, 'state');
  const file = (name: string, docs: unknown[]): string => {
    const path = join(root, name);
    writeFileSync(path, docs.map(doc).join('---\n'));
    return path;
  };
  const protos = createProtoLoader().get();
  const codec = createJsonCodec(protos);
  let control: Control;
  let ads: ReturnType<typeof createAdsTestClient>;
  let s: ReturnType<typeof typed>;
  let last: Awaited<ReturnType<typeof fullSync>>;

  before(async () => {
    control = await startControl(stateDir);
    const applied = await weft(
      [
        'apply',
        '-f',
        file('mesh.yaml', [
          svc('web', 80, 'HTTP'),
          svc('web-v2', 80, 'HTTP'),
          wl('web-1', 'web', '10.1.0.1', { http: 8080 }),
          wl('web-2', 'web', '10.1.0.2', { http: 8080 }),
          wl('web-v2-1', 'web-v2', '10.1.0.3', { http: 8080 }),
          wl('client-1', 'client', '10.1.0.9', { http: 8080 }),
          webRoute('/v2'),
          brokenRoute,
        ]),
      ],
      control,
    );
    assert.equal(applied.code, 0, applied.stderr);
    ads = createAdsTestClient(protos, codec, control.xdsPort);
  });

  after(async () => {
    s?.close();
    ads?.close();
    await control?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('(a) a sidecar gets listeners, clusters, routes and endpoints of the applied resources', async () => {
    s = typed(ads.sotw({ id: SIDECAR, cluster: 'shop' }));
    last = await fullSync(s);
    const clusters = last.cds.resources.map((c) => c.name);
    assert.ok(clusters.includes('outbound|80||web.shop') && clusters.includes('outbound|80||web-v2.shop'));
    assert.deepEqual(addressesOf(claOf(last.eds, 'outbound|80||web.shop')!), [
      '10.1.0.1:8080',
      '10.1.0.2:8080',
    ]);
    assert.deepEqual(addressesOf(claOf(last.eds, 'outbound|80||web-v2.shop')!), ['10.1.0.3:8080']);
    assert.ok(last.lds.resources.some((l) => l.name === 'outbound_http'));
    assert.deepEqual(webRoutes(last.rds), {
      '/v2': 'outbound|80||web-v2.shop',
      '/v2/': 'outbound|80||web-v2.shop',
      '/': 'outbound|80||web.shop',
    });
  });

  it('(b) a route change is pushed', async () => {
    const r = await weft(['apply', '-f', file('route.yaml', [webRoute('/canary')])], control);
    assert.equal(r.code, 0, r.stderr);
    const rds = await s.next(RDS);
    s.ack(rds);
    assert.deepEqual(webRoutes(rds), {
      '/canary': 'outbound|80||web-v2.shop',
      '/canary/': 'outbound|80||web-v2.shop',
      '/': 'outbound|80||web.shop',
    });
  });

  it('(c) deleting a Workload pushes EDS without it', async () => {
    const r = await weft(['delete', 'workload', 'web-2', '-n', 'shop'], control);
    assert.equal(r.code, 0, r.stderr);
    const eds = await s.next(EDS);
    s.ack(eds);
    assert.deepEqual(addressesOf(claOf(eds, 'outbound|80||web.shop')!), ['10.1.0.1:8080']);
  });

  it('(d) a Workload whose TTL is not renewed leaves EDS', async () => {
    const r = await weft(
      ['apply', '-f', file('ttl.yaml', [wl('web-3', 'web', '10.1.0.4', { http: 8080 }, { ttlSeconds: 1 })])],
      control,
    );
    assert.equal(r.code, 0, r.stderr);
    const added = await s.next(EDS);
    s.ack(added);
    assert.deepEqual(addressesOf(claOf(added, 'outbound|80||web.shop')!), ['10.1.0.1:8080', '10.1.0.4:8080']);
    const expired = await s.next(EDS);
    s.ack(expired);
    assert.deepEqual(addressesOf(claOf(expired, 'outbound|80||web.shop')!), ['10.1.0.1:8080']);
  });

  it('(e) weft proxy-status shows SYNCED after ACKs and NACKED with the reason after a NACK', async () => {
    type Status = { proxies: { nodeId: string; types: { type: string; state: string }[] }[] };
    const states = async () =>
      Object.fromEntries(
        (
          (await api<Status>(control, '/v1/proxy-status')).proxies.find((p) => p.nodeId === SIDECAR)?.types ??
          []
        ).map((t) => [t.type, t.state]),
      );
    await eventually('all SYNCED', async () =>
      Object.values(await states()).every((v) => v === 'SYNCED') ? true : undefined,
    );
    const synced = await weft(['proxy-status'], control);
    assert.equal(synced.code, 0, synced.stderr);
    assert.match(synced.stdout, /^NAME\s+CDS\s+LDS\s+EDS\s+RDS\s+VERSION/m);
    assert.match(synced.stdout, new RegExp(`^${SIDECAR}\\s+SYNCED\\s+SYNCED\\s+SYNCED\\s+SYNCED\\s`, 'm'));

    // A new Service changes CDS and RDS; this client rejects the clusters.
    const r = await weft(['apply', '-f', file('extra.yaml', [svc('extra', 80, 'HTTP')])], control);
    assert.equal(r.code, 0, r.stderr);
    const cds = await s.next(CDS);
    s.nack(cds, 'cluster outbound|80||extra.shop: refused by the test');
    s.ack(await s.next(RDS));
    await eventually('CDS NACKED', async () => ((await states()).CDS === 'NACKED' ? true : undefined));
    const nacked = await weft(['proxy-status'], control);
    assert.match(nacked.stdout, new RegExp(`^${SIDECAR}\\s+NACKED\\s+SYNCED\\s+SYNCED\\s+SYNCED\\s`, 'm'));
    assert.match(
      nacked.stdout,
      /CDS NACKED version \w+: cluster outbound\|80\|\|extra\.shop: refused by the test/,
    );
    const json = JSON.parse((await weft(['proxy-status', '-o', 'json'], control)).stdout) as {
      proxies: { nodeId: string; types: { type: string; nack?: { message: string; version: string } }[] }[];
    };
    const cdsStatus = json.proxies.find((p) => p.nodeId === SIDECAR)!.types.find((t) => t.type === 'CDS')!;
    assert.equal(cdsStatus.nack?.version, cds.version);
    assert.match(cdsStatus.nack?.message ?? '', /refused by the test/);

    // proxy-config: what was last sent, by type.
    const clusters = JSON.parse(
      (await weft(['proxy-config', SIDECAR, 'clusters', '-o', 'json'], control)).stdout,
    ) as JsonObject[];
    assert.deepEqual(
      clusters.map((c) => c.name),
      cds.resources.map((c) => c.name),
    );
    assert.equal(clusters[0]!['@type'], CDS);
    const endpoints = await weft(['proxy-config', SIDECAR, 'endpoints'], control);
    assert.match(endpoints.stdout, /^outbound\|80\|\|web\.shop\s+10\.1\.0\.1:8080$/m);
    const missing = await weft(['proxy-config', 'nobody', 'clusters'], control);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /WEFT_NOT_FOUND.*no xDS client with node id 'nobody'/);
  });

  it('(f) weft get shows route status conditions', async () => {
    type Route = {
      status?: { parents?: { conditions: { type: string; status: string; reason: string }[] }[] };
    };
    await eventually('broken-route status', async () =>
      (
        await api<Route>(
          control,
          '/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/broken-route',
        )
      ).status?.parents
        ? true
        : undefined,
    );
    const yaml = await weft(['get', 'httproute', 'web-route', '-n', 'shop', '-o', 'yaml'], control);
    assert.equal(yaml.code, 0, yaml.stderr);
    const route = YAML.parse(yaml.stdout) as Route;
    assert.deepEqual(
      route.status?.parents?.[0]?.conditions.map((c) => `${c.type}=${c.status}(${c.reason})`),
      ['Accepted=True(Accepted)', 'ResolvedRefs=True(ResolvedRefs)'],
    );
    const table = await weft(['get', 'httproutes', '-n', 'shop'], control);
    assert.match(table.stdout, /^broken-route\s+Accepted=True,ResolvedRefs=False\(BackendNotFound\)/m);
  });

  it('(g) after a restart with the same state the client reconnects to the same versions; nothing churns', async () => {
    const revision = (await api<{ revision: number }>(control, '/healthz')).revision;
    // A fresh stream shows the current version of every type (the old one holds an EDS version
    // from before the last Service was added, since it never subscribed to that cluster).
    const fresh = typed(ads.sotw({ id: SIDECAR, cluster: 'shop' }));
    const before = await fullSync(fresh);
    assert.equal(await control.stop(), 0);
    assert.equal((await s.ended).code, 14, 'the stream ends with UNAVAILABLE');
    assert.equal((await fresh.ended).code, 14);
    ads.close();

    control = await startControl(stateDir);
    ads = createAdsTestClient(protos, codec, control.xdsPort);
    s = typed(ads.sotw({ id: SIDECAR, cluster: 'shop' }));
    const again = await fullSync(s);
    for (const type of ['cds', 'eds', 'lds', 'rds'] as const) {
      assert.equal(again[type].version, before[type].version, `${type} version unchanged`);
      assert.deepEqual(again[type].resources, before[type].resources);
    }
    assert.equal(
      (await api<{ revision: number }>(control, '/healthz')).revision,
      revision,
      'no store writes',
    );
  });

  it('(h) a @grpc/grpc-js-xds client calls a Service through a GRPCRoute to real backends', async () => {
    const backends = await Promise.all(['v1', 'v2'].map((tag) => startEchoServer(tag)));
    try {
      const r = await weft(
        [
          'apply',
          '-f',
          file('grpc.yaml', [
            svc('echo', 9090, 'GRPC'),
            svc('echo-v2', 9090, 'GRPC'),
            wl('echo-1', 'echo', '127.0.0.1', { grpc: backends[0]!.port }),
            wl('echo-v2-1', 'echo-v2', '127.0.0.1', { grpc: backends[1]!.port }),
            {
              apiVersion: 'gateway.networking.k8s.io/v1',
              kind: 'GRPCRoute',
              metadata: { name: 'echo-to-v2', namespace: 'shop' },
              spec: {
                parentRefs: [{ group: '', kind: 'Service', name: 'echo', port: 9090 }],
                rules: [{ backendRefs: [{ name: 'echo-v2', port: 9090 }] }],
              },
            },
          ]),
        ],
        control,
      );
      assert.equal(r.code, 0, r.stderr);
      const bootstrap = {
        xds_servers: [
          {
            server_uri: `127.0.0.1:${control.xdsPort}`,
            channel_creds: [{ type: 'insecure' }],
            server_features: ['xds_v3'],
          },
        ],
        node: { id: 'grpc-client-1', cluster: 'shop', metadata: { NAMESPACE: 'shop' }, locality: {} },
      };
      const child = spawn(process.execPath, [GRPC_CHILD, 'echo.shop:9090'], {
        env: { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap) },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      try {
        const result = await new Promise<string>((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            const line = out.split('\n').find((l) => l.startsWith('RESULT '));
            if (line) resolve(line);
          });
          child.on('exit', (code) => reject(new Error(`client exited (${code}) before a result: ${out}`)));
        });
        assert.equal(result, 'RESULT ok v2 hi');
        // Every type ends SYNCED: nothing in the mesh's config (not even broken-route's
        // direct_response, which gRPC refuses as such) makes the client NACK.
        type Status = { proxies: { nodeId: string; types: { state: string }[] }[] };
        await eventually('grpc-client-1 SYNCED', async () => {
          const p = (await api<Status>(control, '/v1/proxy-status')).proxies.find(
            (x) => x.nodeId === 'grpc-client-1',
          );
          return p !== undefined && p.types.length === 4 && p.types.every((t) => t.state === 'SYNCED')
            ? true
            : undefined;
        });
        const status = await weft(['proxy-status'], control);
        assert.match(
          status.stdout,
          /^grpc-client-1\s+SYNCED\s+SYNCED\s+SYNCED\s+SYNCED\s.*gRPC Node Pure JS/m,
        );
        const listeners = await weft(['proxy-config', 'grpc-client-1', 'listeners'], control);
        assert.match(listeners.stdout, /^echo\.shop:9090\s+-\s+api \(gRPC\)$/m);
      } finally {
        child.stdin.end();
        await new Promise((resolve) => child.once('exit', resolve));
      }
    } finally {
      for (const b of backends) b.server.forceShutdown();
    }
  });
});
