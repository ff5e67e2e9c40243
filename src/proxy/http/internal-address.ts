// Envoy's notion of an "internal" downstream address: by default RFC 1918, loopback and
// RFC 4193 unique-local addresses; with the HCM's `internal_address_config`, exactly its
// `cidr_ranges`. Whether a request is internal follows from it (client-address.ts).

import type { CidrRange } from '../../config/model.js';
import { inPrefix, parseIp, parseIpRanges } from '../../core/ip-address.js';

export function isInternalAddress(ip: string): boolean {
  if (ip.includes(':')) {
    const lower = ip.toLowerCase();
    return lower === '::1' || lower.startsWith('fc') || lower.startsWith('fd');
  }
  const dot = ip.indexOf('.');
  const a = Number(ip.slice(0, dot));
  if (a === 10 || a === 127) return true;
  const b = Number(ip.slice(dot + 1, ip.indexOf('.', dot + 1)));
  return (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/**
 * The internal-address test of one HTTP connection manager: Envoy's default ranges
 * (isInternalAddress) when `ranges` is null, else membership in one of `ranges`.
 */
export function internalAddressMatcher(ranges: readonly CidrRange[] | null): (ip: string) => boolean {
  if (ranges === null) return isInternalAddress;
  const parsed = parseIpRanges(ranges);
  return (ip) => {
    const addr = parseIp(ip);
    if (addr === null) return false;
    for (const r of parsed) if (inPrefix(addr, r.prefix, r.len)) return true;
    return false;
  };
}
