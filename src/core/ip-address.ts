// IP address literals as bytes, and CIDR ranges over them (envoy.config.core.v3.CidrRange),
// for filter chain matching on destination and source addresses. IPv4-mapped IPv6
// addresses (::ffff:a.b.c.d, as Node reports IPv4 peers on a dual-stack socket) are
// treated as the IPv4 address they carry.

import { isIPv4, isIPv6 } from 'node:net';

/** 4 bytes for IPv4, 16 for IPv6; null when `text` is not an IP literal. */
export function parseIp(text: string): Uint8Array | null {
  if (isIPv4(text)) return parseV4(text);
  if (!isIPv6(text)) return null;
  const bytes = parseV6(text);
  if (bytes === null) return null;
  // ::ffff:a.b.c.d
  let mapped = bytes[10] === 0xff && bytes[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (bytes[i] !== 0) mapped = false;
  return mapped ? bytes.subarray(12) : bytes;
}

function parseV4(text: string): Uint8Array {
  const out = new Uint8Array(4);
  const parts = text.split('.');
  for (let i = 0; i < 4; i++) out[i] = Number(parts[i]);
  return out;
}

function parseV6(text: string): Uint8Array | null {
  const zone = text.indexOf('%');
  const t = zone >= 0 ? text.slice(0, zone) : text;
  const halves = t.split('::');
  const groups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (g.includes('.')) {
        if (!isIPv4(g)) return null;
        const v4 = parseV4(g);
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length > 1 ? groups(halves[1]) : [];
  if (head === null || tail === null) return null;
  const all = [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = all[i] >> 8;
    out[2 * i + 1] = all[i] & 0xff;
  }
  return out;
}

/** Whether the first `prefixLen` bits of `addr` equal those of `prefix` (same family). */
export function inPrefix(addr: Uint8Array, prefix: Uint8Array, prefixLen: number): boolean {
  if (addr.length !== prefix.length) return false;
  const full = prefixLen >> 3;
  for (let i = 0; i < full; i++) if (addr[i] !== prefix[i]) return false;
  const rest = prefixLen & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (addr[full] & mask) === (prefix[full] & mask);
}

/** A CIDR range as bytes: `prefix` (4 or 16 bytes) and its length in bits. */
export interface IpRange {
  readonly prefix: Uint8Array;
  readonly len: number;
}

/** Parses CidrRanges (`address_prefix`, `prefix_len`); entries that are not IP literals are dropped. */
export function parseIpRanges(list: readonly { addressPrefix: string; prefixLen: number }[]): IpRange[] {
  const out: IpRange[] = [];
  for (const c of list) {
    const prefix = parseIp(c.addressPrefix);
    if (prefix !== null) out.push({ prefix, len: Math.min(c.prefixLen, prefix.length * 8) });
  }
  return out;
}
