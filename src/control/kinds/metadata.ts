// Validation of the envelope every resource shares: apiVersion, kind and metadata (name,
// namespace, labels, annotations), plus small helpers the kind validators reuse.
//
// Syntax rules follow Kubernetes (design-proposals "identifiers" and the apimachinery
// validation it documents): names are DNS-1123 subdomains, namespaces DNS-1123 labels,
// label keys an optional DNS-subdomain prefix plus a 63-character name, label values at
// most 63 characters. Every problem is reported with its path; nothing throws.

import { describe, isPlainObject, joinPath } from '../../config/fields.js';
import type { ObjectMeta, ResourceIssue } from '../resource.js';

export const DEFAULT_NAMESPACE = 'default';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
/** Kubernetes caps the total size of all annotations of one object at 256 KiB. */
const MAX_ANNOTATIONS_BYTES = 256 * 1024;

/** Why `s` is not a DNS-1123 label (RFC 1123 hostname label, lower case), or null when it is one. */
export function dns1123LabelProblem(s: string): string | null {
  if (s.length === 0) return 'must not be empty';
  if (s.length > 63) return `must be at most 63 characters, got ${s.length}`;
  if (!DNS1123_LABEL.test(s))
    return `'${s}' is not a DNS-1123 label: use lower-case letters, digits and '-', starting and ending with a letter or digit`;
  return null;
}

/** Why `s` is not a DNS-1123 subdomain (dot-separated labels, at most 253 characters), or null. */
export function dns1123SubdomainProblem(s: string): string | null {
  if (s.length === 0) return 'must not be empty';
  if (s.length > 253) return `must be at most 253 characters, got ${s.length}`;
  if (!DNS1123_SUBDOMAIN.test(s))
    return `'${s}' is not a DNS-1123 subdomain: use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit`;
  return null;
}

/** Why `key` is not a valid label/annotation key (`[prefix/]name`), or null. */
export function qualifiedNameProblem(key: string): string | null {
  const slash = key.indexOf('/');
  const prefix = slash === -1 ? null : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== null) {
    const p = dns1123SubdomainProblem(prefix);
    if (p !== null) return `key '${key}': prefix ${p}`;
  }
  if (name.length === 0) return `key '${key}': name part must not be empty`;
  if (name.length > 63) return `key '${key}': name part must be at most 63 characters, got ${name.length}`;
  if (!QUALIFIED_NAME_PART.test(name))
    return `key '${key}': name part must consist of letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  return null;
}

/** Why `value` is not a valid label value (empty, or at most 63 name characters), or null. */
export function labelValueProblem(value: string): string | null {
  if (value === '') return null;
  if (value.length > 63) return `must be at most 63 characters, got ${value.length}`;
  if (!QUALIFIED_NAME_PART.test(value))
    return `'${value}' must consist of letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  return null;
}

/** Renders a map key as a path segment: `labels.app`, or `labels["example.com/tier"]` when it has dots or slashes. */
export function keyPath(path: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? joinPath(path, key) : `${path}[${JSON.stringify(key)}]`;
}

/** Reports every key of `obj` not in `allowed` as an unknown field (Weft refuses what it would ignore). */
export function reportUnknownFields(
  obj: Record<string, unknown>,
  allowed: readonly string[],
  path: string,
  issues: ResourceIssue[],
): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key))
      issues.push({
        path: keyPath(path, key),
        message: `unknown field; allowed here: ${allowed.join(', ')}`,
      });
  }
}

/** A string→string map (labels, annotations, selectors); each entry checked by `check`. */
export function validateStringMap(
  value: unknown,
  path: string,
  issues: ResourceIssue[],
  checkValue: (v: string) => string | null,
): Record<string, string> | null {
  if (!isPlainObject(value)) {
    issues.push({ path, message: `expected a map of strings, got ${describe(value)}` });
    return null;
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    const keyProblem = qualifiedNameProblem(k);
    if (keyProblem !== null) issues.push({ path: keyPath(path, k), message: keyProblem });
    if (typeof v !== 'string') {
      issues.push({ path: keyPath(path, k), message: `expected a string value, got ${describe(v)}` });
      continue;
    }
    const valueProblem = checkValue(v);
    if (valueProblem !== null) issues.push({ path: keyPath(path, k), message: valueProblem });
    out[k] = v;
  }
  return out;
}

/**
 * Validates `metadata` and returns it normalised (namespace defaulted for namespaced kinds;
 * store-owned fields `generation` and `creationTimestamp` dropped, since clients cannot set
 * them). `resourceVersion`, when a client sends it, is kept as a precondition.
 */
export function validateObjectMeta(
  value: unknown,
  namespaced: boolean,
  kind: string,
  issues: ResourceIssue[],
): ObjectMeta | null {
  const path = 'metadata';
  if (value === undefined || value === null) {
    issues.push({ path, message: 'is required' });
    return null;
  }
  if (!isPlainObject(value)) {
    issues.push({ path, message: `expected an object, got ${describe(value)}` });
    return null;
  }
  reportUnknownFields(
    value,
    ['name', 'namespace', 'labels', 'annotations', 'resourceVersion', 'generation', 'creationTimestamp'],
    path,
    issues,
  );
  const meta: ObjectMeta = { name: '' };
  const name = value.name;
  if (name === undefined || name === null) issues.push({ path: 'metadata.name', message: 'is required' });
  else if (typeof name !== 'string')
    issues.push({ path: 'metadata.name', message: `expected a string, got ${describe(name)}` });
  else {
    const p = dns1123SubdomainProblem(name);
    if (p !== null) issues.push({ path: 'metadata.name', message: p });
    meta.name = name;
  }
  const ns = value.namespace;
  if (ns !== undefined && ns !== null) {
    if (!namespaced) {
      issues.push({ path: 'metadata.namespace', message: `must not be set: ${kind} is cluster-scoped` });
    } else if (typeof ns !== 'string') {
      issues.push({ path: 'metadata.namespace', message: `expected a string, got ${describe(ns)}` });
    } else {
      const p = dns1123LabelProblem(ns);
      if (p !== null) issues.push({ path: 'metadata.namespace', message: p });
      meta.namespace = ns;
    }
  }
  if (namespaced && meta.namespace === undefined) meta.namespace = DEFAULT_NAMESPACE;
  if (value.labels !== undefined && value.labels !== null) {
    const labels = validateStringMap(value.labels, 'metadata.labels', issues, labelValueProblem);
    if (labels !== null) meta.labels = labels;
  }
  if (value.annotations !== undefined && value.annotations !== null) {
    const annotations = validateStringMap(value.annotations, 'metadata.annotations', issues, () => null);
    if (annotations !== null) {
      let size = 0;
      for (const [k, v] of Object.entries(annotations)) size += Buffer.byteLength(k) + Buffer.byteLength(v);
      if (size > MAX_ANNOTATIONS_BYTES)
        issues.push({
          path: 'metadata.annotations',
          message: `total size must be at most ${MAX_ANNOTATIONS_BYTES} bytes, got ${size}`,
        });
      meta.annotations = annotations;
    }
  }
  const rv = value.resourceVersion;
  if (rv !== undefined && rv !== null) {
    if (typeof rv !== 'string' || !/^[1-9][0-9]*$/.test(rv))
      issues.push({
        path: 'metadata.resourceVersion',
        message: `expected a revision as a decimal string (as returned by the API), got ${describe(rv)}`,
      });
    else meta.resourceVersion = rv;
  }
  return meta;
}

/** Reads an integer within [min, max] at `path`; records an issue and returns null when it is not one. */
export function readInteger(
  value: unknown,
  path: string,
  min: number,
  max: number,
  issues: ResourceIssue[],
): number | null {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    issues.push({ path, message: `expected an integer, got ${describe(value)}` });
    return null;
  }
  if (value < min || value > max) {
    issues.push({ path, message: `must be between ${min} and ${max}, got ${value}` });
    return null;
  }
  return value;
}
