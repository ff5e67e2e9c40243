// Field-by-field reading of one proto3-JSON message from untrusted config, shared by all
// validators.
//
// A FieldReader wraps one object. Validators pull each supported field out of it by its
// snake_case name (the lowerCamelCase spelling is accepted too, as the proto3 JSON mapping
// requires); a wrong type becomes a ConfigIssue naming the full field path, never an
// exception. When a validator is done with a message it calls `done()`, which reports
// every key nobody read as "unsupported field": Weft refuses config it would otherwise
// silently ignore, because an ignored Envoy field usually means behaviour the user asked
// for and will not get.

import type { ConfigIssue } from '../core/errors.js';
import { integerOf, parseDuration } from './duration.js';

export type RawObject = Record<string, unknown>;

const UINT32_MAX = 0xffff_ffff;
const LOWER_CAMEL = /^[a-z][a-zA-Z0-9]*$/;

export function isPlainObject(v: unknown): v is RawObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A short description of a value's JSON type, for messages. */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (isPlainObject(v)) return 'an object';
  if (typeof v === 'string') return `a string ('${v.length > 40 ? `${v.slice(0, 40)}...` : v}')`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  return typeof v;
}

export function joinPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

export function snakeToCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** Unknown keys are reported in snake_case (the spelling Envoy's docs use). */
function keyForPath(key: string): string {
  return LOWER_CAMEL.test(key) ? key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : key;
}

export interface EnumSpec<T extends string> {
  /** All value names in proto order, so the numeric form of an enum (its index) is accepted too. */
  readonly known: readonly string[];
  /** The subset Weft implements; a known but unsupported value gets its own message. */
  readonly supported: readonly T[];
}

export class FieldReader {
  readonly path: string;
  readonly issues: ConfigIssue[];
  private readonly obj: RawObject;
  /** A reader over a value that was not an object: reads yield defaults, no further issues. */
  private readonly broken: boolean;
  private readonly consumed = new Set<string>();
  private readonly children: FieldReader[] = [];
  private finished = false;

  constructor(obj: RawObject, path: string, issues: ConfigIssue[], broken = false) {
    this.obj = obj;
    this.path = path;
    this.issues = issues;
    this.broken = broken;
  }

  /** The full path of a field of this message. */
  at(name: string): string {
    return joinPath(this.path, name);
  }

  /** Records an issue at a field of this message (or at the message itself when name is null). */
  issue(name: string | null, message: string): void {
    if (this.broken) return;
    this.issues.push({ path: name === null ? this.path || '(root)' : this.at(name), message });
  }

  /** Whether the field is present (either spelling, not null), without consuming it. */
  has(name: string): boolean {
    const camel = snakeToCamel(name);
    return (
      (Object.hasOwn(this.obj, name) && this.obj[name] != null) ||
      (camel !== name && Object.hasOwn(this.obj, camel) && this.obj[camel] != null)
    );
  }

  /** The raw value of a field (either spelling), marking it consumed; undefined when absent or null. */
  take(name: string): unknown {
    const camel = snakeToCamel(name);
    const hasSnake = Object.hasOwn(this.obj, name);
    const hasCamel = camel !== name && Object.hasOwn(this.obj, camel);
    if (hasSnake) this.consumed.add(name);
    if (hasCamel) this.consumed.add(camel);
    if (hasSnake && hasCamel) this.issue(name, `given twice, as '${name}' and '${camel}'`);
    const v = hasSnake ? this.obj[name] : hasCamel ? this.obj[camel] : undefined;
    return v === null ? undefined : v;
  }

  /** Marks a field as read without looking at it (for fields accepted and deliberately ignored). */
  ignore(name: string): void {
    this.take(name);
  }

  /** The message as given (for handing a typed_config to an extension's own validator). */
  rawObject(): Readonly<RawObject> {
    return this.obj;
  }

  /** Marks every remaining key as read (used once a message is already rejected as a whole). */
  ignoreRest(): void {
    for (const key of Object.keys(this.obj)) this.consumed.add(key);
  }

  /**
   * Of a `oneof`-like group, which field is set (null if none). More than one set is an issue.
   * Does not consume the fields.
   */
  oneOf(names: readonly string[], what: string): string | null {
    let found: string | null = null;
    const all: string[] = [];
    for (const n of names) {
      if (this.has(n)) {
        all.push(n);
        found ??= n;
      }
    }
    if (all.length > 1) this.issue(null, `only one of ${what} may be set, found ${all.join(', ')}`);
    return found;
  }

  string(name: string): string | undefined {
    const v = this.take(name);
    if (v === undefined) return undefined;
    if (typeof v === 'string') return v;
    this.issue(name, `expected a string, got ${describe(v)}`);
    return undefined;
  }

  /** A string that must be present and non-empty; '' when it is not (after recording the issue). */
  requiredString(name: string): string {
    const present = this.has(name);
    const v = this.string(name);
    if (v === undefined) {
      if (!present) this.issue(name, 'is required');
      return '';
    }
    if (v === '') this.issue(name, 'must not be empty');
    return v;
  }

  /** A bool, or a BoolValue wrapper (`true` or `{value: true}`). */
  boolean(name: string, def: boolean): boolean {
    const v = unwrap(this.take(name));
    if (v === undefined) return def;
    if (typeof v === 'boolean') return v;
    this.issue(name, `expected true or false, got ${describe(v)}`);
    return def;
  }

  /** A uint32 or UInt32Value (number, decimal string, or `{value: n}`), checked against [min, max]. */
  uint32(name: string, def: number, min = 0, max = UINT32_MAX): number {
    const v = this.optionalUint32(name, min, max);
    return v ?? def;
  }

  optionalUint32(name: string, min = 0, max = UINT32_MAX): number | null {
    const v = unwrap(this.take(name));
    if (v === undefined) return null;
    const n = integerOf(v);
    if (n === null || n < 0 || n > UINT32_MAX) {
      this.issue(name, `expected a non-negative integer, got ${describe(v)}`);
      return null;
    }
    if (n < min || n > max) {
      this.issue(name, `must be between ${min} and ${max}, got ${n}`);
      return null;
    }
    return n;
  }

  /** An int64 (number or decimal string); only safe integers are accepted. */
  int64(name: string): number | undefined {
    const v = unwrap(this.take(name));
    if (v === undefined) return undefined;
    const n = integerOf(v);
    if (n === null) {
      this.issue(name, `expected an integer, got ${describe(v)}`);
      return undefined;
    }
    return n;
  }

  /**
   * A Duration in milliseconds. `def` applies when absent; with `zeroIsNull` an explicit zero
   * means "disabled" and yields null (Envoy's convention for timeouts).
   */
  duration(name: string, def: number | null, zeroIsNull = false): number | null {
    const v = this.take(name);
    if (v === undefined) return def;
    const r = parseDuration(v);
    if (!r.ok) {
      this.issue(name, r.error);
      return def;
    }
    return zeroIsNull && r.ms === 0 ? null : r.ms;
  }

  /** An enum by name (or by its proto number); unknown and unsupported values are issues. */
  enumeration<T extends string>(name: string, def: T, spec: EnumSpec<T>): T {
    const v = this.take(name);
    if (v === undefined) return def;
    let label: string | undefined;
    if (typeof v === 'string') label = v;
    else if (typeof v === 'number' && Number.isInteger(v)) label = spec.known[v];
    if (label === undefined || !spec.known.includes(label)) {
      this.issue(name, `unknown value ${describe(v)}; expected one of ${spec.supported.join(', ')}`);
      return def;
    }
    if (!(spec.supported as readonly string[]).includes(label)) {
      this.issue(name, `'${label}' is not supported by Weft; supported: ${spec.supported.join(', ')}`);
      return def;
    }
    return label as T;
  }

  /** A nested message, or null when absent (or not an object, after recording the issue). */
  message(name: string): FieldReader | null {
    const v = this.take(name);
    if (v === undefined) return null;
    if (!isPlainObject(v)) {
      this.issue(name, `expected an object, got ${describe(v)}`);
      return null;
    }
    const child = new FieldReader(v, this.at(name), this.issues, this.broken);
    this.children.push(child);
    return child;
  }

  /** A nested message that must be present; when it is not, a reader that yields defaults silently. */
  requiredMessage(name: string): FieldReader {
    const present = this.has(name);
    const child = this.message(name);
    if (child !== null) return child;
    if (!present) this.issue(name, 'is required');
    return new FieldReader({}, this.at(name), this.issues, true);
  }

  /** A list field; [] when absent or not a list (after recording the issue). */
  list(name: string): unknown[] {
    const v = this.take(name);
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      this.issue(name, `expected a list, got ${describe(v)}`);
      return [];
    }
    return v;
  }

  /** A list of strings; wrong items are reported with their index. */
  stringList(name: string): string[] {
    const items = this.list(name);
    const out: string[] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (typeof item === 'string') out.push(item);
      else this.issue(`${name}[${i}]`, `expected a string, got ${describe(item)}`);
    }
    return out;
  }

  /** A `google.protobuf.Struct` (free-form object), taken whole. */
  struct(name: string): RawObject | null {
    const v = this.take(name);
    if (v === undefined) return null;
    if (!isPlainObject(v)) {
      this.issue(name, `expected an object, got ${describe(v)}`);
      return null;
    }
    return v;
  }

  /** Reports every key that was not read as an unsupported field (children first). */
  done(): void {
    if (this.finished) return;
    this.finished = true;
    for (const child of this.children) child.done();
    if (this.broken) return;
    for (const key of Object.keys(this.obj)) {
      if (!this.consumed.has(key))
        this.issues.push({ path: this.at(keyForPath(key)), message: 'unsupported field' });
    }
  }
}

/**
 * Starts reading a message at `path`. A value that is not an object is one issue; the
 * returned reader then yields defaults without piling up follow-on issues.
 */
export function readMessage(raw: unknown, path: string, issues: ConfigIssue[]): FieldReader {
  if (isPlainObject(raw)) return new FieldReader(raw, path, issues);
  issues.push({ path: path || '(root)', message: `expected an object, got ${describe(raw)}` });
  return new FieldReader({}, path, issues, true);
}

/** Wrapper types (UInt32Value, BoolValue...) are plain values in JSON; `{value: x}` is accepted too. */
function unwrap(v: unknown): unknown {
  if (isPlainObject(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === 'value') return v.value === null ? undefined : v.value;
  }
  return v;
}
