// The SMI TrafficSplit kind (split.smi-spec.io/v1alpha4): a root Service whose traffic is
// divided between backend Services in proportion to integer weights, optionally only for
// the requests matching HTTPRouteGroup / TCPRoute entries (SMI traffic-split spec v1alpha4).

import type { KindDefinition, Resource, ResourceIssue } from '../resource.js';
import { RULES } from './gateway-common.js';
import { readResourceSpec } from './spec-reader.js';

export const TRAFFIC_SPLIT_API_VERSION = 'split.smi-spec.io/v1alpha4';
export const SMI_SPECS_GROUP = 'specs.smi-spec.io';

export interface TrafficSplitBackend {
  /** A Service in the TrafficSplit's namespace. */
  service: string;
  weight: number;
}

export interface TrafficSplitMatch {
  kind: 'HTTPRouteGroup' | 'TCPRoute';
  name: string;
  apiGroup?: string;
}

export interface TrafficSplitSpec {
  /** The root Service clients address, in the TrafficSplit's namespace. */
  service: string;
  backends: TrafficSplitBackend[];
  matches?: TrafficSplitMatch[];
}

const SERVICE_NAME = { required: true, maxLength: 63, pattern: RULES.namespace.pattern } as const;

export function validateTrafficSplit(resource: Resource<unknown, unknown>): ResourceIssue[] {
  const issues: ResourceIssue[] = [];
  const spec = readResourceSpec(resource, issues);
  spec.string('service', SERVICE_NAME);
  const backends = spec.objectList('backends', { required: true, minItems: 1 });
  const seen = new Map<string, number>();
  let sum = 0;
  for (let i = 0; i < backends.length; i++) {
    const b = backends[i];
    const service = b.string('service', SERVICE_NAME);
    sum += b.integer('weight', 0, 2 ** 31 - 1, true) ?? 0;
    b.done();
    if (service === undefined) continue;
    const first = seen.get(service);
    if (first !== undefined) b.issue('service', `'${service}' is already a backend at backends[${first}]`);
    else seen.set(service, i);
  }
  if (backends.length > 0 && sum === 0) spec.issue('backends', 'the weights must not all be zero');
  const matches = spec.objectList('matches');
  for (const m of matches) {
    m.enumeration('kind', ['HTTPRouteGroup', 'TCPRoute'] as const, true);
    m.string('name', SERVICE_NAME);
    const group = m.string('apiGroup');
    if (group !== undefined && group !== SMI_SPECS_GROUP) m.issue('apiGroup', `must be '${SMI_SPECS_GROUP}'`);
    m.done();
  }
  spec.done();
  return issues;
}

export function createTrafficSplitKind(): KindDefinition {
  return {
    apiVersion: TRAFFIC_SPLIT_API_VERSION,
    kind: 'TrafficSplit',
    plural: 'trafficsplits',
    aliases: ['trafficsplit', 'ts'],
    namespaced: true,
    validate: validateTrafficSplit,
  };
}
