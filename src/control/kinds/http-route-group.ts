// The SMI HTTPRouteGroup kind (specs.smi-spec.io/v1alpha4): named HTTP matches (path
// regex anchored at the start, methods with `*` for any, header regexes ANDed) that
// TrafficSplits (and later TrafficTargets) refer to by name (SMI traffic-specs v1alpha4).

import type { KindDefinition, Resource, ResourceIssue } from '../resource.js';
import { checkRegex, RULES } from './gateway-common.js';
import { readResourceSpec } from './spec-reader.js';

export const SMI_SPECS_API_VERSION = 'specs.smi-spec.io/v1alpha4';

export const SMI_METHODS = [
  '*',
  'GET',
  'HEAD',
  'PUT',
  'POST',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
] as const;

export interface HTTPMatch {
  name: string;
  /** Anchored at the start of the path (SMI): `/api` matches `/api/v1`. */
  pathRegex?: string;
  /** `*` (or an empty list) means any method. */
  methods?: string[];
  /** Header name -> regex the whole value must match; all must match. */
  headers?: Record<string, string>;
}

export interface HTTPRouteGroupSpec {
  matches: HTTPMatch[];
}

export function validateHttpRouteGroup(resource: Resource<unknown, unknown>): ResourceIssue[] {
  const issues: ResourceIssue[] = [];
  const spec = readResourceSpec(resource, issues);
  const matches = spec.objectList('matches', { required: true, minItems: 1 });
  const names = new Map<string, number>();
  for (let i = 0; i < matches.length; i++) {
    const m = matches[i];
    const name = m.string('name', { required: true, maxLength: 253 });
    const path = m.string('pathRegex', { maxLength: 1024 });
    if (path !== undefined) checkRegex(m, 'pathRegex', path);
    const methods = m.list('methods');
    for (let j = 0; j < methods.length; j++) {
      if (!(SMI_METHODS as readonly unknown[]).includes(methods[j]))
        m.issues.push({
          path: `${m.at('methods')}[${j}]`,
          message: `unsupported method ${JSON.stringify(methods[j])}; expected one of ${SMI_METHODS.join(', ')}`,
        });
    }
    const headers = m.stringMap('headers');
    for (const [h, v] of Object.entries(headers)) {
      if (!RULES.headerName.pattern[0].test(h))
        m.issues.push({ path: `${m.at('headers')}.${h}`, message: 'is not a valid header name' });
      checkRegex(m, `headers.${h}`, v);
    }
    m.done();
    if (name === undefined) continue;
    const first = names.get(name);
    if (first !== undefined) m.issue('name', `'${name}' is already used by matches[${first}]`);
    else names.set(name, i);
  }
  spec.done();
  return issues;
}

export function createHttpRouteGroupKind(): KindDefinition {
  return {
    apiVersion: SMI_SPECS_API_VERSION,
    kind: 'HTTPRouteGroup',
    plural: 'httproutegroups',
    aliases: ['httproutegroup', 'hrg'],
    namespaced: true,
    validate: validateHttpRouteGroup,
  };
}
