// The set of kinds one control plane accepts, built once from KindDefinitions and injected
// into the store and the API (no module-level registry). It finds a kind by apiVersion+kind
// (resources), by group/version/plural (API paths) and by name, plural or alias (`weft get`),
// and validates a whole resource: envelope, metadata, then the kind's own spec rules.

import { describe, isPlainObject } from '../../config/fields.js';
import type { KindDefinition, Resource, ResourceIssue } from '../resource.js';
import { reportUnknownFields, validateObjectMeta } from './metadata.js';

export interface ValidatedResource {
  /** The normalised resource (namespace defaulted, `status` dropped), or null when it cannot be used. */
  readonly resource: Resource | null;
  /** Every problem found; the resource is acceptable only when this is empty. */
  readonly issues: ResourceIssue[];
}

export interface KindRegistry {
  /** Every registered kind, in registration order. */
  all(): readonly KindDefinition[];
  lookup(apiVersion: string, kind: string): KindDefinition | undefined;
  /** The kind served at `/apis/{group}/{version}/.../{plural}`. */
  lookupPlural(apiVersion: string, plural: string): KindDefinition | undefined;
  /**
   * Kinds a user may mean by `name`: a kind name, plural or alias, case-insensitive, optionally
   * qualified with the group (`tcproutes.specs.smi-spec.io`). More than one result means the
   * name is ambiguous and the caller should ask for the qualified form.
   */
  resolve(name: string): KindDefinition[];
  /** Validates untrusted input as a resource of a registered kind. Never throws. */
  validateResource(obj: unknown): ValidatedResource;
}

export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

const ENVELOPE_FIELDS = ['apiVersion', 'kind', 'metadata', 'spec', 'status'] as const;

export function createKindRegistry(defs: readonly KindDefinition[]): KindRegistry {
  const byKind = new Map<string, KindDefinition>();
  const byPlural = new Map<string, KindDefinition>();
  for (const def of defs) {
    const id = `${def.apiVersion}|${def.kind}`;
    if (byKind.has(id)) throw new Error(`kind ${def.kind} (${def.apiVersion}) is registered twice`);
    byKind.set(id, def);
    byPlural.set(`${def.apiVersion}|${def.plural}`, def);
  }
  const all = Object.freeze([...defs]);

  function namesOf(def: KindDefinition): string[] {
    return [def.kind.toLowerCase(), def.plural, ...def.aliases];
  }

  function resolve(name: string): KindDefinition[] {
    const wanted = name.toLowerCase();
    const exact = all.filter((d) => namesOf(d).includes(wanted));
    if (exact.length > 0) return exact;
    return all.filter((d) => namesOf(d).some((n) => wanted === `${n}.${groupOf(d.apiVersion)}`));
  }

  function validateResource(obj: unknown): ValidatedResource {
    const issues: ResourceIssue[] = [];
    if (!isPlainObject(obj)) {
      issues.push({ path: '(root)', message: `expected a resource object, got ${describe(obj)}` });
      return { resource: null, issues };
    }
    const { apiVersion, kind } = obj;
    if (typeof apiVersion !== 'string' || apiVersion === '')
      issues.push({
        path: 'apiVersion',
        message: apiVersion === undefined ? 'is required' : `expected a string, got ${describe(apiVersion)}`,
      });
    if (typeof kind !== 'string' || kind === '')
      issues.push({
        path: 'kind',
        message: kind === undefined ? 'is required' : `expected a string, got ${describe(kind)}`,
      });
    if (issues.length > 0) return { resource: null, issues };
    const def = byKind.get(`${apiVersion}|${kind}`);
    if (def === undefined) {
      issues.push({ path: 'kind', message: unknownKindMessage(apiVersion as string, kind as string) });
      return { resource: null, issues };
    }
    reportUnknownFields(obj, ENVELOPE_FIELDS, '', issues);
    const metadata = validateObjectMeta(obj.metadata, def.namespaced, def.kind, issues);
    if (metadata === null) return { resource: null, issues };
    // `status` is owned by the control plane (route conditions); a client's copy is ignored
    // so that `weft get -o yaml` output can be applied back unchanged.
    const resource: Resource = {
      apiVersion: def.apiVersion,
      kind: def.kind,
      metadata,
      spec: obj.spec as Record<string, unknown>,
    };
    try {
      issues.push(...def.validate(resource as Resource<unknown, unknown>));
    } catch (err) {
      // The contract says validators never throw; if one does, report it rather than crash the API.
      issues.push({ path: 'spec', message: `validator for ${def.kind} failed: ${(err as Error).message}` });
    }
    return { resource: issues.length === 0 ? resource : null, issues };
  }

  function unknownKindMessage(apiVersion: string, kind: string): string {
    const sameKind = all.filter((d) => d.kind === kind).map((d) => d.apiVersion);
    if (sameKind.length > 0)
      return `kind ${kind} is not served in apiVersion ${apiVersion}; use apiVersion ${sameKind.join(' or ')}`;
    const known = all.map((d) => `${d.kind} (${d.apiVersion})`).join(', ');
    return `unknown kind ${kind} in apiVersion ${apiVersion}; known kinds: ${known || 'none'}`;
  }

  return {
    all: () => all,
    lookup: (apiVersion, kind) => byKind.get(`${apiVersion}|${kind}`),
    lookupPlural: (apiVersion, plural) => byPlural.get(`${apiVersion}|${plural}`),
    resolve,
    validateResource,
  };
}
