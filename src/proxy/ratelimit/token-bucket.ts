// A token bucket on the injected clock (Envoy's `envoy.type.v3.TokenBucket`): it starts
// full with `max_tokens`; every `fill_interval` adds `tokens_per_fill`, up to `max_tokens`.
//
// No timer per bucket: the refill is computed lazily from the monotonic time elapsed since
// the last fill boundary, whenever the bucket is consulted. Fills happen on whole interval
// boundaries counted from the bucket's creation, as Envoy's timer-driven fills do.

import type { TokenBucket as TokenBucketConfig } from '../../config/model.js';
import type { Clock } from '../../core/clock.js';

export class TokenBucket {
  readonly maxTokens: number;
  private readonly tokensPerFill: number;
  private readonly intervalMs: number;
  private readonly clock: Clock;
  private tokens: number;
  /** Monotonic time of the last fill boundary. */
  private lastFill: number;

  constructor(config: TokenBucketConfig, clock: Clock) {
    this.maxTokens = config.maxTokens;
    this.tokensPerFill = config.tokensPerFill;
    this.intervalMs = config.fillIntervalMs;
    this.clock = clock;
    this.tokens = config.maxTokens;
    this.lastFill = clock.monotonic();
  }

  /** Takes one token; false when the bucket is empty. */
  consume(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  /** Tokens left (after any refill due). */
  remaining(): number {
    this.refill();
    return this.tokens;
  }

  /** Milliseconds until the next fill. */
  msUntilFill(): number {
    this.refill();
    return this.lastFill + this.intervalMs - this.clock.monotonic();
  }

  private refill(): void {
    const now = this.clock.monotonic();
    const elapsed = now - this.lastFill;
    if (elapsed < this.intervalMs) return;
    const fills = Math.floor(elapsed / this.intervalMs);
    this.lastFill += fills * this.intervalMs;
    this.tokens = Math.min(this.tokens + fills * this.tokensPerFill, this.maxTokens);
  }
}
