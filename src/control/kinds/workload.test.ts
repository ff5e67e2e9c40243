import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Resource } from '../resource.js';
import { validateWorkload } from './workload.js';

function workload(spec: unknown): Resource<unknown, unknown> {
  return {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'Workload',
    metadata: { name: 'web-1', namespace: 'default' },
    spec,
  };
}

describe('Workload validation', () => {
  it('accepts IPv4, IPv6 and hostnames with every optional field', () => {
    for (const address of ['10.0.0.1', '::1', 'fd00::12', 'vm-1.example.com', 'localhost'])
      assert.deepEqual(
        validateWorkload(
          workload({
            address,
            ports: { http: 8080, 'grpc-api': 9090 },
            locality: { region: 'eu', zone: 'eu-1a' },
            weight: 128,
            healthy: false,
            ttlSeconds: 30,
          }),
        ),
        [],
        address,
      );
  });
  it('reports every bad field with its path', () => {
    const issues = validateWorkload(
      workload({
        address: '[::1]',
        ports: { HTTP: 0, ok: 'x' },
        locality: { region: 1, subzone: 'a' },
        weight: 129,
        healthy: 'yes',
        ttlSeconds: 1.5,
      }),
    );
    assert.deepEqual(
      issues.map((i) => `${i.path}: ${i.message}`),
      [
        "spec.address: write an IPv6 address without brackets: '::1'",
        "spec.ports.HTTP: port name 'HTTP' is not a DNS-1123 label: use lower-case letters, digits and '-', starting and ending with a letter or digit",
        'spec.ports.HTTP: must be between 1 and 65535, got 0',
        "spec.ports.ok: expected an integer, got a string ('x')",
        'spec.locality.subzone: unknown field; allowed here: region, zone',
        'spec.locality.region: expected a string, got number 1',
        'spec.weight: must be between 1 and 128, got 129',
        "spec.healthy: expected true or false, got a string ('yes')",
        'spec.ttlSeconds: expected an integer, got number 1.5',
      ],
    );
  });
  it('rejects addresses that are neither IPs nor hostnames', () => {
    for (const [address, why] of [
      ['10.0.0.256', /neither an IP address nor a valid hostname/],
      ['10.0.0.1:80', /includes a port/],
      ['under_score.example', /neither/],
      ['', /neither/],
      [42, /expected a string/],
    ] as const) {
      const issues = validateWorkload(workload({ address, ports: { http: 1 } }));
      assert.equal(issues[0]?.path, 'spec.address', String(address));
      assert.match(issues[0]?.message ?? '', why);
    }
  });
  it('requires address and a non-empty port map; ttlSeconds must be positive', () => {
    assert.deepEqual(
      validateWorkload(workload({ ports: {}, ttlSeconds: 0 })).map((i) => i.path),
      ['spec.address', 'spec.ports', 'spec.ttlSeconds'],
    );
  });
});
