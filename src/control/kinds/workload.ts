// The weft.dev/v1alpha1 Workload kind: one running instance (a process, VM or container)
// with its address, per-Service-port target ports, locality, weight, declared health and an
// optional TTL that heartbeats renew. Shape in mesh-types.ts.

import { isIP } from 'node:net';
import { describe, isPlainObject } from '../../config/fields.js';
import type { KindDefinition, Resource, ResourceIssue } from '../resource.js';
import { WEFT_API_VERSION } from './mesh-types.js';
import { dns1123LabelProblem, keyPath, readInteger, reportUnknownFields } from './metadata.js';

/** An RFC 1123 hostname (case-insensitive), at most 253 characters. */
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/;
/** A year; longer leases are almost certainly a unit mistake (milliseconds for seconds). */
const MAX_TTL_SECONDS = 365 * 24 * 3600;

export function validateWorkload(resource: Resource<unknown, unknown>): ResourceIssue[] {
  const issues: ResourceIssue[] = [];
  const spec = resource.spec;
  if (spec === undefined || spec === null) return [{ path: 'spec', message: 'is required' }];
  if (!isPlainObject(spec)) return [{ path: 'spec', message: `expected an object, got ${describe(spec)}` }];
  reportUnknownFields(
    spec,
    ['address', 'ports', 'locality', 'weight', 'healthy', 'ttlSeconds'],
    'spec',
    issues,
  );
  validateAddress(spec.address, issues);
  validatePortMap(spec.ports, issues);
  if (spec.locality !== undefined && spec.locality !== null) {
    if (!isPlainObject(spec.locality))
      issues.push({ path: 'spec.locality', message: `expected an object, got ${describe(spec.locality)}` });
    else {
      reportUnknownFields(spec.locality, ['region', 'zone'], 'spec.locality', issues);
      for (const f of ['region', 'zone'] as const) {
        const v = spec.locality[f];
        if (v !== undefined && v !== null && typeof v !== 'string')
          issues.push({ path: `spec.locality.${f}`, message: `expected a string, got ${describe(v)}` });
      }
    }
  }
  if (spec.weight !== undefined && spec.weight !== null)
    readInteger(spec.weight, 'spec.weight', 1, 128, issues);
  if (spec.healthy !== undefined && spec.healthy !== null && typeof spec.healthy !== 'boolean')
    issues.push({ path: 'spec.healthy', message: `expected true or false, got ${describe(spec.healthy)}` });
  if (spec.ttlSeconds !== undefined && spec.ttlSeconds !== null)
    readInteger(spec.ttlSeconds, 'spec.ttlSeconds', 1, MAX_TTL_SECONDS, issues);
  return issues;
}

function validateAddress(address: unknown, issues: ResourceIssue[]): void {
  const path = 'spec.address';
  if (address === undefined || address === null) {
    issues.push({ path, message: 'is required: an IP address or a hostname' });
    return;
  }
  if (typeof address !== 'string') {
    issues.push({ path, message: `expected a string, got ${describe(address)}` });
    return;
  }
  if (isIP(address) !== 0) return;
  if (address.startsWith('[') && address.endsWith(']') && isIP(address.slice(1, -1)) === 6) {
    issues.push({ path, message: `write an IPv6 address without brackets: '${address.slice(1, -1)}'` });
    return;
  }
  if (/:\d+$/.test(address)) {
    issues.push({ path, message: `'${address}' includes a port; put ports in spec.ports` });
    return;
  }
  // All-numeric dotted strings would otherwise pass as hostnames (e.g. a mistyped 10.0.0.256).
  if (!HOSTNAME.test(address) || /^[0-9.]+$/.test(address))
    issues.push({ path, message: `'${address}' is neither an IP address nor a valid hostname` });
}

function validatePortMap(ports: unknown, issues: ResourceIssue[]): void {
  const path = 'spec.ports';
  if (ports === undefined || ports === null) {
    issues.push({ path, message: 'is required: a map of Service port name to target port' });
    return;
  }
  if (!isPlainObject(ports)) {
    issues.push({ path, message: `expected a map of port name to port number, got ${describe(ports)}` });
    return;
  }
  const entries = Object.entries(ports);
  if (entries.length === 0) issues.push({ path, message: 'must map at least one port name' });
  for (const [name, port] of entries) {
    const p = keyPath(path, name);
    const problem = dns1123LabelProblem(name);
    if (problem !== null) issues.push({ path: p, message: `port name ${problem}` });
    readInteger(port, p, 1, 65535, issues);
  }
}

export function createWorkloadKind(): KindDefinition {
  return {
    apiVersion: WEFT_API_VERSION,
    kind: 'Workload',
    plural: 'workloads',
    aliases: ['workload', 'wl'],
    namespaced: true,
    validate: validateWorkload,
  };
}
