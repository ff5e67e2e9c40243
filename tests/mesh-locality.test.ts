// Zone-aware routing across the mesh, through the path a user takes: a real `weft control`,
// a `weft proxy --xds --locality eu/eu-a` sidecar for the caller, and a `reviews` Service
// with one Workload in each of two zones. Without a policy the caller's sidecar balances over
// both zones; a DestinationPolicy with `loadBalancer.locality.mode: ZoneAware`, applied live,
// keeps every call in the caller's zone; when that zone has no endpoint left the calls cross
// to the other zone; `mode: Weighted` splits by the zones' weights.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Control, eventually, startControl, weft } from './support/control-harness.js';
import { applyDocs, get, type Sidecar, startSidecar } from './support/mesh-harness.js';

/** An app that answers with its zone. */
async function zoneApp(zone: string): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => res.end(zone));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

async function zoneOf(port: number): Promise<string> {
  const r = await get(port, 'reviews:9080', '/');
  return r.status === 200 ? r.body : `status ${r.status}`;
}

function workload(name: string, labels: Record<string, string>, port: number, zone: string, weight = 1) {
  return {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'Workload',
    metadata: { name, labels },
    spec: { address: '127.0.0.1', ports: { http: port }, locality: { region: 'eu', zone }, weight },
  };
}

function policy(locality: Record<string, unknown>) {
  return {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'DestinationPolicy',
    metadata: { name: 'reviews-locality' },
    spec: { targetRef: { kind: 'Service', name: 'reviews' }, loadBalancer: { locality } },
  };
}

describe('zone-aware routing through a weft proxy --xds --locality sidecar', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-locality-'));
  let control: Control;
  let sidecar: Sidecar;
  const apps: Server[] = [];

  const apply = (name: string, docs: unknown[]): Promise<void> => applyDocs(control, dir, name, docs);

  /** Zones answering `n` calls to reviews through the caller's sidecar. */
  const zones = async (n: number): Promise<string[]> => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await zoneOf(sidecar.outbound));
    return out;
  };

  before(async () => {
    control = await startControl(join(dir, 'state'));
    const a = await zoneApp('eu-a');
    const b = await zoneApp('eu-b');
    apps.push(a.server, b.server);
    sidecar = await startSidecar(control, 'web-0', { args: ['--locality', 'eu/eu-a'] });
    await apply('mesh.json', [
      {
        apiVersion: 'weft.dev/v1alpha1',
        kind: 'Service',
        metadata: { name: 'reviews' },
        spec: { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080, protocol: 'HTTP' }] },
      },
      workload('web-0', { app: 'web' }, sidecar.inbound, 'eu-a'),
      // The apps serve the Workloads' ports themselves (no sidecar on the reviews side).
      workload('reviews-a', { app: 'reviews' }, a.port, 'eu-a'),
      workload('reviews-b', { app: 'reviews' }, b.port, 'eu-b', 3),
    ]);
  });

  after(async () => {
    sidecar?.child.kill('SIGKILL');
    for (const a of apps) a.close();
    if (control !== undefined) await control.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('balances over both zones without a policy', async () => {
    const seen = await eventually('both zones answer', async () => {
      try {
        const z = await zones(12);
        return z.includes('eu-a') && z.includes('eu-b') ? z : undefined;
      } catch {
        return undefined;
      }
    });
    assert.ok(
      seen.every((z) => z === 'eu-a' || z === 'eu-b'),
      seen.join(','),
    );
  });

  it('ZoneAware keeps every call in the caller zone', async () => {
    await apply('zone-aware.json', [policy({ mode: 'ZoneAware', minClusterSize: 1 })]);
    await eventually('only eu-a answers', async () => {
      const z = await zones(12);
      return z.every((x) => x === 'eu-a') ? z : undefined;
    });
    // Stable: another batch stays local too.
    assert.deepEqual(new Set(await zones(30)), new Set(['eu-a']));
    assert.equal(sidecar.child.exitCode, null, 'the sidecar keeps running');
  });

  it('crosses to the other zone when the caller zone has no endpoint', async () => {
    const gone = await weft(['delete', 'workload', 'reviews-a'], control);
    assert.equal(gone.code, 0, gone.stderr);
    await eventually('eu-b answers every call', async () => {
      const z = await zones(12);
      return z.every((x) => x === 'eu-b') ? z : undefined;
    });
  });

  it('Weighted splits by the zones’ weights (endpoint weights summed per zone)', async () => {
    const r = await zoneApp('eu-a');
    apps.push(r.server);
    await apply('weighted.json', [
      workload('reviews-a', { app: 'reviews' }, r.port, 'eu-a'),
      policy({ mode: 'Weighted' }),
    ]);
    // Zone eu-a weighs 1 and eu-b 3: a quarter of the calls stay in eu-a.
    const seen = await eventually('both zones answer, 1:3', async () => {
      const z = await zones(40);
      const a = z.filter((x) => x === 'eu-a').length;
      return a === 10 && z.filter((x) => x === 'eu-b').length === 30 ? z : undefined;
    });
    assert.equal(seen.length, 40);
  });
});
