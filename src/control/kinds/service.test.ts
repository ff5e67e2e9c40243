import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Resource } from '../resource.js';
import { validateService } from './service.js';

function service(spec: unknown, name = 'web'): Resource<unknown, unknown> {
  return { apiVersion: 'weft.dev/v1alpha1', kind: 'Service', metadata: { name, namespace: 'default' }, spec };
}

describe('Service validation', () => {
  it('accepts a valid Service', () => {
    assert.deepEqual(
      validateService(
        service({
          selector: { app: 'web' },
          ports: [
            { name: 'http', port: 80, protocol: 'HTTP' },
            { name: 'grpc', port: 9090, protocol: 'GRPC' },
          ],
        }),
      ),
      [],
    );
  });
  it('reports every bad field with its path', () => {
    const issues = validateService(
      service({
        selector: { app: 3 },
        ports: [
          { name: 'http', port: 80, protocol: 'HTTP' },
          { name: 'http', port: 80, protocol: 'UDP' },
          { name: 'Bad', port: 70000 },
          'x',
        ],
        type: 'ClusterIP',
      }),
    );
    assert.deepEqual(issues, [
      { path: 'spec.type', message: 'unknown field; allowed here: selector, ports' },
      { path: 'spec.selector.app', message: 'expected a string value, got number 3' },
      { path: 'spec.ports[1].name', message: "duplicate port name 'http' (also spec.ports[0])" },
      { path: 'spec.ports[1].port', message: 'duplicate port 80 (also spec.ports[0])' },
      {
        path: 'spec.ports[1].protocol',
        message: "unknown protocol a string ('UDP'); expected one of HTTP, HTTP2, GRPC, TCP",
      },
      {
        path: 'spec.ports[2].name',
        message:
          "'Bad' is not a DNS-1123 label: use lower-case letters, digits and '-', starting and ending with a letter or digit",
      },
      { path: 'spec.ports[2].port', message: 'must be between 1 and 65535, got 70000' },
      { path: 'spec.ports[2].protocol', message: 'is required: one of HTTP, HTTP2, GRPC, TCP' },
      { path: 'spec.ports[3]', message: "expected an object, got a string ('x')" },
    ]);
  });
  it('requires spec, selector and at least one port', () => {
    assert.deepEqual(validateService(service(undefined)), [{ path: 'spec', message: 'is required' }]);
    assert.deepEqual(
      validateService(service({ ports: [] })).map((i) => i.path),
      ['spec.selector', 'spec.ports'],
    );
  });
  it('wants a Service name that is one DNS label (it is addressed as NAME.NAMESPACE)', () => {
    const issues = validateService(
      service({ selector: {}, ports: [{ name: 'p', port: 1, protocol: 'TCP' }] }, 'web.v2'),
    );
    assert.equal(issues[0]?.path, 'metadata.name');
  });
});
