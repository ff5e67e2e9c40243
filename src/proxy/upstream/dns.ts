// DNS resolution for STRICT_DNS / LOGICAL_DNS clusters, behind an interface so tests
// inject a fake. The system resolver uses getaddrinfo (node:dns/promises lookup with
// all:true) — it honours /etc/hosts as Envoy's default c-ares setup does not, which is
// what an operator expects on a VM — and then applies Envoy's dns_lookup_family rule:
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto#enum-config-cluster-v3-cluster-dnslookupfamily

import { lookup } from 'node:dns/promises';
import type { Cluster } from '../../config/model.js';

export type DnsLookupFamily = Cluster['dnsLookupFamily'];

export interface DnsResolver {
  /** The addresses for `hostname` under the family policy, in resolver order; rejects on failure. */
  resolve(hostname: string, family: DnsLookupFamily): Promise<string[]>;
}

export interface ResolvedAddress {
  readonly address: string;
  /** 4 or 6. */
  readonly family: number;
}

/**
 * Applies dns_lookup_family: V4_ONLY/V6_ONLY filter; AUTO prefers v6 and falls back to v4;
 * V4_PREFERRED the reverse; ALL keeps both, in resolver order.
 */
export function selectAddresses(records: readonly ResolvedAddress[], family: DnsLookupFamily): string[] {
  const v4: string[] = [];
  const v6: string[] = [];
  const all: string[] = [];
  for (const r of records) {
    if (r.family === 6) v6.push(r.address);
    else v4.push(r.address);
    all.push(r.address);
  }
  switch (family) {
    case 'V4_ONLY':
      return v4;
    case 'V6_ONLY':
      return v6;
    case 'AUTO':
      return v6.length > 0 ? v6 : v4;
    case 'V4_PREFERRED':
      return v4.length > 0 ? v4 : v6;
    case 'ALL':
      return all;
  }
}

export function createSystemResolver(): DnsResolver {
  return {
    async resolve(hostname, family) {
      const records = await lookup(hostname, { all: true, verbatim: true });
      return selectAddresses(records, family);
    },
  };
}
