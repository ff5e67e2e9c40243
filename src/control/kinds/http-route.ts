// The Gateway API v1 HTTPRoute kind (gateway.networking.k8s.io/v1), as used in GAMMA mesh
// mode: validation of the whole spec with the CRD's limits, defaults, enums and CEL rules.
// Cross-resource problems (a parent or backend Service that does not exist) are not
// validation errors: Gateway API reports them in route status (translate/status.ts).

import type { KindDefinition, Resource, ResourceIssue } from '../resource.js';
import { readRouteFault } from './fault-annotations.js';
import {
  checkRegex,
  type FilterRules,
  RULES,
  readBackendObjectRef,
  readFilters,
  readHeaderFilter,
  readHeaderMatches,
  readHostnames,
  readMirrorFilter,
  readParentRefs,
  readRuleName,
} from './gateway-common.js';
import { DURATION_HINT, parseGatewayDuration } from './gateway-duration.js';
import { GATEWAY_API_VERSION } from './gateway-types.js';
import { readResourceSpec, type SpecReader } from './spec-reader.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;
const PATH_TYPES = ['Exact', 'PathPrefix', 'RegularExpression'] as const;
const REDIRECT_CODES = [301, 302, 303, 307, 308];
/** The CRD caps matches at 64 per rule and 128 across all rules (CEL). */
const MAX_MATCHES_PER_RULE = 64;
const MAX_MATCHES_TOTAL = 128;

const FILTER_FIELDS = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestMirror: 'requestMirror',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
} as const;

export function validateHttpRoute(resource: Resource<unknown, unknown>): ResourceIssue[] {
  const issues: ResourceIssue[] = [];
  const spec = readResourceSpec(resource, issues);
  readParentRefs(spec);
  readHostnames(spec);
  const rules = spec.objectList('rules', { maxItems: 16 });
  const names = new Map<string, number>();
  let totalMatches = 0;
  for (let i = 0; i < rules.length; i++) {
    totalMatches += readRule(rules[i], names, i);
  }
  if (totalMatches > MAX_MATCHES_TOTAL)
    spec.issue('rules', `may have at most ${MAX_MATCHES_TOTAL} matches in total, got ${totalMatches}`);
  spec.done();
  readRouteFault(resource?.metadata, issues);
  return issues;
}

/** Reads one rule; returns its number of matches. */
function readRule(rule: SpecReader, names: Map<string, number>, index: number): number {
  readRuleName(rule, names, index);
  const matches = rule.objectList('matches', { maxItems: MAX_MATCHES_PER_RULE });
  const pathTypes = matches.map(readMatch);
  const filterRules: FilterRules = {
    types: Object.keys(FILTER_FIELDS),
    fields: FILTER_FIELDS,
    once: ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite'],
    read: (type, r) => readFilter(type, r, pathTypes, rule),
  };
  const types = readFilters(rule, 'filters', filterRules);
  if (types.includes('RequestRedirect') && types.includes('URLRewrite'))
    rule.issue('filters', 'may not contain both RequestRedirect and URLRewrite');
  const backends = rule.objectList('backendRefs', { maxItems: 16 });
  if (types.includes('RequestRedirect') && backends.length > 0)
    rule.issue('backendRefs', 'must be empty when the rule has a RequestRedirect filter');
  for (const b of backends) {
    readBackendObjectRef(b);
    b.integer('weight', 0, 1_000_000);
    readFilters(b, 'filters', {
      types: ['RequestHeaderModifier', 'ResponseHeaderModifier'],
      fields: {
        RequestHeaderModifier: 'requestHeaderModifier',
        ResponseHeaderModifier: 'responseHeaderModifier',
      },
      once: ['RequestHeaderModifier', 'ResponseHeaderModifier'],
      read: (_type, r) => readHeaderFilter(r),
    });
    b.done();
  }
  readTimeouts(rule);
  readRetry(rule);
  rule.done();
  return matches.length;
}

/** One HTTPRouteMatch; returns its path type (default PathPrefix) for the filter rules. */
function readMatch(m: SpecReader): string {
  let pathType: string = 'PathPrefix';
  const path = m.object('path');
  if (path !== null) {
    pathType = path.enumeration('type', PATH_TYPES) ?? (path.has('type') ? '' : 'PathPrefix');
    const value = path.string('value', { maxLength: 1024 });
    if (value !== undefined) checkPathValue(path, pathType, value);
    path.done();
  }
  readHeaderMatches(m, 'headers');
  const params = m.objectList('queryParams', { maxItems: 16 });
  const seen = new Map<string, number>();
  for (let i = 0; i < params.length; i++) {
    const q = params[i];
    const type = q.enumeration('type', ['Exact', 'RegularExpression'] as const) ?? 'Exact';
    const name = q.string('name', RULES.headerName);
    const value = q.string('value', { required: true, maxLength: 1024 });
    if (value !== undefined && type === 'RegularExpression') checkRegex(q, 'value', value);
    q.done();
    if (name === undefined) continue;
    // Query parameter names are case-sensitive (unlike header names).
    const first = seen.get(name);
    if (first !== undefined)
      q.issue('name', `query parameter '${name}' is already matched by queryParams[${first}]`);
    else seen.set(name, i);
  }
  m.enumeration('method', METHODS);
  m.done();
  return pathType;
}

/** HTTPPathMatch.value rules from the CRD's CEL validations. */
function checkPathValue(path: SpecReader, type: string, value: string): void {
  if (type === 'RegularExpression') {
    checkRegex(path, 'value', value);
    return;
  }
  if (!value.startsWith('/')) {
    path.issue('value', "must be an absolute path starting with '/'");
    return;
  }
  for (const bad of ['//', '/./', '/../', '%2f', '%2F', '#']) {
    if (value.includes(bad)) path.issue('value', `must not contain '${bad}'`);
  }
  if (value.endsWith('/..') || value.endsWith('/.')) path.issue('value', "must not end with '/..' or '/.'");
}

function readFilter(type: string, r: SpecReader, pathTypes: string[], rule: SpecReader): void {
  switch (type) {
    case 'RequestHeaderModifier':
    case 'ResponseHeaderModifier':
      readHeaderFilter(r);
      return;
    case 'RequestMirror':
      readMirrorFilter(r);
      return;
    case 'RequestRedirect': {
      r.enumeration('scheme', ['http', 'https'] as const);
      r.string('hostname', RULES.preciseHostname);
      r.integer('port', 1, 65535);
      const code = r.integer('statusCode', 300, 399);
      if (code !== undefined && !REDIRECT_CODES.includes(code))
        r.issue('statusCode', `unsupported value ${code}; expected one of ${REDIRECT_CODES.join(', ')}`);
      readPathModifier(r, pathTypes, rule);
      r.done();
      return;
    }
    case 'URLRewrite':
      r.string('hostname', RULES.preciseHostname);
      readPathModifier(r, pathTypes, rule);
      if (!r.has('hostname') && !r.has('path')) r.issue(null, 'must have hostname or path');
      r.done();
      return;
  }
}

/**
 * HTTPPathModifier. ReplacePrefixMatch needs exactly one match in the rule, and it must be
 * a PathPrefix match (CEL rule on HTTPRouteRule).
 */
function readPathModifier(parent: SpecReader, pathTypes: string[], rule: SpecReader): void {
  const p = parent.object('path');
  if (p === null) return;
  const type = p.enumeration('type', ['ReplaceFullPath', 'ReplacePrefixMatch'] as const, true);
  for (const [field, owner] of [
    ['replaceFullPath', 'ReplaceFullPath'],
    ['replacePrefixMatch', 'ReplacePrefixMatch'],
  ] as const) {
    if (type === owner) {
      const v = p.string(field, { maxLength: 1024 });
      if (v === undefined && !p.has(field)) p.issue(field, `is required when type is ${owner}`);
      else if (v !== undefined && !v.startsWith('/')) p.issue(field, "must start with '/'");
    } else if (p.has(field)) {
      p.take(field);
      p.issue(field, `must not be set when type is ${type ?? 'not given'}`);
    }
  }
  if (type === 'ReplacePrefixMatch' && (pathTypes.length !== 1 || pathTypes[0] !== 'PathPrefix')) {
    rule.issue(
      'matches',
      'a ReplacePrefixMatch path modifier needs exactly one match, and it must be a PathPrefix path match',
    );
  }
  p.done();
}

function readTimeouts(rule: SpecReader): void {
  const t = rule.object('timeouts');
  if (t === null) return;
  const request = readDuration(t, 'request');
  const backend = readDuration(t, 'backendRequest');
  // CEL: "backendRequest timeout cannot be longer than request timeout" (0s = no limit).
  if (request !== undefined && backend !== undefined && request !== 0 && (backend === 0 || backend > request))
    t.issue('backendRequest', 'must not be longer than the request timeout');
  t.done();
}

function readRetry(rule: SpecReader): void {
  const r = rule.object('retry');
  if (r === null) return;
  const codes = r.list('codes');
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 400 || c > 599)
      r.issues.push({
        path: `${r.at('codes')}[${i}]`,
        message: 'must be an HTTP status code from 400 to 599',
      });
  }
  r.integer('attempts', 0, 2 ** 31 - 1);
  readDuration(r, 'backoff');
  r.done();
}

function readDuration(r: SpecReader, field: string): number | undefined {
  const text = r.string(field);
  if (text === undefined) return undefined;
  const ms = parseGatewayDuration(text);
  if (ms === null) r.issue(field, `'${text}' is not ${DURATION_HINT}`);
  return ms ?? undefined;
}

export function createHttpRouteKind(): KindDefinition {
  return {
    apiVersion: GATEWAY_API_VERSION,
    kind: 'HTTPRoute',
    plural: 'httproutes',
    aliases: ['httproute', 'hr'],
    namespaced: true,
    validate: validateHttpRoute,
  };
}
