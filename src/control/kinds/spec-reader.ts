// Field-by-field reading of a Kubernetes-style resource (camelCase JSON) for the kind
// validators: every wrong type, missing field, out-of-range value and unknown field becomes
// one ResourceIssue naming its full path (`spec.rules[0].matches[1].path.type`), never an
// exception, so `weft apply` lists every problem of a file in one pass.
//
// This is the Kubernetes counterpart of src/config/fields.ts (which reads Envoy's proto3
// JSON and reports unknown keys in snake_case); Kubernetes APIs are camelCase only.

import { describe, isPlainObject, type RawObject } from '../../config/fields.js';
import type { ResourceIssue } from '../resource.js';

export interface StringRules {
  readonly required?: boolean;
  readonly minLength?: number;
  readonly maxLength?: number;
  /** A pattern the whole value must match, with a description for the message. */
  readonly pattern?: readonly [RegExp, string];
}

export interface ListRules {
  readonly required?: boolean;
  readonly minItems?: number;
  readonly maxItems?: number;
}

export class SpecReader {
  readonly path: string;
  readonly issues: ResourceIssue[];
  private readonly obj: RawObject;
  /** A reader over a missing or non-object value: reads yield nothing and add no issues. */
  private readonly broken: boolean;
  private readonly consumed = new Set<string>();

  constructor(obj: RawObject, path: string, issues: ResourceIssue[], broken = false) {
    this.obj = obj;
    this.path = path;
    this.issues = issues;
    this.broken = broken;
  }

  at(name: string): string {
    return this.path === '' ? name : `${this.path}.${name}`;
  }

  issue(name: string | null, message: string): void {
    if (this.broken) return;
    this.issues.push({ path: name === null ? this.path || '(root)' : this.at(name), message });
  }

  has(name: string): boolean {
    return Object.hasOwn(this.obj, name) && this.obj[name] != null;
  }

  /** The raw value (undefined when absent or null), marking it read. */
  take(name: string): unknown {
    this.consumed.add(name);
    const v = this.obj[name];
    return v === null ? undefined : v;
  }

  string(name: string, rules: StringRules = {}): string | undefined {
    const v = this.take(name);
    if (v === undefined) {
      if (rules.required) this.issue(name, 'is required');
      return undefined;
    }
    if (typeof v !== 'string') {
      this.issue(name, `expected a string, got ${describe(v)}`);
      return undefined;
    }
    const min = rules.minLength ?? (rules.required ? 1 : 0);
    if (v.length < min) {
      this.issue(name, min === 1 ? 'must not be empty' : `must be at least ${min} characters long`);
      return undefined;
    }
    if (rules.maxLength !== undefined && v.length > rules.maxLength) {
      this.issue(name, `must be at most ${rules.maxLength} characters long, got ${v.length}`);
      return undefined;
    }
    if (rules.pattern !== undefined && !rules.pattern[0].test(v)) {
      this.issue(name, `'${v}' is not ${rules.pattern[1]}`);
      return undefined;
    }
    return v;
  }

  integer(name: string, min: number, max: number, required = false): number | undefined {
    const v = this.take(name);
    if (v === undefined) {
      if (required) this.issue(name, 'is required');
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.issue(name, `expected an integer, got ${describe(v)}`);
      return undefined;
    }
    if (v < min || v > max) {
      this.issue(name, `must be between ${min} and ${max}, got ${v}`);
      return undefined;
    }
    return v;
  }

  boolean(name: string): boolean | undefined {
    const v = this.take(name);
    if (v === undefined) return undefined;
    if (typeof v === 'boolean') return v;
    this.issue(name, `expected true or false, got ${describe(v)}`);
    return undefined;
  }

  /** One of `values` (case-sensitive, as Kubernetes enums are). */
  enumeration<T extends string>(name: string, values: readonly T[], required = false): T | undefined {
    const v = this.take(name);
    if (v === undefined) {
      if (required) this.issue(name, `is required; one of ${values.join(', ')}`);
      return undefined;
    }
    if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
    this.issue(name, `unsupported value ${describe(v)}; expected one of ${values.join(', ')}`);
    return undefined;
  }

  /** A nested object; null when absent (an issue when required) or not an object. */
  object(name: string, required = false): SpecReader | null {
    const v = this.take(name);
    if (v === undefined) {
      if (required) this.issue(name, 'is required');
      return null;
    }
    if (!isPlainObject(v)) {
      this.issue(name, `expected an object, got ${describe(v)}`);
      return null;
    }
    return new SpecReader(v, this.at(name), this.issues, this.broken);
  }

  list(name: string, rules: ListRules = {}): unknown[] {
    const v = this.take(name);
    if (v === undefined) {
      if (rules.required) this.issue(name, 'is required');
      return [];
    }
    if (!Array.isArray(v)) {
      this.issue(name, `expected a list, got ${describe(v)}`);
      return [];
    }
    if (rules.minItems !== undefined && v.length < rules.minItems) {
      this.issue(
        name,
        rules.minItems === 1 ? 'must not be empty' : `must have at least ${rules.minItems} items`,
      );
    }
    if (rules.maxItems !== undefined && v.length > rules.maxItems) {
      this.issue(name, `must have at most ${rules.maxItems} items, got ${v.length}`);
    }
    return v;
  }

  /** A list of objects, each as a reader at `name[i]` (non-objects are reported and skipped). */
  objectList(name: string, rules: ListRules = {}): SpecReader[] {
    const items = this.list(name, rules);
    const out: SpecReader[] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      const path = `${this.at(name)}[${i}]`;
      if (isPlainObject(item)) out.push(new SpecReader(item, path, this.issues, this.broken));
      else this.issues.push({ path, message: `expected an object, got ${describe(item)}` });
    }
    return out;
  }

  /** A map of string to string (labels, SMI header maps). */
  stringMap(name: string): Record<string, string> {
    const v = this.take(name);
    if (v === undefined) return {};
    if (!isPlainObject(v)) {
      this.issue(name, `expected an object of strings, got ${describe(v)}`);
      return {};
    }
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v)) {
      if (typeof val === 'string') out[k] = val;
      else
        this.issues.push({
          path: `${this.at(name)}.${k}`,
          message: `expected a string, got ${describe(val)}`,
        });
    }
    return out;
  }

  /** Reports every key nobody read: a misspelt field must not be silently ignored. */
  done(): void {
    if (this.broken) return;
    for (const key of Object.keys(this.obj)) {
      if (!this.consumed.has(key)) this.issues.push({ path: this.at(key), message: 'unknown field' });
    }
  }
}

/**
 * The `spec` of a resource as a reader. Top-level fields other than apiVersion, kind,
 * metadata, spec and status are reported; `status` is written by the control plane and
 * not validated here.
 */
export function readResourceSpec(resource: unknown, issues: ResourceIssue[]): SpecReader {
  if (!isPlainObject(resource)) {
    issues.push({ path: '(root)', message: `expected an object, got ${describe(resource)}` });
    return new SpecReader({}, 'spec', issues, true);
  }
  for (const key of Object.keys(resource)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec', 'status'].includes(key))
      issues.push({ path: key, message: 'unknown field' });
  }
  const spec = resource.spec;
  if (spec === undefined || spec === null) {
    issues.push({ path: 'spec', message: 'is required' });
    return new SpecReader({}, 'spec', issues, true);
  }
  if (!isPlainObject(spec)) {
    issues.push({ path: 'spec', message: `expected an object, got ${describe(spec)}` });
    return new SpecReader({}, 'spec', issues, true);
  }
  return new SpecReader(spec, 'spec', issues);
}

/** The namespace a resource lives in (`default` when omitted, as the store fills it in). */
export function namespaceOf(resource: unknown): string {
  if (!isPlainObject(resource) || !isPlainObject(resource.metadata)) return 'default';
  const ns = resource.metadata.namespace;
  return typeof ns === 'string' && ns !== '' ? ns : 'default';
}
