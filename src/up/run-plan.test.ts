// The run plan: replica names, ports taken in the documented order, the app's environment,
// and Service/Workload resources that the control plane's own validators accept.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { qualifiedNameProblem } from '../control/kinds/metadata.js';
import { validateService } from '../control/kinds/service.js';
import { validateWorkload } from '../control/kinds/workload.js';
import type { Resource } from '../control/resource.js';
import { createDefaultLauncher, localityArgs } from './launcher.js';
import { parseMeshFile } from './mesh-file.js';
import { buildRunPlan, countPlanPorts, replicaDependencies, upstreamEnvVar } from './run-plan.js';

const MESH = parseMeshFile(
  `namespace: shop
control: {xdsPort: 18000}
workloads:
  - name: web
    service: web
    command: node
    args: [web.js]
    env: {GREETING: hi}
    port: 8080
    upstreams: [reviews, ratings-api]
  - name: reviews-v2
    service: reviews
    command: node
    replicas: 2
    labels: {app: reviews, version: v2}
    locality: {region: eu, zone: eu-1}
    upstreams: [ratings-api]
  - name: ratings
    service: ratings-api
    command: node
    protocol: GRPC
`,
  '/p/mesh.yaml',
);

function counter(start: number): () => number {
  let n = start;
  return () => n++;
}

describe('run plan', () => {
  it('takes exactly countPlanPorts ports, in the documented order', () => {
    let taken = 0;
    const plan = buildRunPlan(MESH, () => 20000 + taken++);
    assert.equal(taken, countPlanPorts(MESH));
    assert.deepEqual(plan.control, { apiPort: 20000, xdsPort: 18000 });
    const [web, r0, r1, ratings] = plan.replicas;
    assert.deepEqual(
      plan.replicas.map((r) => r.name),
      ['web-0', 'reviews-v2-0', 'reviews-v2-1', 'ratings-0'],
    );
    // web: fixed app port; inbound, outbound, admin, then one per upstream.
    assert.equal(web!.appPort, 8080);
    assert.deepEqual(web!.sidecar, {
      nodeId: 'sidecar~shop~web-0',
      inboundPort: 20001,
      outboundPort: 20002,
      adminPort: 20003,
    });
    assert.deepEqual(
      web!.upstreams.map((u) => [u.service, u.port, u.envVar]),
      [
        ['reviews', 20004, 'WEFT_UPSTREAM_REVIEWS_URL'],
        ['ratings-api', 20005, 'WEFT_UPSTREAM_RATINGS_API_URL'],
      ],
    );
    assert.equal(r0!.appPort, 20006);
    assert.equal(r0!.sidecar.inboundPort, 20007);
    assert.equal(r1!.appPort, 20011);
    assert.equal(ratings!.portName, 'grpc');
    assert.equal(
      new Set(plan.replicas.flatMap((r) => [r.appPort, r.sidecar.inboundPort, r.sidecar.outboundPort])).size,
      12,
    );
  });

  it('gives each app its port, its upstreams and the sidecar as HTTP proxy', () => {
    const plan = buildRunPlan(MESH, counter(30000));
    const web = plan.replicas[0]!;
    assert.deepEqual(web.env, {
      GREETING: 'hi',
      PORT: '8080',
      WEFT_NAMESPACE: 'shop',
      WEFT_SERVICE: 'web',
      WEFT_WORKLOAD: 'web-0',
      WEFT_OUTBOUND_URL: 'http://127.0.0.1:30002',
      HTTP_PROXY: 'http://127.0.0.1:30002',
      http_proxy: 'http://127.0.0.1:30002',
      NO_PROXY: 'localhost,127.0.0.1,::1',
      no_proxy: 'localhost,127.0.0.1,::1',
      WEFT_UPSTREAM_REVIEWS_URL: 'http://127.0.0.1:30004',
      WEFT_UPSTREAM_REVIEWS_ADDRESS: '127.0.0.1:30004',
      WEFT_UPSTREAM_RATINGS_API_URL: 'http://127.0.0.1:30005',
      WEFT_UPSTREAM_RATINGS_API_ADDRESS: '127.0.0.1:30005',
    });
    assert.equal(upstreamEnvVar('a-b-c', 'ADDRESS'), 'WEFT_UPSTREAM_A_B_C_ADDRESS');
  });

  it('plans Services and Workloads that the control plane accepts', () => {
    const plan = buildRunPlan(MESH, counter(40000));
    const services = plan.resources.filter((r) => r.kind === 'Service');
    const workloads = plan.resources.filter((r) => r.kind === 'Workload');
    assert.deepEqual(
      services.map((s) => [s.metadata.name, s.spec]),
      [
        [
          'web',
          { selector: { 'weft.dev/service': 'web' }, ports: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
        ],
        [
          'reviews',
          {
            selector: { 'weft.dev/service': 'reviews' },
            ports: [{ name: 'http', port: 80, protocol: 'HTTP' }],
          },
        ],
        [
          'ratings-api',
          {
            selector: { 'weft.dev/service': 'ratings-api' },
            ports: [{ name: 'grpc', port: 80, protocol: 'GRPC' }],
          },
        ],
      ],
    );
    const r1 = workloads.find((w) => w.metadata.name === 'reviews-v2-1')!;
    const replica = plan.replicas.find((r) => r.name === 'reviews-v2-1')!;
    assert.deepEqual(r1.metadata, {
      name: 'reviews-v2-1',
      namespace: 'shop',
      labels: {
        app: 'reviews',
        version: 'v2',
        'weft.dev/service': 'reviews',
        'weft.dev/workload': 'reviews-v2',
        'weft.dev/managed-by': 'weft-up',
      },
      annotations: {
        'weft.dev/app-port-http': String(replica.appPort),
        'weft.dev/outbound-http-port': String(replica.sidecar.outboundPort),
        'weft.dev/upstream-port-ratings-api': String(replica.upstreams[0]!.port),
      },
    });
    assert.deepEqual(r1.spec, {
      address: '127.0.0.1',
      ports: { http: replica.sidecar.inboundPort },
      locality: { region: 'eu', zone: 'eu-1' },
    });
    for (const r of plan.resources) {
      const issues =
        r.kind === 'Service'
          ? validateService(r as Resource<unknown, unknown>)
          : validateWorkload(r as Resource<unknown, unknown>);
      assert.deepEqual(issues, [], `${r.kind} ${r.metadata.name}`);
      for (const k of [...Object.keys(r.metadata.labels ?? {}), ...Object.keys(r.metadata.annotations ?? {})])
        assert.equal(qualifiedNameProblem(k), null, k);
    }
  });

  it('is deterministic and records who calls whom', () => {
    assert.deepEqual(buildRunPlan(MESH, counter(1000)), buildRunPlan(MESH, counter(1000)));
    const deps = replicaDependencies(buildRunPlan(MESH, counter(1000)));
    assert.deepEqual(deps.get('web-0'), ['reviews-v2-0', 'reviews-v2-1', 'ratings-0']);
    assert.deepEqual(deps.get('reviews-v2-0'), ['ratings-0']);
    assert.deepEqual(deps.get('ratings-0'), []);
  });
});

describe('the default launcher', () => {
  it("passes a Workload's locality to its sidecars as --locality (none without a region)", () => {
    const plan = buildRunPlan(MESH, counter(21000));
    const launcher = createDefaultLauncher();
    const args = (i: number): readonly string[] => launcher.sidecar(plan, plan.replicas[i]).args;
    const at = args(1).indexOf('--locality');
    assert.ok(at > 0, args(1).join(' '));
    assert.equal(args(1)[at + 1], 'eu/eu-1');
    assert.equal(args(0).includes('--locality'), false);
    assert.deepEqual(localityArgs({ region: 'us' }), ['--locality', 'us']);
    assert.deepEqual(localityArgs({ zone: 'z' }), []);
  });
});
