// Choosing the filter chain of a new connection, in Envoy's documented order
// (https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/listener/v3/listener_components.proto#config-listener-v3-filterchainmatch):
// destination port → destination IP (longest prefix) → server name (exact, then the
// longest `*.` wildcard suffix) → transport protocol → application protocols → source IP
// (longest prefix) → source port. At each step the chains that match the connection
// specifically are kept; when none does, the chains that do not constrain that field are
// kept; when none is left, the default chain (if any) is used. Load-time checks
// (validate-filter-chain-match.ts) guarantee that at most one chain survives all steps.
//
// Runs once per connection, over a handful of chains; it reuses two scratch arrays.

import type { FilterChainMatch } from '../../config/model.js';
import { type IpRange, inPrefix, parseIpRanges } from '../../core/ip-address.js';

/** What is known about a connection when its chain is chosen. */
export interface ConnectionFacts {
  readonly localIp: Uint8Array | null;
  readonly localPort: number;
  readonly remoteIp: Uint8Array | null;
  readonly remotePort: number;
  /** Lower-cased SNI, '' when none (or no tls_inspector). */
  readonly serverName: string;
  /** 'tls' or 'raw_buffer' (what tls_inspector saw; 'raw_buffer' without it). */
  readonly transportProtocol: string;
  readonly alpn: readonly string[];
}

interface Entry<T> {
  readonly value: T;
  readonly destinationPort: number | null;
  readonly prefixRanges: readonly IpRange[];
  readonly serverNames: readonly string[];
  readonly transportProtocol: string;
  readonly applicationProtocols: readonly string[];
  readonly sourceRanges: readonly IpRange[];
  readonly sourcePorts: readonly number[];
}

/** The longest prefix among `list` that contains `ip`; -1 when none does (or no ip). */
function longestPrefix(list: readonly IpRange[], ip: Uint8Array | null): number {
  if (ip === null) return -1;
  let best = -1;
  for (const r of list) if (r.len > best && inPrefix(ip, r.prefix, r.len)) best = r.len;
  return best;
}

/** How specifically `name` matches `serverNames`: exact = Infinity, wildcard = suffix length, -1 = no. */
function serverNameScore(serverNames: readonly string[], name: string): number {
  if (name === '') return -1;
  let best = -1;
  for (const n of serverNames) {
    if (n === name) return Number.POSITIVE_INFINITY;
    // `*.example.com` matches any name ending in `.example.com`.
    if (n.startsWith('*.') && name.length > n.length - 1 && name.endsWith(n.slice(1)) && n.length > best)
      best = n.length;
  }
  return best;
}

export class FilterChainSelector<T> {
  private readonly entries: readonly Entry<T>[];
  private a: Entry<T>[] = [];
  private b: Entry<T>[] = [];

  constructor(
    chains: readonly { readonly match: FilterChainMatch | undefined; readonly value: T }[],
    private readonly defaultValue: T | null,
  ) {
    this.entries = chains.map(({ match: m, value }) => ({
      value,
      destinationPort: m?.destinationPort ?? null,
      prefixRanges: parseIpRanges(m?.prefixRanges ?? []),
      serverNames: m?.serverNames ?? [],
      transportProtocol: m?.transportProtocol ?? '',
      applicationProtocols: m?.applicationProtocols ?? [],
      sourceRanges: parseIpRanges(m?.sourcePrefixRanges ?? []),
      sourcePorts: m?.sourcePorts ?? [],
    }));
  }

  /** The chain for a connection, or null when none matches and there is no default. */
  select(f: ConnectionFacts): T | null {
    let cur = this.a;
    let next = this.b;
    cur.length = 0;
    for (const e of this.entries) cur.push(e);
    const step = (score: (e: Entry<T>) => number, constrained: (e: Entry<T>) => boolean): void => {
      next.length = 0;
      let best = -1;
      for (const e of cur) if (constrained(e)) best = Math.max(best, score(e));
      if (best >= 0) {
        for (const e of cur) if (constrained(e) && score(e) === best) next.push(e);
      } else {
        for (const e of cur) if (!constrained(e)) next.push(e);
      }
      const t = cur;
      cur = next;
      next = t;
    };
    step(
      (e) => (e.destinationPort === f.localPort ? 0 : -1),
      (e) => e.destinationPort !== null,
    );
    step(
      (e) => longestPrefix(e.prefixRanges, f.localIp),
      (e) => e.prefixRanges.length > 0,
    );
    step(
      (e) => serverNameScore(e.serverNames, f.serverName),
      (e) => e.serverNames.length > 0,
    );
    step(
      (e) => (e.transportProtocol === f.transportProtocol ? 0 : -1),
      (e) => e.transportProtocol !== '',
    );
    step(
      (e) => (e.applicationProtocols.some((p) => f.alpn.includes(p)) ? 0 : -1),
      (e) => e.applicationProtocols.length > 0,
    );
    step(
      (e) => longestPrefix(e.sourceRanges, f.remoteIp),
      (e) => e.sourceRanges.length > 0,
    );
    step(
      (e) => (e.sourcePorts.includes(f.remotePort) ? 0 : -1),
      (e) => e.sourcePorts.length > 0,
    );
    const chosen = cur.length > 0 ? cur[0].value : this.defaultValue;
    this.a.length = 0;
    this.b.length = 0;
    return chosen;
  }
}
