// The weft.dev/v1alpha1 Service kind: a named set of Workloads (picked by label selector,
// Kubernetes semantics) and the ports clients address it on. Shape in mesh-types.ts.

import { describe, isPlainObject } from '../../config/fields.js';
import type { KindDefinition, Resource, ResourceIssue } from '../resource.js';
import type { ServicePortProtocol } from './mesh-types.js';
import { WEFT_API_VERSION } from './mesh-types.js';
import {
  dns1123LabelProblem,
  labelValueProblem,
  readInteger,
  reportUnknownFields,
  validateStringMap,
} from './metadata.js';

export const SERVICE_PROTOCOLS: readonly ServicePortProtocol[] = ['HTTP', 'HTTP2', 'GRPC', 'TCP'];

export function validateService(resource: Resource<unknown, unknown>): ResourceIssue[] {
  const issues: ResourceIssue[] = [];
  // A Service is addressed as NAME.NAMESPACE (xds:///web.shop:80), so its name is one DNS label.
  const nameProblem = dns1123LabelProblem(resource.metadata.name);
  if (nameProblem !== null && resource.metadata.name !== '')
    issues.push({ path: 'metadata.name', message: `a Service name ${nameProblem}` });
  const spec = resource.spec;
  if (spec === undefined || spec === null) return [...issues, { path: 'spec', message: 'is required' }];
  if (!isPlainObject(spec))
    return [...issues, { path: 'spec', message: `expected an object, got ${describe(spec)}` }];
  reportUnknownFields(spec, ['selector', 'ports'], 'spec', issues);
  if (spec.selector === undefined || spec.selector === null)
    issues.push({ path: 'spec.selector', message: 'is required (use {} to select no Workloads)' });
  else validateStringMap(spec.selector, 'spec.selector', issues, labelValueProblem);
  validatePorts(spec.ports, issues);
  return issues;
}

function validatePorts(ports: unknown, issues: ResourceIssue[]): void {
  if (ports === undefined || ports === null) {
    issues.push({ path: 'spec.ports', message: 'is required: list at least one port' });
    return;
  }
  if (!Array.isArray(ports)) {
    issues.push({ path: 'spec.ports', message: `expected a list, got ${describe(ports)}` });
    return;
  }
  if (ports.length === 0) issues.push({ path: 'spec.ports', message: 'must list at least one port' });
  const names = new Map<string, number>();
  const numbers = new Map<number, number>();
  ports.forEach((p, i) => {
    const path = `spec.ports[${i}]`;
    if (!isPlainObject(p)) {
      issues.push({ path, message: `expected an object, got ${describe(p)}` });
      return;
    }
    reportUnknownFields(p, ['name', 'port', 'protocol'], path, issues);
    if (p.name === undefined || p.name === null)
      issues.push({ path: `${path}.name`, message: 'is required' });
    else if (typeof p.name !== 'string')
      issues.push({ path: `${path}.name`, message: `expected a string, got ${describe(p.name)}` });
    else {
      const problem = dns1123LabelProblem(p.name);
      if (problem !== null) issues.push({ path: `${path}.name`, message: problem });
      const first = names.get(p.name);
      if (first !== undefined)
        issues.push({
          path: `${path}.name`,
          message: `duplicate port name '${p.name}' (also spec.ports[${first}])`,
        });
      else names.set(p.name, i);
    }
    if (p.port === undefined || p.port === null)
      issues.push({ path: `${path}.port`, message: 'is required' });
    else {
      const n = readInteger(p.port, `${path}.port`, 1, 65535, issues);
      if (n !== null) {
        const first = numbers.get(n);
        if (first !== undefined)
          issues.push({ path: `${path}.port`, message: `duplicate port ${n} (also spec.ports[${first}])` });
        else numbers.set(n, i);
      }
    }
    if (p.protocol === undefined || p.protocol === null)
      issues.push({
        path: `${path}.protocol`,
        message: `is required: one of ${SERVICE_PROTOCOLS.join(', ')}`,
      });
    else if (typeof p.protocol !== 'string' || !(SERVICE_PROTOCOLS as readonly string[]).includes(p.protocol))
      issues.push({
        path: `${path}.protocol`,
        message: `unknown protocol ${describe(p.protocol)}; expected one of ${SERVICE_PROTOCOLS.join(', ')}`,
      });
  });
}

export function createServiceKind(): KindDefinition {
  return {
    apiVersion: WEFT_API_VERSION,
    kind: 'Service',
    plural: 'services',
    aliases: ['service', 'svc'],
    namespaced: true,
    validate: validateService,
  };
}
