// The request hash of a route's `hash_policy`, for the RING_HASH and MAGLEV balancers
// (Envoy's Router::HashPolicyImpl). Each input that yields a value contributes
// xxHash64(value); the running hash is rotated left by one bit before each new input is
// XORed in (so duplicate inputs do not cancel); a `terminal` input that produced a hash
// ends the list. No input produced anything → no hash (the balancer picks at random).
//
// Inputs: a header (all values joined with ", "; `:authority`, `:path`, `:method`), a
// cookie (with `ttl`, a missing cookie is generated from the connection's addresses, as
// Envoy does, and returned as a Set-Cookie value for the response), the source IP, and a
// query parameter (first value, not decoded, as Envoy's route query matching).
// Runs only for routes that have a hash_policy.

import type { HashPolicy } from '../../config/model.js';
import { getHeaderJoined, type HeaderList } from '../http/headers.js';
import { xxHash64 } from '../upstream/lb/xxhash64.js';

/** What the hash inputs read from a request. */
export interface HashRequest {
  readonly headers: HeaderList;
  readonly method: string;
  readonly authority: string;
  /** The request target: path and query. */
  readonly path: string;
  readonly remoteIp: string;
  /** "ip:port" of the client and of the listener side, for generated cookies. */
  readonly remoteAddress: string;
  readonly localAddress: string;
}

export interface RequestHash {
  readonly hashKey: bigint | null;
  /** A Set-Cookie value for the response (a generated hash cookie), or null. */
  readonly setCookie: string | null;
}

const NO_HASH: RequestHash = { hashKey: null, setCookie: null };

export function computeRequestHash(policies: readonly HashPolicy[], req: HashRequest): RequestHash {
  let hash: bigint | null = null;
  let setCookie: string | null = null;
  for (const p of policies) {
    let value: string | undefined;
    switch (p.kind) {
      case 'header':
        value = headerValue(req, p.headerName);
        break;
      case 'cookie':
        value = cookieValue(req.headers, p.name);
        if (value === undefined && p.ttlMs !== null) {
          value = xxHash64(req.remoteAddress + req.localAddress)
            .toString(16)
            .padStart(16, '0');
          setCookie = setCookieValue(p.name, value, p.path, p.ttlMs);
        }
        break;
      case 'source_ip':
        value = req.remoteIp === '' ? undefined : req.remoteIp;
        break;
      case 'query_parameter':
        value = queryValue(req.path, p.name);
        break;
    }
    if (value !== undefined) {
      const h = xxHash64(value);
      hash = hash === null ? h : (((hash << 1n) | (hash >> 63n)) & 0xffff_ffff_ffff_ffffn) ^ h;
    }
    if (p.terminal && hash !== null) break;
  }
  return hash === null && setCookie === null ? NO_HASH : { hashKey: hash, setCookie };
}

function headerValue(req: HashRequest, name: string): string | undefined {
  if (name === ':authority') return req.authority;
  if (name === ':path') return req.path;
  if (name === ':method') return req.method;
  return getHeaderJoined(req.headers, name);
}

/** The value of cookie `name` in the request's Cookie headers (RFC 6265 §5.4), quotes removed. */
export function cookieValue(headers: HeaderList, name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'cookie') continue;
    for (const pair of headers[i + 1].split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
      const v = pair.slice(eq + 1).trim();
      return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
    }
  }
  return undefined;
}

/** Envoy's generated cookie: `name="value"; Max-Age=<s>; Path=<path>; HttpOnly` (ttl 0 = session cookie). */
function setCookieValue(name: string, value: string, path: string, ttlMs: number): string {
  let out = `${name}="${value}"`;
  if (ttlMs > 0) out += `; Max-Age=${Math.floor(ttlMs / 1000)}`;
  if (path !== '') out += `; Path=${path}`;
  return `${out}; HttpOnly`;
}

/** The first value of query parameter `name` ("" without "="), undecoded; undefined when absent. */
function queryValue(target: string, name: string): string | undefined {
  const q = target.indexOf('?');
  if (q < 0) return undefined;
  let end = target.indexOf('#', q);
  if (end < 0) end = target.length;
  let i = q + 1;
  while (i < end) {
    let amp = target.indexOf('&', i);
    if (amp < 0 || amp > end) amp = end;
    const eq = target.indexOf('=', i);
    const nameEnd = eq >= 0 && eq < amp ? eq : amp;
    if (target.slice(i, nameEnd) === name) return nameEnd === amp ? '' : target.slice(eq + 1, amp);
    i = amp + 1;
  }
  return undefined;
}
