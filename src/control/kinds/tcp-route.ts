// The SMI TCPRoute kind (specs.smi-spec.io/v1alpha4): a set of destination ports that a
// TrafficSplit can be limited to (SMI traffic-specs v1alpha4). An empty port list means
// every port.

import type { KindDefinition, Resource, ResourceIssue } from '../resource.js';
import { SMI_SPECS_API_VERSION } from './http-route-group.js';
import { readResourceSpec } from './spec-reader.js';

export interface TCPRouteSpec {
  matches?: { name?: string; ports?: number[] };
}

export function validateTcpRoute(resource: Resource<unknown, unknown>): ResourceIssue[] {
  const issues: ResourceIssue[] = [];
  const spec = readResourceSpec(resource, issues);
  const m = spec.object('matches');
  if (m !== null) {
    m.string('name', { maxLength: 253 });
    const ports = m.list('ports');
    const seen = new Set<unknown>();
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i];
      const path = `${m.at('ports')}[${i}]`;
      if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535)
        issues.push({ path, message: 'must be a port number from 1 to 65535' });
      else if (seen.has(p)) issues.push({ path, message: `port ${p} is listed twice` });
      seen.add(p);
    }
    m.done();
  }
  spec.done();
  return issues;
}

export function createTcpRouteKind(): KindDefinition {
  return {
    apiVersion: SMI_SPECS_API_VERSION,
    kind: 'TCPRoute',
    plural: 'tcproutes',
    aliases: ['tcproute'],
    namespaced: true,
    validate: validateTcpRoute,
  };
}
