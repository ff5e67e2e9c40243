// Validation of the pieces HTTPRoute and GRPCRoute share: parentRefs, backendRefs, header
// matches, header-modifier and mirror filters, hostnames. Limits, patterns and enum values
// follow the Gateway API v1 CRDs (OpenAPI limits and their CEL rules), cited per field.

import { checkRegexCompatibility } from '../../config/regex.js';
import type { SpecReader } from './spec-reader.js';

/** Gateway API `Group`: empty (core) or a DNS subdomain. */
const GROUP = /^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Gateway API `Kind`. */
const KIND = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
/** RFC 1123 label (`Namespace`). */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain (`SectionName`, `PreciseHostname`). */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Gateway API `Hostname`: a subdomain, optionally with a leading `*.`. */
const HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Gateway API `HTTPHeaderName`: an RFC 9110 token. */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
/** RFC 9110 §5.5: field values never carry CR, LF or NUL. */
const BAD_VALUE_CHAR = /[\r\n\0]/;

export const RULES = {
  group: { maxLength: 253, pattern: [GROUP, 'a valid API group (empty or a DNS subdomain)'] },
  kind: { minLength: 1, maxLength: 63, pattern: [KIND, 'a valid kind'] },
  namespace: { minLength: 1, maxLength: 63, pattern: [DNS_LABEL, 'a valid namespace (an RFC 1123 label)'] },
  objectName: { required: true, maxLength: 253 },
  sectionName: {
    minLength: 1,
    maxLength: 253,
    pattern: [DNS_SUBDOMAIN, 'a valid section name (an RFC 1123 subdomain)'],
  },
  hostname: {
    minLength: 1,
    maxLength: 253,
    pattern: [HOSTNAME, "a valid hostname (lower-case RFC 1123, optionally with a leading '*.')"],
  },
  preciseHostname: {
    minLength: 1,
    maxLength: 253,
    pattern: [DNS_SUBDOMAIN, 'a valid hostname (lower-case RFC 1123, no wildcard)'],
  },
  headerName: {
    required: true,
    maxLength: 256,
    pattern: [HEADER_NAME, 'a valid header name (an RFC 9110 token)'],
  },
} as const;

/** Groups that mean "the core API group" for a Service reference: "" (GAMMA) and "core". */
export function isCoreGroup(group: string | undefined): boolean {
  return group === undefined || group === '' || group === 'core';
}

/**
 * `spec.parentRefs` (max 32). Each entry must be unique (the CRD's CEL rule over group,
 * kind, namespace, name, sectionName and port).
 */
export function readParentRefs(spec: SpecReader): void {
  const refs = spec.objectList('parentRefs', { maxItems: 32 });
  const seen = new Map<string, number>();
  for (let i = 0; i < refs.length; i++) {
    const r = refs[i];
    const group = r.string('group', RULES.group);
    const kind = r.string('kind', RULES.kind);
    const namespace = r.string('namespace', RULES.namespace);
    const name = r.string('name', RULES.objectName);
    const sectionName = r.string('sectionName', RULES.sectionName);
    const port = r.integer('port', 1, 65535);
    r.done();
    const key = JSON.stringify([
      group ?? GATEWAY_DEFAULT_GROUP,
      kind ?? 'Gateway',
      namespace,
      name,
      sectionName,
      port,
    ]);
    const first = seen.get(key);
    if (first !== undefined) r.issue(null, `duplicates parentRefs[${first}]`);
    else seen.set(key, i);
  }
}

const GATEWAY_DEFAULT_GROUP = 'gateway.networking.k8s.io';

/**
 * The fields of a BackendObjectReference (group, kind, name, namespace, port). A Service
 * reference must give a port (CEL rule "Must have port for Service reference").
 */
export function readBackendObjectRef(r: SpecReader): void {
  const group = r.string('group', RULES.group);
  const kind = r.string('kind', RULES.kind);
  r.string('name', RULES.objectName);
  r.string('namespace', RULES.namespace);
  const port = r.integer('port', 1, 65535);
  if ((kind ?? 'Service') === 'Service' && isCoreGroup(group) && port === undefined && !r.has('port'))
    r.issue('port', 'is required when the backend is a Service');
}

/** A regex value from a match: must mean the same to Envoy (RE2) and to Weft (JS RegExp). */
export function checkRegex(r: SpecReader, field: string, value: string): void {
  const problem = checkRegexCompatibility(value);
  if (problem !== null) r.issue(field, problem);
}

/** `headers` matches (max 16; names unique, case-insensitively, per the CRD's listMapKey). */
export function readHeaderMatches(parent: SpecReader, field = 'headers'): void {
  const items = parent.objectList(field, { maxItems: 16 });
  const names = new Map<string, number>();
  for (let i = 0; i < items.length; i++) {
    const h = items[i];
    const type = h.enumeration('type', ['Exact', 'RegularExpression'] as const) ?? 'Exact';
    const name = h.string('name', RULES.headerName);
    const value = h.string('value', { required: true, maxLength: 4096 });
    if (value !== undefined && type === 'RegularExpression') checkRegex(h, 'value', value);
    h.done();
    if (name === undefined) continue;
    const lower = name.toLowerCase();
    const first = names.get(lower);
    if (first !== undefined) h.issue('name', `header '${name}' is already matched by ${field}[${first}]`);
    else names.set(lower, i);
  }
}

/** An HTTPHeaderFilter (RequestHeaderModifier / ResponseHeaderModifier): set, add, remove. */
export function readHeaderFilter(r: SpecReader): void {
  const all = new Map<string, string>();
  for (const list of ['set', 'add'] as const) {
    const items = r.objectList(list, { maxItems: 16 });
    for (let i = 0; i < items.length; i++) {
      const h = items[i];
      const name = h.string('name', RULES.headerName);
      const value = h.string('value', { required: true, maxLength: 4096 });
      if (value !== undefined && BAD_VALUE_CHAR.test(value))
        h.issue('value', 'must not contain CR, LF or NUL characters');
      h.done();
      if (name !== undefined) checkModifiableHeader(h, name, all, `${list}[${i}]`);
    }
  }
  const removes = r.list('remove', { maxItems: 16 });
  for (let i = 0; i < removes.length; i++) {
    const name = removes[i];
    const path = `${r.at('remove')}[${i}]`;
    if (typeof name !== 'string' || !HEADER_NAME.test(name)) {
      r.issues.push({ path, message: 'expected a header name (an RFC 9110 token)' });
      continue;
    }
    const lower = name.toLowerCase();
    if (lower === 'host') r.issues.push({ path, message: "'host' cannot be removed" });
    const first = all.get(`remove:${lower}`);
    if (first !== undefined)
      r.issues.push({ path, message: `header '${name}' is already listed at ${first}` });
    all.set(`remove:${lower}`, `remove[${i}]`);
  }
  if (!r.has('set') && !r.has('add') && !r.has('remove')) r.issue(null, 'must have set, add or remove');
  r.done();
}

function checkModifiableHeader(h: SpecReader, name: string, seen: Map<string, string>, where: string): void {
  const lower = name.toLowerCase();
  if (lower === 'host') {
    // Envoy does not let header mutations touch :authority; the URLRewrite filter's
    // hostname is the supported way to change it.
    h.issue('name', "'host' cannot be set here; use a URLRewrite filter with a hostname");
    return;
  }
  const list = where.startsWith('set') ? 'set' : 'add';
  const first = seen.get(`${list}:${lower}`);
  if (first !== undefined) h.issue('name', `header '${name}' is already listed at ${first}`);
  else seen.set(`${list}:${lower}`, where);
}

/** HTTPRequestMirrorFilter: a backendRef and optionally percent or fraction (not both). */
export function readMirrorFilter(r: SpecReader): void {
  const ref = r.object('backendRef', true);
  if (ref !== null) {
    readBackendObjectRef(ref);
    ref.done();
  }
  if (r.has('percent') && r.has('fraction')) r.issue(null, 'only one of percent and fraction may be set');
  r.integer('percent', 0, 100);
  const f = r.object('fraction');
  if (f !== null) {
    const numerator = f.integer('numerator', 0, 2 ** 31 - 1, true);
    const denominator = f.integer('denominator', 1, 2 ** 31 - 1) ?? 100;
    if (numerator !== undefined && numerator > denominator)
      f.issue('numerator', `must not be greater than the denominator (${denominator})`);
    f.done();
  }
  r.done();
}

export interface FilterRules {
  /** Filter types allowed here. */
  readonly types: readonly string[];
  /** The field of each filter type (`RequestHeaderModifier` -> `requestHeaderModifier`). */
  readonly fields: Readonly<Record<string, string>>;
  /** Reads the type's own object. */
  readonly read: (type: string, r: SpecReader) => void;
  /** Types that may appear at most once in one list. */
  readonly once: readonly string[];
}

/**
 * A `filters` list (max 16): each filter's `type` must have its matching field set and no
 * other (the CRD's CEL rules); the `once` types may appear at most once. Returns the types
 * found, in order (undefined entries for invalid types).
 */
export function readFilters(parent: SpecReader, field: string, rules: FilterRules): (string | undefined)[] {
  const filters = parent.objectList(field, { maxItems: 16 });
  const found: (string | undefined)[] = [];
  const firstAt = new Map<string, number>();
  for (let i = 0; i < filters.length; i++) {
    const f = filters[i];
    const type = f.enumeration('type', rules.types, true);
    found.push(type);
    for (const [t, name] of Object.entries(rules.fields)) {
      if (t === type) {
        const obj = f.object(name, true);
        if (obj !== null) rules.read(t, obj);
      } else if (f.has(name)) {
        f.take(name);
        f.issue(name, type === undefined ? 'unexpected field' : `must not be set for a ${type} filter`);
      }
    }
    if (f.has('extensionRef')) {
      f.take('extensionRef');
      f.issue('extensionRef', 'ExtensionRef filters are not supported by Weft');
    }
    f.done();
    if (type === undefined || !rules.once.includes(type)) continue;
    const first = firstAt.get(type);
    if (first !== undefined)
      f.issue('type', `a ${type} filter may appear only once per list (see ${field}[${first}])`);
    else firstAt.set(type, i);
  }
  return found;
}

/** `hostnames` (max 16). Validated, though a Service parent ignores them (GAMMA). */
export function readHostnames(spec: SpecReader): void {
  const items = spec.list('hostnames', { maxItems: 16 });
  for (let i = 0; i < items.length; i++) {
    const h = items[i];
    const path = `${spec.at('hostnames')}[${i}]`;
    if (typeof h !== 'string' || h.length === 0 || h.length > 253 || !HOSTNAME.test(h))
      spec.issues.push({ path, message: `${JSON.stringify(h)} is not a valid hostname` });
  }
}

/** A rule `name` (Gateway API SectionName), unique within the route. */
export function readRuleName(rule: SpecReader, names: Map<string, number>, index: number): void {
  const name = rule.string('name', RULES.sectionName);
  if (name === undefined) return;
  const first = names.get(name);
  if (first !== undefined) rule.issue('name', `rule name '${name}' is already used by rules[${first}]`);
  else names.set(name, index);
}
