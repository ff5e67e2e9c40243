// WEFT0001/WEFT0002: the documents of the given files validated as `weft apply` would
// (the kinds registry: envelope, metadata, each kind's spec rules), one finding per issue
// with its field path, and duplicates within the batch. Valid resources go on to the mesh
// analysis; an invalid one counts as absent there.

import { isPlainObject } from '../../config/fields.js';
import type { KindRegistry } from '../kinds/registry.js';
import type { Resource } from '../resource.js';
import { type Finding, finding, type ResourceRef, refOf } from './catalogue.js';
import { resourceKey } from './mesh-resources.js';

/** One document to check and, when it came from a file, how to name a line in it. */
export interface CheckDocument {
  readonly value: unknown;
  /** `file:line (document n)` for a field path in this document. */
  readonly locate?: (path: string) => string;
}

export interface ValidatedDocuments {
  /** The valid resources, normalised (namespace defaulted, status dropped). */
  readonly resources: Resource[];
  readonly findings: Finding[];
  /** resourceKey → the locator of the document it came from, to place mesh findings. */
  readonly locators: ReadonlyMap<string, (path: string) => string>;
}

export function validateDocuments(
  registry: KindRegistry,
  docs: readonly CheckDocument[],
): ValidatedDocuments {
  const resources: Resource[] = [];
  const findings: Finding[] = [];
  const locators = new Map<string, (path: string) => string>();
  const firstAt = new Map<string, CheckDocument>();
  for (const doc of docs) {
    const { resource, issues } = registry.validateResource(doc.value);
    const ref = resource === null ? guessRef(doc.value) : refOf(resource);
    for (const issue of issues) {
      const f = finding('WEFT0001', ref, issue.message, { path: issue.path });
      findings.push(doc.locate === undefined ? f : { ...f, location: doc.locate(issue.path) });
    }
    if (resource === null) continue;
    const key = resourceKey(resource);
    const first = firstAt.get(key);
    if (first !== undefined) {
      const where = first.locate?.('') ?? 'an earlier document';
      const f = finding('WEFT0002', resource, `also defined at ${where}; apply refuses the whole batch`);
      findings.push(doc.locate === undefined ? f : { ...f, location: doc.locate('') });
      continue;
    }
    firstAt.set(key, doc);
    resources.push(resource);
    if (doc.locate !== undefined) locators.set(key, doc.locate);
  }
  return { resources, findings, locators };
}

/** Names an invalid document as well as its fields allow. */
function guessRef(value: unknown): ResourceRef {
  const obj = isPlainObject(value) ? value : {};
  const meta = isPlainObject(obj.metadata) ? obj.metadata : {};
  const str = (v: unknown, fallback: string) => (typeof v === 'string' && v !== '' ? v : fallback);
  return {
    apiVersion: str(obj.apiVersion, ''),
    kind: str(obj.kind, '(no kind)'),
    namespace: str(meta.namespace, 'default'),
    name: str(meta.name, '(no name)'),
  };
}

/** Places findings about file resources at their file and line. */
export function locateFindings(
  findings: readonly Finding[],
  locators: ReadonlyMap<string, (path: string) => string>,
): Finding[] {
  return findings.map((f) => {
    if (f.location !== undefined) return f;
    const r = f.resource;
    const locate = locators.get(`${r.apiVersion}|${r.kind}|${r.namespace}|${r.name}`);
    return locate === undefined ? f : { ...f, location: locate(f.path ?? '') };
  });
}
