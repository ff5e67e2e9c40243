// Virtual host selection by request authority (Envoy RouteMatcher::findVirtualHost).
//
// Envoy's order: exact domain (hash lookup) > longest `*suffix` wildcard > longest
// `prefix*` wildcard > `*`. A wildcard never matches the empty string ("*.foo.com" does
// not match ".foo.com"). Hosts are matched case-insensitively (lower-cased; domains were
// lower-cased at validation).
//
// Ports: Envoy matches the Host *including* its port unless the connection manager strips
// it; a domain entry may then name the port ("example.com:8080"). Weft does both:
// - if no domain in the table contains ":", the port is irrelevant to every entry, so the
//   host is matched without its port (what users mean by "example.com");
// - otherwise, within each kind, the authority as received (with port) is tried first,
//   then the authority without its port; the kinds keep Envoy's order.
// A port is a trailing ":digits" not inside an IPv6 "[...]" literal (Envoy getPortStart).

import { asciiLower, hasAsciiUpper } from './ascii.js';

/** Wildcards of one length: a single entry is compared in place, several use a map. */
interface WildcardBucket<T> {
  readonly length: number;
  readonly single: string | null;
  readonly singleValue: T | null;
  readonly map: Map<string, T>;
}

export class VirtualHostIndex<T> {
  private readonly exact = new Map<string, T>();
  private readonly suffixes: WildcardBucket<T>[];
  private readonly prefixes: WildcardBucket<T>[];
  private readonly fallback: T | null;
  private readonly portsInDomains: boolean;

  /** `entries`: each virtual host's domains and its value. Earlier entries win duplicates. */
  constructor(entries: ReadonlyArray<{ readonly domains: readonly string[]; readonly value: T }>) {
    const suffix = new Map<number, Map<string, T>>();
    const prefix = new Map<number, Map<string, T>>();
    let fallback: T | null = null;
    let ports = false;
    for (const { domains, value } of entries) {
      for (const raw of domains) {
        const d = asciiLower(raw);
        if (d.includes(':')) ports = true;
        if (d === '*') {
          fallback ??= value;
        } else if (d.startsWith('*')) {
          addTo(suffix, d.slice(1), value);
        } else if (d.endsWith('*')) {
          addTo(prefix, d.slice(0, -1), value);
        } else if (!this.exact.has(d)) {
          this.exact.set(d, value);
        }
      }
    }
    this.suffixes = buckets(suffix);
    this.prefixes = buckets(prefix);
    this.fallback = fallback;
    this.portsInDomains = ports;
  }

  find(authority: string): T | null {
    const host = hasAsciiUpper(authority) ? asciiLower(authority) : authority;
    const portStart = findPortStart(host);
    if (portStart < 0) return this.findHost(host) ?? this.fallback;
    const bare = host.slice(0, portStart);
    if (!this.portsInDomains) return this.findHost(bare) ?? this.fallback;
    return (
      this.exact.get(host) ??
      this.exact.get(bare) ??
      findSuffix(this.suffixes, host) ??
      findSuffix(this.suffixes, bare) ??
      findPrefix(this.prefixes, host) ??
      findPrefix(this.prefixes, bare) ??
      this.fallback
    );
  }

  private findHost(host: string): T | null {
    return this.exact.get(host) ?? findSuffix(this.suffixes, host) ?? findPrefix(this.prefixes, host);
  }
}

function addTo<T>(byLength: Map<number, Map<string, T>>, key: string, value: T): void {
  let m = byLength.get(key.length);
  if (m === undefined) {
    m = new Map();
    byLength.set(key.length, m);
  }
  if (!m.has(key)) m.set(key, value);
}

/** Longest first, as Envoy iterates its wildcard maps. */
function buckets<T>(byLength: Map<number, Map<string, T>>): WildcardBucket<T>[] {
  return [...byLength.entries()]
    .sort((a, b) => b[0] - a[0])
    .map(([length, map]) => {
      const only = map.size === 1 ? [...map.entries()][0] : null;
      return { length, single: only ? only[0] : null, singleValue: only ? only[1] : null, map };
    });
}

function findSuffix<T>(list: readonly WildcardBucket<T>[], host: string): T | null {
  for (let i = 0; i < list.length; i++) {
    const b = list[i];
    // Strictly longer: the "*" must stand for at least one character.
    if (host.length <= b.length) continue;
    if (b.single !== null) {
      if (host.endsWith(b.single)) return b.singleValue;
    } else {
      const v = b.map.get(host.slice(host.length - b.length));
      if (v !== undefined) return v;
    }
  }
  return null;
}

function findPrefix<T>(list: readonly WildcardBucket<T>[], host: string): T | null {
  for (let i = 0; i < list.length; i++) {
    const b = list[i];
    if (host.length <= b.length) continue;
    if (b.single !== null) {
      if (host.startsWith(b.single)) return b.singleValue;
    } else {
      const v = b.map.get(host.slice(0, b.length));
      if (v !== undefined) return v;
    }
  }
  return null;
}

/**
 * Index of the ":" before a port, or -1 (RFC 3986 §3.2.2: IPv6 literals are bracketed).
 * Scans back over the digits at the end: the last ":" counts only if nothing but digits
 * follows it, which also rules out a "]" after it. (One pass in JS: String#lastIndexOf
 * is a call into the V8 runtime, and this runs on every request.)
 */
export function findPortStart(host: string): number {
  let i = host.length - 1;
  while (i >= 0) {
    const c = host.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i--;
  }
  return i >= 0 && host.charCodeAt(i) === 0x3a ? i : -1;
}
