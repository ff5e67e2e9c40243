// The mesh end to end: a real `weft control`, three `weft proxy --xds` sidecars (the node
// ids and node metadata `weft up` uses), and real apps. The client calls the `reviews`
// Service through its own sidecar's outbound listener by Host; the request crosses to a
// reviews sidecar's inbound listener and on to the app. Then an HTTPRoute applied live
// moves all traffic to v2 without restarting anything, and deleting a Workload takes it
// out of the endpoints.
//
// A second mesh is wired as `weft up` wires one host (src/up/run-plan.ts): the sidecars' local
// ports come from Workload annotations (weft.dev/outbound-http-port, weft.dev/upstream-port-
// <service>), not node metadata. The client app calls `http://127.0.0.1:<upstream port>/` with
// no Host and gets the Service's routes; a real gRPC call crosses both sidecars as L4 through
// a GRPC Service port.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Server as GrpcServer } from '@grpc/grpc-js';
import { allocateFreePorts } from '../src/up/port-allocator.js';
import { type Control, eventually, startControl, weft } from './support/control-harness.js';
import { say, startEchoServer } from './support/grpc-echo.js';
import { applyDocs, get, type Sidecar, startSidecar } from './support/mesh-harness.js';

async function app(version: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    res.setHeader('x-version', version);
    res.end(`reviews ${version} ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function workloadDoc(name: string, labels: Record<string, string>, inbound: number, appPort: number) {
  return {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'Workload',
    metadata: { name, labels, annotations: { 'weft.dev/app-port-http': String(appPort) } },
    spec: { address: '127.0.0.1', ports: { http: inbound } },
  };
}

function serviceDoc(name: string, selector: Record<string, string>) {
  return {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'Service',
    metadata: { name },
    spec: { selector, ports: [{ name: 'http', port: 9080, protocol: 'HTTP' }] },
  };
}

describe('a mesh of weft control and weft proxy --xds sidecars', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-mesh-'));
  let control: Control;
  const sidecars: Sidecar[] = [];
  const apps: Server[] = [];
  let web: Sidecar;

  const apply = (name: string, docs: unknown[]): Promise<void> => applyDocs(control, dir, name, docs);

  /** Versions answering `n` calls to reviews through the web sidecar. */
  const versions = async (n: number): Promise<string[]> => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = await get(web.outbound, 'reviews:9080', `/r/${i}`);
      out.push(r.status === 200 ? r.body.split(' ')[1] : `status ${r.status}`);
    }
    return out;
  };

  before(async () => {
    control = await startControl(join(dir, 'state'));
    const v1 = await app('v1');
    const v2 = await app('v2');
    apps.push(v1.server, v2.server);
    web = await startSidecar(control, 'web-0');
    const r1 = await startSidecar(control, 'reviews-v1-0');
    const r2 = await startSidecar(control, 'reviews-v2-0');
    sidecars.push(web, r1, r2);
    await apply('mesh.json', [
      serviceDoc('reviews', { app: 'reviews' }),
      serviceDoc('reviews-v2', { app: 'reviews', version: 'v2' }),
      workloadDoc('web-0', { app: 'web' }, web.inbound, 1),
      workloadDoc('reviews-v1-0', { app: 'reviews', version: 'v1' }, r1.inbound, v1.port),
      workloadDoc('reviews-v2-0', { app: 'reviews', version: 'v2' }, r2.inbound, v2.port),
    ]);
  });

  after(async () => {
    for (const s of sidecars) s.child.kill('SIGKILL');
    for (const a of apps) a.close();
    if (control !== undefined) await control.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('routes through both sidecars to every version', async () => {
    // Every call must succeed: a reviews sidecar still starting answers 503 for a while.
    const seen = await eventually('both versions answer through the mesh', async () => {
      try {
        const v = await versions(6);
        const ok = v.every((x) => x === 'v1' || x === 'v2');
        return ok && v.includes('v1') && v.includes('v2') ? v : undefined;
      } catch {
        return undefined;
      }
    });
    assert.ok(
      seen.every((v) => v === 'v1' || v === 'v2'),
      seen.join(','),
    );
  });

  it('follows an HTTPRoute applied live, without restarting anything', async () => {
    await apply('route.json', [
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'reviews-to-v2' },
        spec: {
          parentRefs: [{ group: '', kind: 'Service', name: 'reviews', port: 9080 }],
          rules: [{ backendRefs: [{ name: 'reviews-v2', port: 9080 }] }],
        },
      },
    ]);
    const seen = await eventually('only v2 answers', async () => {
      const v = await versions(6);
      return v.every((x) => x === 'v2') ? v : undefined;
    });
    assert.equal(seen.length, 6);
    for (const s of sidecars) assert.equal(s.child.exitCode, null, `${s.workload} sidecar still running`);
  });

  it('drops a deleted Workload from the endpoints', async () => {
    const del = await weft(['delete', 'httproute', 'reviews-to-v2'], control);
    assert.equal(del.code, 0, del.stderr);
    const gone = await weft(['delete', 'workload', 'reviews-v2-0'], control);
    assert.equal(gone.code, 0, gone.stderr);
    const seen = await eventually('only v1 answers', async () => {
      const v = await versions(6);
      return v.every((x) => x === 'v1') ? v : undefined;
    });
    assert.equal(seen.length, 6);
  });
});

describe('a mesh on one host wired by Workload annotations (as weft up does)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-mesh-up-'));
  let control: Control;
  const sidecars: Sidecar[] = [];
  let reviewsApp: Server;
  let echo: GrpcServer;
  /** Local ports of web-0's sidecar: outbound HTTP, and one per upstream Service. */
  const ports = { outbound: 0, reviews: 0, echo: 0 };

  const workload = (
    name: string,
    app: string,
    sidecar: Sidecar,
    portName: string,
    annotations: Record<string, string>,
  ) => ({
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'Workload',
    metadata: {
      name,
      labels: { app },
      annotations: { 'weft.dev/outbound-http-port': String(sidecar.outbound), ...annotations },
    },
    spec: { address: '127.0.0.1', ports: { [portName]: sidecar.inbound } },
  });

  before(async () => {
    control = await startControl(join(dir, 'state'));
    reviewsApp = createServer((req, res) => {
      res.end(`reviews ${req.url} host=${req.headers.host} route=${req.headers['x-route']}`);
    });
    await new Promise<void>((resolve) => reviewsApp.listen(0, '127.0.0.1', resolve));
    const reviewsPort = (reviewsApp.address() as AddressInfo).port;
    const e = await startEchoServer('echo-0');
    echo = e.server;
    const web = await startSidecar(control, 'web-0', { viaNodeMetadata: false });
    const reviews = await startSidecar(control, 'reviews-0', { viaNodeMetadata: false });
    const echoSidecar = await startSidecar(control, 'echo-0', { viaNodeMetadata: false });
    sidecars.push(web, reviews, echoSidecar);
    ports.outbound = web.outbound;
    [ports.reviews, ports.echo] = (await allocateFreePorts(2)) as [number, number];
    const service = (name: string, portName: string, protocol: string) => ({
      apiVersion: 'weft.dev/v1alpha1',
      kind: 'Service',
      metadata: { name },
      spec: { selector: { app: name }, ports: [{ name: portName, port: 80, protocol }] },
    });
    const items = [
      service('reviews', 'http', 'HTTP'),
      service('echo', 'grpc', 'GRPC'),
      workload('web-0', 'web', web, 'http', {
        'weft.dev/upstream-port-reviews': String(ports.reviews),
        'weft.dev/upstream-port-echo': String(ports.echo),
      }),
      workload('reviews-0', 'reviews', reviews, 'http', { 'weft.dev/app-port-http': String(reviewsPort) }),
      workload('echo-0', 'echo', echoSidecar, 'grpc', { 'weft.dev/app-port-grpc': String(e.port) }),
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'reviews' },
        spec: {
          parentRefs: [{ group: '', kind: 'Service', name: 'reviews', port: 80 }],
          rules: [
            {
              filters: [
                {
                  type: 'RequestHeaderModifier',
                  requestHeaderModifier: { set: [{ name: 'x-route', value: 'mesh' }] },
                },
              ],
              backendRefs: [{ name: 'reviews', port: 80 }],
            },
          ],
        },
      },
    ];
    await applyDocs(control, dir, 'mesh.json', items);
  });

  after(async () => {
    for (const s of sidecars) s.child.kill('SIGKILL');
    reviewsApp?.close();
    echo?.forceShutdown();
    if (control !== undefined) await control.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an app calls http://127.0.0.1:<upstream port>/ with no Host and gets the Service, routes applied', async () => {
    const host = `127.0.0.1:${ports.reviews}`;
    const body = await eventually('reviews answers on the upstream port', async () => {
      const r = await get(ports.reviews, host, '/hello').catch(() => undefined);
      return r?.status === 200 ? r.body : undefined;
    });
    // The HTTPRoute's header modifier ran: the Service's routes, not a bare forward.
    assert.equal(body, `reviews /hello host=${host} route=mesh`);
  });

  it('the outbound HTTP listener sits on the annotated port and routes by Host', async () => {
    const r = await eventually('reviews answers by Host', async () => {
      const x = await get(ports.outbound, 'reviews', '/by-host').catch(() => undefined);
      return x?.status === 200 ? x : undefined;
    });
    assert.equal(r.body, 'reviews /by-host host=reviews route=mesh');
  });

  it('a gRPC call crosses both sidecars through a GRPC Service port', async () => {
    const reply = await eventually('echo answers through the mesh', () =>
      say(`127.0.0.1:${ports.echo}`, 'hi').catch(() => undefined),
    );
    assert.equal(reply, 'echo-0 hi');
    for (const s of sidecars) assert.equal(s.child.exitCode, null, `${s.workload} sidecar still running`);
  });
});
