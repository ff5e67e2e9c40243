// Unit tests of the mesh analysers over small fixture meshes: each code fires on the broken
// mesh and stays quiet on the repaired one, so every test can fail.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServicePort } from '../kinds/mesh-types.js';
import { createMeshFixture } from '../translate/mesh-fixture.js';
import { createMeshIndex } from '../translate/mesh-index.js';
import type { MeshSnapshot } from '../translate/snapshot.js';
import { analyseMesh } from './analyse-mesh.js';
import { FINDING_CODES, type Finding } from './catalogue.js';
import { createCheckKinds } from './check-kinds.js';
import { mergeResources } from './mesh-resources.js';
import { validateDocuments } from './validation.js';

const HTTP: ServicePort[] = [{ name: 'http', port: 80, protocol: 'HTTP' }];

function run(parts: Partial<MeshSnapshot>, f = createMeshFixture()): Finding[] {
  return analyseMesh(createMeshIndex(f.snapshot(parts)));
}

const codes = (findings: Finding[], code?: string) =>
  findings
    .filter((x) => code === undefined || x.code === code)
    .map((x) => `${x.code} ${x.resource.name} ${x.path ?? ''}`);

/** A healthy little mesh: web → reviews, both with a Workload. */
function healthy() {
  const f = createMeshFixture();
  const web = f.service('web', HTTP);
  const reviews = f.service('reviews', HTTP);
  const w1 = f.workload('web-1', { app: 'web' }, { ports: { http: 8080 } });
  const r1 = f.workload('reviews-1', { app: 'reviews' }, { ports: { http: 9080 } });
  const route = f.httpRoute('reviews', {
    parentRefs: [f.serviceParent('reviews', 80)],
    rules: [{ backendRefs: [{ name: 'reviews', port: 80 }] }],
  });
  const webRoute = f.httpRoute('web', {
    parentRefs: [f.serviceParent('web')],
    rules: [{ backendRefs: [{ name: 'web', port: 80 }] }],
  });
  return { f, parts: { services: [web, reviews], workloads: [w1, r1], httpRoutes: [route, webRoute] } };
}

describe('mesh analysis', () => {
  it('finds nothing in a consistent mesh', () => {
    const { f, parts } = healthy();
    assert.deepEqual(codes(run(parts, f)), []);
  });

  it('WEFT0101/WEFT0110: missing backend Service or port, and a disallowed kind', () => {
    const f = createMeshFixture();
    const web = f.service('web', HTTP);
    const w = f.workload('web-1', { app: 'web' }, { ports: { http: 1 } });
    const route = f.httpRoute('r', {
      parentRefs: [f.serviceParent('web', 80)],
      rules: [
        {
          backendRefs: [
            { name: 'nope', port: 80 },
            { name: 'web', port: 81 },
            { kind: 'Pod', name: 'web', port: 80 },
          ],
        },
      ],
    });
    const found = run({ services: [web], workloads: [w], httpRoutes: [route] }, f);
    assert.deepEqual(codes(found, 'WEFT0101'), [
      'WEFT0101 r spec.rules[0].backendRefs[0]',
      'WEFT0101 r spec.rules[0].backendRefs[1]',
    ]);
    assert.match(found.find((x) => x.path === 'spec.rules[0].backendRefs[1]')!.fix, /80\/http/);
    assert.deepEqual(codes(found, 'WEFT0110'), ['WEFT0110 r spec.rules[0].backendRefs[2]']);
    assert.ok(found.every((x) => x.severity === FINDING_CODES[x.code].severity));
  });

  it('WEFT0102 and WEFT0103: a Service that selects nothing, one nobody refers to', () => {
    const { f, parts } = healthy();
    const lonely = f.service('lonely', HTTP, 'default', { app: 'ghost' });
    const found = run({ ...parts, services: [...parts.services, lonely] }, f);
    assert.deepEqual(codes(found), ['WEFT0102 lonely spec.selector', 'WEFT0103 lonely ']);
    assert.equal(found[1]!.severity, 'info');
  });

  it('WEFT0104: parentRef to a missing Service and to a port it lacks', () => {
    const { f, parts } = healthy();
    const bad = f.httpRoute('bad', {
      parentRefs: [f.serviceParent('missing'), f.serviceParent('web', 8080)],
      rules: [{ backendRefs: [{ name: 'web', port: 80 }] }],
    });
    const found = run({ ...parts, httpRoutes: [...parts.httpRoutes, bad] }, f);
    assert.deepEqual(codes(found), ['WEFT0104 bad spec.parentRefs[0]', 'WEFT0104 bad spec.parentRefs[1]']);
    assert.match(found[1]!.message, /has no port 8080/);
  });

  it('WEFT0105: identical matches on one parent; the older route wins and the newer is reported', () => {
    const f = createMeshFixture();
    const web = f.service('web', HTTP);
    const w = f.workload('web-1', { app: 'web' }, { ports: { http: 1 } });
    const match = {
      path: { type: 'PathPrefix' as const, value: '/api/' },
      headers: [{ name: 'X-A', value: '1' }],
    };
    const older = f.httpRoute('zz-older', {
      parentRefs: [f.serviceParent('web')],
      rules: [{ matches: [match], backendRefs: [{ name: 'web', port: 80 }] }],
    });
    const newer = f.httpRoute('aa-newer', {
      parentRefs: [f.serviceParent('web', 80)],
      rules: [
        {
          // The same match written differently: no trailing '/', header name in lower case.
          matches: [{ path: { value: '/api' }, headers: [{ type: 'Exact', name: 'x-a', value: '1' }] }],
          backendRefs: [{ name: 'web', port: 80 }],
        },
      ],
    });
    const distinct = f.httpRoute('other', {
      parentRefs: [f.serviceParent('web')],
      rules: [{ matches: [{ path: { value: '/api' } }], backendRefs: [{ name: 'web', port: 80 }] }],
    });
    const found = run({ services: [web], workloads: [w], httpRoutes: [older, newer, distinct] }, f);
    assert.deepEqual(codes(found), ['WEFT0105 aa-newer spec.rules[0].matches[0]']);
    assert.match(found[0]!.message, /default\/zz-older wins \(older: created/);
    // A consumer route in another namespace replaces producer routes: no conflict with them.
    const consumer = f.httpRoute(
      'consumer',
      {
        parentRefs: [f.serviceParent('web', 80, 'default')],
        rules: [{ matches: [match], backendRefs: [{ name: 'web', port: 80, namespace: 'default' }] }],
      },
      'client',
    );
    assert.deepEqual(codes(run({ services: [web], workloads: [w], httpRoutes: [older, consumer] }, f)), []);
  });

  it('WEFT0105: two catch-all GRPCRoutes on one parent conflict', () => {
    const f = createMeshFixture();
    const api = f.service('api', [{ name: 'grpc', port: 9090, protocol: 'GRPC' }]);
    const w = f.workload('api-1', { app: 'api' }, { ports: { grpc: 1 } });
    const a = f.grpcRoute('a', {
      parentRefs: [f.serviceParent('api')],
      rules: [{ backendRefs: [{ name: 'api', port: 9090 }] }],
    });
    const b = f.grpcRoute('b', {
      parentRefs: [f.serviceParent('api')],
      rules: [{ backendRefs: [{ name: 'api', port: 9090 }] }],
    });
    assert.deepEqual(codes(run({ services: [api], workloads: [w], grpcRoutes: [a, b] }, f)), [
      'WEFT0105 b spec.rules[0]',
    ]);
  });

  it('WEFT0106/WEFT0101/WEFT0104: TrafficSplit backends without endpoints or missing, a missing root', () => {
    const f = createMeshFixture();
    const root = f.service('reviews', HTTP);
    const v1 = f.service('reviews-v1', HTTP, 'default', { app: 'reviews', version: 'v1' });
    const v2 = f.service('reviews-v2', HTTP, 'default', { app: 'reviews', version: 'v2' });
    const w1 = f.workload('r1', { app: 'reviews', version: 'v1' }, { ports: { http: 1 } });
    const w2 = f.workload('r2', { app: 'reviews', version: 'v2' }, { ports: { http: 1 }, healthy: false });
    const split = f.trafficSplit('canary', {
      service: 'reviews',
      backends: [
        { service: 'reviews-v1', weight: 90 },
        { service: 'reviews-v2', weight: 10 },
        { service: 'reviews-v9', weight: 0 },
      ],
    });
    const orphan = f.trafficSplit('orphan', {
      service: 'gone',
      backends: [{ service: 'reviews-v1', weight: 1 }],
    });
    const found = run({ services: [root, v1, v2], workloads: [w1, w2], trafficSplits: [split, orphan] }, f);
    assert.deepEqual(
      codes(found).filter((c) => !c.startsWith('WEFT0103')),
      [
        'WEFT0101 canary spec.backends[2]',
        'WEFT0104 orphan spec.service',
        'WEFT0106 canary spec.backends[1]',
      ],
    );
  });

  it('WEFT0107: a DestinationPolicy whose targetRef selects nothing', () => {
    const { f, parts } = healthy();
    const ok = f.policy('ok', { targetRef: { kind: 'Service', name: 'web', port: 80 } });
    const noSvc = f.policy('no-svc', { targetRef: { kind: 'Service', name: 'gone' } });
    const noPort = f.policy('no-port', { targetRef: { kind: 'Service', name: 'web', port: 81 } });
    const found = run({ ...parts, destinationPolicies: [ok, noSvc, noPort] }, f);
    assert.deepEqual(codes(found), [
      'WEFT0107 no-port spec.targetRef.port',
      'WEFT0107 no-svc spec.targetRef.name',
    ]);
  });

  it('WEFT0108: Workload ports no selecting Service has, and Workloads nothing selects', () => {
    const { f, parts } = healthy();
    const typo = f.workload('web-2', { app: 'web' }, { ports: { htp: 8080, http: 8081 } });
    const stray = f.workload('stray', { app: 'nothing' }, { ports: { http: 1 } });
    const found = run({ ...parts, workloads: [...parts.workloads, typo, stray] }, f);
    assert.deepEqual(codes(found), ['WEFT0108 stray metadata.labels', 'WEFT0108 web-2 spec.ports.htp']);
  });

  it('WEFT0109: a route rule whose backendRefs all weigh 0', () => {
    const { f, parts } = healthy();
    const zero = f.httpRoute('zero', {
      parentRefs: [f.serviceParent('web')],
      rules: [{ matches: [{ path: { value: '/z' } }], backendRefs: [{ name: 'web', port: 80, weight: 0 }] }],
    });
    const found = run({ ...parts, httpRoutes: [...parts.httpRoutes, zero] }, f);
    assert.deepEqual(codes(found), ['WEFT0109 zero spec.rules[0].backendRefs']);
    assert.equal(found[0]!.severity, 'error');
  });
});

describe('validation and merging', () => {
  it('WEFT0001 per issue with its path, WEFT0002 for a duplicate; valid resources pass on', () => {
    const svc = {
      apiVersion: 'weft.dev/v1alpha1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
    };
    const bad = {
      ...svc,
      metadata: { name: 'bad' },
      spec: { selector: {}, ports: [{ name: 'http', port: 99999, protocol: 'UDP' }] },
    };
    const result = validateDocuments(createCheckKinds(), [
      { value: svc, locate: (p) => `a.yaml:${p}` },
      { value: bad },
      { value: svc },
    ]);
    assert.deepEqual(
      result.findings.map((x) => `${x.code} ${x.resource.name} ${x.path ?? ''}`),
      ['WEFT0001 bad spec.ports[0].port', 'WEFT0001 bad spec.ports[0].protocol', 'WEFT0002 web '],
    );
    assert.match(result.findings[2]!.message, /also defined at a\.yaml:/);
    assert.deepEqual(
      result.resources.map((r) => r.metadata.name),
      ['web'],
    );
    assert.equal(result.resources[0]!.metadata.namespace, 'default');
  });

  it('a file resource replaces the live one and keeps its creationTimestamp', () => {
    const f = createMeshFixture();
    const live = f.service('web', HTTP);
    const other = f.service('api', HTTP);
    const { creationTimestamp: _drop, ...meta } = live.metadata;
    const file = { ...live, metadata: meta, spec: { ...live.spec, selector: { app: 'new' } } };
    const merged = mergeResources([live, other], [file]);
    assert.equal(merged.replaced, 1);
    const web = merged.resources.find((r) => r.metadata.name === 'web')!;
    assert.deepEqual(web.spec.selector, { app: 'new' });
    assert.equal(web.metadata.creationTimestamp, live.metadata.creationTimestamp);
    assert.equal(merged.resources.length, 2);
  });

  it('the check kinds are the control plane kinds', async () => {
    const { createMeshKinds } = await import('../server/control-plane.js');
    const names = (r: { all(): readonly { apiVersion: string; kind: string }[] }) =>
      r
        .all()
        .map((k) => `${k.apiVersion}|${k.kind}`)
        .sort();
    assert.deepEqual(names(createCheckKinds()), names(createMeshKinds()));
  });
});
