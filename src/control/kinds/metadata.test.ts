import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResourceIssue } from '../resource.js';
import {
  dns1123LabelProblem,
  dns1123SubdomainProblem,
  labelValueProblem,
  qualifiedNameProblem,
  validateObjectMeta,
} from './metadata.js';

describe('metadata syntax (Kubernetes rules)', () => {
  it('accepts and rejects DNS-1123 labels and subdomains', () => {
    assert.equal(dns1123LabelProblem('web-1'), null);
    assert.match(dns1123LabelProblem('Web')!, /DNS-1123 label/);
    assert.match(dns1123LabelProblem('-web')!, /DNS-1123 label/);
    assert.match(dns1123LabelProblem('a'.repeat(64))!, /at most 63/);
    assert.equal(dns1123SubdomainProblem('web.v1'), null);
    assert.match(dns1123SubdomainProblem('web..v1')!, /subdomain/);
    assert.match(dns1123SubdomainProblem('')!, /empty/);
  });
  it('checks label keys (prefix/name) and values', () => {
    assert.equal(qualifiedNameProblem('app'), null);
    assert.equal(qualifiedNameProblem('example.com/tier_1.x'), null);
    assert.match(qualifiedNameProblem('Example.com/x')!, /prefix/);
    assert.match(qualifiedNameProblem('example.com/')!, /name part must not be empty/);
    assert.match(qualifiedNameProblem('a/b/c')!, /name part/);
    assert.equal(labelValueProblem(''), null);
    assert.equal(labelValueProblem('v1.2_beta-3'), null);
    assert.match(labelValueProblem('bad value')!, /letters, digits/);
    assert.match(labelValueProblem('x'.repeat(64))!, /at most 63/);
  });
  it('defaults the namespace of namespaced kinds and refuses one on cluster-scoped kinds', () => {
    const issues: ResourceIssue[] = [];
    assert.deepEqual(validateObjectMeta({ name: 'a' }, true, 'Service', issues), {
      name: 'a',
      namespace: 'default',
    });
    assert.deepEqual(issues, []);
    validateObjectMeta({ name: 'a', namespace: 'x' }, false, 'Mesh', issues);
    assert.deepEqual(issues, [
      { path: 'metadata.namespace', message: 'must not be set: Mesh is cluster-scoped' },
    ]);
  });
  it('reports every metadata problem with its path and drops store-owned fields', () => {
    const issues: ResourceIssue[] = [];
    const meta = validateObjectMeta(
      {
        name: 'Bad_Name',
        namespace: 7,
        labels: { 'example.com/ok': 'yes', 'bad key': 'v', app: 'no spaces', n: 3 },
        annotations: { 'weft.dev/note': 'anything goes here' },
        resourceVersion: 12,
        generation: 4,
        creationTimestamp: '2024-01-01T00:00:00Z',
        uid: 'x',
      },
      true,
      'Service',
      issues,
    );
    assert.deepEqual(
      issues.map((i) => i.path),
      [
        'metadata.uid',
        'metadata.name',
        'metadata.namespace',
        'metadata.labels["bad key"]',
        'metadata.labels.app',
        'metadata.labels.n',
        'metadata.resourceVersion',
      ],
    );
    assert.equal(meta?.generation, undefined);
    assert.equal(meta?.creationTimestamp, undefined);
    assert.deepEqual(meta?.annotations, { 'weft.dev/note': 'anything goes here' });
  });
  it('caps the total annotation size', () => {
    const issues: ResourceIssue[] = [];
    validateObjectMeta({ name: 'a', annotations: { big: 'x'.repeat(300 * 1024) } }, true, 'Service', issues);
    assert.equal(issues[0]?.path, 'metadata.annotations');
    assert.match(issues[0]?.message ?? '', /at most 262144 bytes/);
  });
  it('requires metadata and a name', () => {
    const issues: ResourceIssue[] = [];
    assert.equal(validateObjectMeta(undefined, true, 'Service', issues), null);
    validateObjectMeta({}, true, 'Service', issues);
    assert.deepEqual(issues, [
      { path: 'metadata', message: 'is required' },
      { path: 'metadata.name', message: 'is required' },
    ]);
  });
});
