import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KindDefinition } from '../resource.js';
import { createKindRegistry } from './registry.js';
import { createServiceKind } from './service.js';
import { createWorkloadKind } from './workload.js';

const smiTcpRoute: KindDefinition = {
  apiVersion: 'specs.smi-spec.io/v1alpha4',
  kind: 'TCPRoute',
  plural: 'tcproutes',
  aliases: ['tcproute'],
  namespaced: true,
  validate: () => [],
};
const gatewayTcpRoute: KindDefinition = { ...smiTcpRoute, apiVersion: 'gateway.networking.k8s.io/v1alpha2' };
const mesh: KindDefinition = {
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'Mesh',
  plural: 'meshes',
  aliases: [],
  namespaced: false,
  validate: () => [],
};

describe('kind registry', () => {
  const kinds = createKindRegistry([
    createServiceKind(),
    createWorkloadKind(),
    smiTcpRoute,
    gatewayTcpRoute,
    mesh,
  ]);

  it('finds kinds by apiVersion+kind, plural, name and alias (case-insensitive)', () => {
    assert.equal(kinds.lookup('weft.dev/v1alpha1', 'Service')?.plural, 'services');
    assert.equal(kinds.lookupPlural('weft.dev/v1alpha1', 'workloads')?.kind, 'Workload');
    for (const name of ['svc', 'Service', 'services', 'SERVICE'])
      assert.deepEqual(
        kinds.resolve(name).map((k) => k.kind),
        ['Service'],
        name,
      );
    assert.deepEqual(kinds.resolve('nope'), []);
  });
  it('reports an ambiguous name and resolves its group-qualified form', () => {
    assert.equal(kinds.resolve('tcproutes').length, 2);
    assert.deepEqual(
      kinds.resolve('tcproutes.specs.smi-spec.io').map((k) => k.apiVersion),
      ['specs.smi-spec.io/v1alpha4'],
    );
  });
  it('refuses a kind registered twice', () => {
    assert.throws(() => createKindRegistry([createServiceKind(), createServiceKind()]), /registered twice/);
  });
  it('names the apiVersion and kind of an unknown kind', () => {
    const { issues } = kinds.validateResource({
      apiVersion: 'example.com/v1',
      kind: 'Gizmo',
      metadata: { name: 'a' },
    });
    assert.equal(issues[0]?.path, 'kind');
    assert.match(
      issues[0]?.message ?? '',
      /unknown kind Gizmo in apiVersion example\.com\/v1; known kinds: Service/,
    );
    const wrongVersion = kinds.validateResource({
      apiVersion: 'weft.dev/v1',
      kind: 'Service',
      metadata: { name: 'a' },
    });
    assert.match(wrongVersion.issues[0]?.message ?? '', /use apiVersion weft\.dev\/v1alpha1/);
  });
  it('validates the envelope, metadata and spec together, and drops a client status', () => {
    const bad = kinds.validateResource({
      apiVersion: 'weft.dev/v1alpha1',
      kind: 'Service',
      metadata: { name: 'web', labels: { 'a b': 'c' } },
      spec: { selector: {}, ports: [] },
      extra: 1,
    });
    assert.equal(bad.resource, null);
    assert.deepEqual(
      bad.issues.map((i) => i.path),
      ['extra', 'metadata.labels["a b"]', 'spec.ports'],
    );
    const good = kinds.validateResource({
      apiVersion: 'weft.dev/v1alpha1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
      status: { anything: true },
    });
    assert.deepEqual(good.issues, []);
    assert.equal(good.resource?.metadata.namespace, 'default');
    assert.equal(good.resource?.status, undefined);
  });
  it('never throws on arbitrary JSON', () => {
    for (const v of [
      null,
      1,
      'x',
      [],
      {},
      { apiVersion: 1, kind: [] },
      { apiVersion: 'weft.dev/v1alpha1', kind: 'Workload' },
    ])
      assert.ok(kinds.validateResource(v).issues.length > 0);
  });
});
