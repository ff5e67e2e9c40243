// Checks the tour's resources against the control plane's own code: every document in
// routes/*.yaml passes the kind validators `weft apply` runs, and each step of
// docs/tour.md, applied on top of the Services and Workloads `weft up` makes of
// mesh.yaml (its own parser and run plan), gives
// routes that are Accepted with ResolvedRefs and the Envoy routes the tour promises
// (90/10, 50/50, x-user: tester → v3, retries on ratings).

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { createDestinationPolicyKind } from '../../../src/control/kinds/destination-policy.js';
import { createGrpcRouteKind } from '../../../src/control/kinds/grpc-route.js';
import { createHttpRouteKind } from '../../../src/control/kinds/http-route.js';
import { createKindRegistry } from '../../../src/control/kinds/registry.js';
import { createServiceKind } from '../../../src/control/kinds/service.js';
import { createWorkloadKind } from '../../../src/control/kinds/workload.js';
import type { Resource } from '../../../src/control/resource.js';
import { createMeshIndex } from '../../../src/control/translate/mesh-index.js';
import { EMPTY_SNAPSHOT, type MeshSnapshot } from '../../../src/control/translate/snapshot.js';
import { computeRouteStatuses } from '../../../src/control/translate/status.js';
import { translateProxy } from '../../../src/control/translate/translate.js';
import { type EnvoyJson, ROUTE_TYPE } from '../../../src/control/translate/xds-resources.js';
import { parseMeshFile } from '../../../src/up/mesh-file.js';
import { buildRunPlan } from '../../../src/up/run-plan.js';
import { shopFile } from './shop-files.js';

const kinds = createKindRegistry([
  createServiceKind(),
  createWorkloadKind(),
  createHttpRouteKind(),
  createGrpcRouteKind(),
  createDestinationPolicyKind(),
]);

function readYaml(path: string): unknown[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).map((d) => {
    assert.deepEqual(d.errors, [], path);
    return d.toJS();
  });
}

/** Validates like `weft apply`; returns the normalised resources. */
function validated(docs: unknown[], where: string): Resource[] {
  return docs.map((doc, i) => {
    const { resource, issues } = kinds.validateResource(doc);
    assert.deepEqual(issues, [], `${where} document ${i + 1}`);
    return resource!;
  });
}

/** Exactly what `weft up` applies for mesh.yaml: its run plan's Services and Workloads. */
function meshResources(): Resource[] {
  const file = shopFile('mesh.yaml');
  let port = 20000;
  const plan = buildRunPlan(parseMeshFile(readFileSync(file, 'utf8'), file), () => port++);
  return validated([...plan.resources], 'mesh.yaml');
}

/** A snapshot as the store holds it after applying `steps` in order (later same-named resources replace earlier). */
function snapshotAfter(...steps: string[]): MeshSnapshot {
  const byKey = new Map<string, Resource>();
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const put = (r: Resource) => {
    const key = `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`;
    const created = byKey.get(key)?.metadata.creationTimestamp ?? new Date((clock += 1000)).toISOString();
    byKey.set(key, { ...r, metadata: { ...r.metadata, creationTimestamp: created } });
  };
  meshResources().forEach(put);
  for (const step of steps) validated(readYaml(shopFile(`routes/${step}`)), step).forEach(put);
  const of = (kind: string) => [...byKey.values()].filter((r) => r.kind === kind) as never[];
  return {
    ...EMPTY_SNAPSHOT,
    services: of('Service'),
    workloads: of('Workload'),
    httpRoutes: of('HTTPRoute'),
    grpcRoutes: of('GRPCRoute'),
    destinationPolicies: of('DestinationPolicy'),
  };
}

function assertRoutesResolved(snapshot: MeshSnapshot): void {
  for (const { key, status } of computeRouteStatuses(createMeshIndex(snapshot), {
    now: '2026-01-01T00:00:00Z',
  })) {
    assert.ok(status.parents.length > 0, key.name);
    for (const parent of status.parents)
      for (const c of parent.conditions)
        assert.equal(c.status, 'True', `${key.name}: ${c.type} ${c.reason} ${c.message}`);
  }
}

/** The outbound routes web's sidecar gets for `host` (a virtual host name such as reviews.shop:80). */
function routesFor(snapshot: MeshSnapshot, host: string): EnvoyJson[] {
  const t = translateProxy(createMeshIndex(snapshot), { kind: 'consumer', namespace: 'shop' });
  const rc = t.resources[ROUTE_TYPE].find((r) => r.name === 'outbound_http')!.resource;
  const vh = (rc.virtual_hosts as EnvoyJson[]).find((v) => v.name === host);
  assert.ok(vh, `virtual host ${host}`);
  return vh.routes as EnvoyJson[];
}

function clusters(route: EnvoyJson): unknown {
  const action = route.route as EnvoyJson;
  return action.cluster ?? (action.weighted_clusters as EnvoyJson).clusters;
}

describe('shop routes (examples/shop/routes)', () => {
  test('every document passes the validators weft apply runs', () => {
    const files = readdirSync(shopFile('routes')).filter((f) => f.endsWith('.yaml'));
    assert.deepEqual(files.sort(), [
      'canary-10.yaml',
      'canary-50.yaml',
      'fault.yaml',
      'header-v3.yaml',
      'retry-ratings.yaml',
    ]);
    for (const f of files) validated(readYaml(join(shopFile('routes'), f)), f);
    meshResources();
  });

  test('canary-10 then canary-50 shift reviews from 90/10 to 50/50', () => {
    const ten = snapshotAfter('canary-10.yaml');
    assertRoutesResolved(ten);
    // The translator reduces weights to their smallest integer ratio (90:10 → 9:1).
    assert.deepEqual(clusters(routesFor(ten, 'reviews.shop:80')[0]!), [
      { name: 'outbound|80||reviews-v1.shop', weight: 9 },
      { name: 'outbound|80||reviews-v2.shop', weight: 1 },
    ]);
    const fifty = snapshotAfter('canary-10.yaml', 'canary-50.yaml');
    assertRoutesResolved(fifty);
    assert.deepEqual(clusters(routesFor(fifty, 'reviews.shop:80')[0]!), [
      { name: 'outbound|80||reviews-v1.shop', weight: 1 },
      { name: 'outbound|80||reviews-v2.shop', weight: 1 },
    ]);
  });

  test('header-v3 sends x-user: tester to v3 ahead of the canary', () => {
    const snap = snapshotAfter('canary-10.yaml', 'header-v3.yaml');
    assertRoutesResolved(snap);
    const [first, ...rest] = routesFor(snap, 'reviews.shop:80');
    assert.deepEqual((first!.match as EnvoyJson).headers, [
      { name: 'x-user', string_match: { exact: 'tester' } },
    ]);
    assert.equal(clusters(first!), 'outbound|80||reviews-v3.shop');
    assert.ok(
      rest.some((r) => Array.isArray(clusters(r))),
      'everyone else still follows the canary',
    );
  });

  test('retry-ratings retries ratings; fault routes catalog to itself (its fault is pending)', () => {
    const snap = snapshotAfter('retry-ratings.yaml', 'fault.yaml');
    assertRoutesResolved(snap);
    const retry = (routesFor(snap, 'ratings.shop:80')[0]!.route as EnvoyJson).retry_policy as EnvoyJson;
    assert.equal(retry.num_retries, 3);
    assert.deepEqual(retry.retriable_status_codes, [503]);
    assert.deepEqual(clusters(routesFor(snap, 'catalog.shop:80')[0]!), 'outbound|80||catalog.shop');
  });
});
