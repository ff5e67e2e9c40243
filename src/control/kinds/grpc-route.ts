// The Gateway API v1 GRPCRoute kind (gateway.networking.k8s.io/v1) for GAMMA mesh
// routing of gRPC Service ports: validation with the CRD's limits, enums and CEL rules.

import type { KindDefinition, Resource, ResourceIssue } from '../resource.js';
import { readRouteFault } from './fault-annotations.js';
import {
  checkRegex,
  readBackendObjectRef,
  readFilters,
  readHeaderFilter,
  readHeaderMatches,
  readHostnames,
  readMirrorFilter,
  readParentRefs,
  readRuleName,
} from './gateway-common.js';
import { GATEWAY_API_VERSION } from './gateway-types.js';
import { readResourceSpec, type SpecReader } from './spec-reader.js';

/** GRPCMethodMatch patterns for Exact matches (from the CRD). */
const GRPC_SERVICE = /^\.?[a-zA-Z_][a-zA-Z_0-9]*(\.[a-zA-Z_][a-zA-Z_0-9]*)*$/;
const GRPC_METHOD = /^[A-Za-z_][A-Za-z_0-9]*$/;
const MAX_MATCHES_TOTAL = 128;

const HEADER_FILTER_FIELDS = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
} as const;

export function validateGrpcRoute(resource: Resource<unknown, unknown>): ResourceIssue[] {
  const issues: ResourceIssue[] = [];
  const spec = readResourceSpec(resource, issues);
  readParentRefs(spec);
  readHostnames(spec);
  const rules = spec.objectList('rules', { maxItems: 16 });
  const names = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < rules.length; i++) total += readRule(rules[i], names, i);
  if (total > MAX_MATCHES_TOTAL)
    spec.issue('rules', `may have at most ${MAX_MATCHES_TOTAL} matches in total, got ${total}`);
  spec.done();
  readRouteFault(resource?.metadata, issues);
  return issues;
}

function readRule(rule: SpecReader, names: Map<string, number>, index: number): number {
  readRuleName(rule, names, index);
  const matches = rule.objectList('matches', { maxItems: 64 });
  for (const m of matches) {
    const method = m.object('method');
    if (method !== null) readMethodMatch(method);
    readHeaderMatches(m, 'headers');
    m.done();
  }
  readFilters(rule, 'filters', {
    types: ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror'],
    fields: { ...HEADER_FILTER_FIELDS, RequestMirror: 'requestMirror' },
    once: ['RequestHeaderModifier', 'ResponseHeaderModifier'],
    read: (type, r) => (type === 'RequestMirror' ? readMirrorFilter(r) : readHeaderFilter(r)),
  });
  const backends = rule.objectList('backendRefs', { maxItems: 16 });
  for (const b of backends) {
    readBackendObjectRef(b);
    b.integer('weight', 0, 1_000_000);
    readFilters(b, 'filters', {
      types: Object.keys(HEADER_FILTER_FIELDS),
      fields: HEADER_FILTER_FIELDS,
      once: Object.keys(HEADER_FILTER_FIELDS),
      read: (_type, r) => readHeaderFilter(r),
    });
    b.done();
  }
  rule.done();
  return matches.length;
}

function readMethodMatch(r: SpecReader): void {
  const type = r.enumeration('type', ['Exact', 'RegularExpression'] as const) ?? 'Exact';
  const exact = type === 'Exact';
  const service = r.string('service', {
    maxLength: 1024,
    pattern: exact ? [GRPC_SERVICE, 'a valid gRPC service name (e.g. "pkg.v1.Greeter")'] : undefined,
  });
  const method = r.string('method', {
    maxLength: 1024,
    pattern: exact ? [GRPC_METHOD, 'a valid gRPC method name (e.g. "SayHello")'] : undefined,
  });
  if (!exact) {
    if (service !== undefined) checkRegex(r, 'service', service);
    if (method !== undefined) checkRegex(r, 'method', method);
  }
  // CEL: "One or both of 'service' or 'method' must be specified".
  if (!r.has('service') && !r.has('method')) r.issue(null, 'one or both of service and method must be set');
  r.done();
}

export function createGrpcRouteKind(): KindDefinition {
  return {
    apiVersion: GATEWAY_API_VERSION,
    kind: 'GRPCRoute',
    plural: 'grpcroutes',
    aliases: ['grpcroute'],
    namespaced: true,
    validate: validateGrpcRoute,
  };
}
