// Route status: Accepted / ResolvedRefs with Gateway API reasons, and stable transition times.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMeshFixture } from './mesh-fixture.js';
import { createMeshIndex } from './mesh-index.js';
import { computeRouteStatuses, routeStatus } from './status.js';

const NOW = '2026-06-01T00:00:00Z';

function conditions(s: ReturnType<typeof routeStatus>, i: number) {
  return Object.fromEntries(s.parents[i].conditions.map((c) => [c.type, `${c.status}/${c.reason}`]));
}

test('Accepted and ResolvedRefs per parentRef', () => {
  const f = createMeshFixture();
  const port = [{ name: 'http', port: 80, protocol: 'HTTP' as const }];
  const route = f.httpRoute('r', {
    parentRefs: [
      f.serviceParent('web', 80),
      f.serviceParent('web', 81),
      f.serviceParent('nope'),
      { name: 'gw' },
      f.serviceParent('db'),
    ],
    rules: [{ backendRefs: [{ name: 'web', port: 80 }] }],
  });
  const snap = f.snapshot({
    services: [f.service('web', port), f.service('db', [{ name: 'pg', port: 5432, protocol: 'TCP' }])],
    httpRoutes: [route],
  });
  const [result] = computeRouteStatuses(createMeshIndex(snap), { now: NOW });
  assert.deepEqual(result.key, {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    namespace: 'default',
    name: 'r',
  });
  const s = result.status;
  assert.equal(s.parents.length, 5);
  assert.deepEqual(conditions(s, 0), { Accepted: 'True/Accepted', ResolvedRefs: 'True/ResolvedRefs' });
  assert.deepEqual(conditions(s, 1), {
    Accepted: 'False/NoMatchingParent',
    ResolvedRefs: 'True/ResolvedRefs',
  });
  assert.deepEqual(conditions(s, 2), {
    Accepted: 'False/NoMatchingParent',
    ResolvedRefs: 'True/ResolvedRefs',
  });
  assert.deepEqual(conditions(s, 3), {
    Accepted: 'False/NoMatchingParent',
    ResolvedRefs: 'True/ResolvedRefs',
  });
  assert.match(s.parents[4].conditions[0].message, /TCP/);
  assert.equal(s.parents[0].controllerName, 'weft.dev/control-plane');
  assert.equal(s.parents[0].conditions[0].observedGeneration, 1);
  assert.equal(s.parents[0].conditions[0].lastTransitionTime, NOW);
});

test('ResolvedRefs reasons: BackendNotFound, InvalidKind, RefNotPermitted', () => {
  const f = createMeshFixture();
  const port = [{ name: 'http', port: 80, protocol: 'HTTP' as const }];
  const snap = (backendRefs: object[]) =>
    f.snapshot({
      services: [f.service('web', port), f.service('far', port, 'elsewhere')],
      httpRoutes: [
        f.httpRoute('r', {
          parentRefs: [f.serviceParent('web')],
          rules: [{ backendRefs: backendRefs as never }],
        }),
      ],
    });
  const reason = (refs: object[]) => {
    const [r] = computeRouteStatuses(createMeshIndex(snap(refs)), { now: NOW });
    const c = r.status.parents[0].conditions.find((x) => x.type === 'ResolvedRefs')!;
    return `${c.reason}: ${c.message}`;
  };
  assert.match(
    reason([{ name: 'web', port: 81 }]),
    /^BackendNotFound: spec\.rules\[0\]\.backendRefs\[0\]: Service default\/web has no port 81/,
  );
  assert.match(reason([{ name: 'ghost', port: 80 }]), /^BackendNotFound: .*ghost not found/);
  assert.match(reason([{ group: 'example.com', kind: 'Bucket', name: 'b' }]), /^InvalidKind/);
  assert.match(reason([{ name: 'far', namespace: 'elsewhere', port: 80 }]), /^RefNotPermitted/);
});

test('an unchanged condition keeps its lastTransitionTime; a changed one gets the new time', () => {
  const f = createMeshFixture();
  const port = [{ name: 'http', port: 80, protocol: 'HTTP' as const }];
  const route = f.httpRoute('r', {
    parentRefs: [f.serviceParent('web')],
    rules: [{ backendRefs: [{ name: 'web', port: 80 }] }],
  });
  const first = routeStatus(
    createMeshIndex(f.snapshot({ services: [f.service('web', port)], httpRoutes: [route] })),
    route,
    { now: NOW },
  );
  route.status = first;
  const later = '2026-07-01T00:00:00Z';
  const same = routeStatus(
    createMeshIndex(f.snapshot({ services: [f.service('web', port)], httpRoutes: [route] })),
    route,
    { now: later },
  );
  assert.equal(same.parents[0].conditions[0].lastTransitionTime, NOW);
  const gone = routeStatus(createMeshIndex(f.snapshot({ httpRoutes: [route] })), route, { now: later });
  assert.equal(gone.parents[0].conditions[0].status, 'False');
  assert.equal(gone.parents[0].conditions[0].lastTransitionTime, later);
});
