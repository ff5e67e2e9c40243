// The network local rate limit filter (`envoy.filters.network.local_ratelimit`) at run
// time: a non-terminal filter before tcp_proxy or the HTTP connection manager. Each new
// connection takes one token from the filter's bucket; with none left, the connection is
// closed at once, before the terminal filter sees it, and
// `local_ratelimit.<stat_prefix>.rate_limited` counts it (Envoy's stat name).
// https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/network_filters/local_rate_limit_filter
//
// The buckets are compiled with the listener's config version (shared by its generations,
// as a listener update in Envoy starts new buckets); `withConnectionRateLimits` wraps the
// terminal filter's builder so the listener code stays unaware of them.

import type { Socket } from 'node:net';
import type { NetworkFilter, NetworkLocalRateLimit, TerminalNetworkFilter } from '../../config/model.js';
import type { Clock } from '../../core/clock.js';
import type { DrainSignal } from '../listener/drain.js';
import type { NetworkFilterInstance } from '../listener/listener-manager.js';
import { TokenBucket } from '../ratelimit/token-bucket.js';
import type { Counter, StatsStore } from '../stats/store.js';

export interface ConnectionRateLimitDeps {
  readonly stats: StatsStore;
  readonly clock: Clock;
}

class ConnectionRateLimiter {
  private readonly bucket: TokenBucket;
  private readonly rateLimited: Counter;

  constructor(config: NetworkLocalRateLimit, deps: ConnectionRateLimitDeps) {
    this.bucket = new TokenBucket(config.tokenBucket, deps.clock);
    this.rateLimited = deps.stats.counter(`local_ratelimit.${config.statPrefix}.rate_limited`);
  }

  /** Takes a token for a new connection; false (counted) when there is none. */
  admit(): boolean {
    if (this.bucket.consume()) return true;
    this.rateLimited.value++;
    return false;
  }
}

/** The chain's terminal filter: the last one (the validator guarantees it). */
export function terminalFilter(filters: readonly NetworkFilter[]): TerminalNetworkFilter {
  return filters[filters.length - 1] as TerminalNetworkFilter;
}

/** `build` with the chain's local rate limits in front of it (unchanged when there are none). */
export function withConnectionRateLimits(
  filters: readonly NetworkFilter[],
  deps: ConnectionRateLimitDeps,
  build: (drain: DrainSignal) => NetworkFilterInstance,
): (drain: DrainSignal) => NetworkFilterInstance {
  const limiters: ConnectionRateLimiter[] = [];
  for (const f of filters)
    if (f.kind === 'local_ratelimit' && f.config.enabled)
      limiters.push(new ConnectionRateLimiter(f.config, deps));
  if (limiters.length === 0) return build;
  return (drain) => {
    const inner = build(drain);
    return {
      managesDrain: inner.managesDrain,
      close: inner.close === undefined ? undefined : () => inner.close!(),
      handle(socket: Socket): void {
        for (let i = 0; i < limiters.length; i++) {
          if (!limiters[i].admit()) {
            socket.destroy();
            return;
          }
        }
        inner.handle(socket);
      },
    };
  };
}
