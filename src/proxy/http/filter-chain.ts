// The decoder filters of an HTTP connection manager: the HTTP filters other than the
// router and the fault filter (which keeps its own path in ActiveStream, fault.ts), compiled
// once per HCM config version into two fixed lists, those before the fault filter in
// http_filters and those after it. ActiveStream runs each list with one loop and no
// allocation: the filters are plain objects with a method, the stream is passed in.
//
// Envoy's model, reduced to what Weft's filters need: a filter sees the request headers
// once the route (and the weighted cluster) is chosen, with the route's per-filter configs,
// and returns Continue or StopIteration. StopIteration today means the filter answered
// the request locally (a synchronous decision, like the local rate limit); an asynchronous
// filter (the global rate limit's RLS call) will add a resume on the stream.

import type { HttpFilter, HttpLocalRateLimit } from '../../config/model.js';
import { FAULT_TYPE_URL } from '../../config/validate-fault-filter.js';
import { HTTP_LOCAL_RATELIMIT_TYPE_URL } from '../../config/validate-local-ratelimit.js';
import type { Clock } from '../../core/clock.js';
import { createHttpLocalRateLimitFilter } from '../ratelimit/http-local-ratelimit.js';
import type { PerFilterConfigs } from '../router/per-filter-config.js';
import type { StatsStore } from '../stats/store.js';
import type { StreamInfo } from '../stream-info.js';
import type { HeaderList } from './headers.js';

export const FilterStatus = { Continue: 0, StopIteration: 1 } as const;
export type FilterStatus = (typeof FilterStatus)[keyof typeof FilterStatus];

/** What a decoder filter may see and do to a stream (ActiveStream implements it). */
export interface DecoderFilterStream {
  /** The request headers, mutable (lower-case names, name/value pairs). */
  readonly headers: HeaderList;
  readonly info: StreamInfo;
  /** The downstream connection, as an identity for per-connection state. */
  readonly connectionKey: object;
  /** Answers the request locally (at most once); the filter then returns StopIteration. */
  sendLocalReply(
    status: number,
    body: string,
    flags: number,
    details: string,
    headers: HeaderList | null,
  ): void;
  /** Adds a header to the response, whether from upstream or local. */
  addResponseHeader(name: string, value: string): void;
}

export interface HttpDecoderFilter {
  /** The filter's name in http_filters: the key of its typed_per_filter_config entries. */
  readonly name: string;
  /** Called once per request with the route's per-filter configs (null when the route has none). */
  decodeHeaders(stream: DecoderFilterStream, perRoute: PerFilterConfigs | null): FilterStatus;
}

export interface DecoderFilterChain {
  /** Filters listed before the fault filter (all of them when there is none). */
  readonly beforeFault: readonly HttpDecoderFilter[];
  /** Filters listed after the fault filter: they run once its delay, if any, is over. */
  readonly afterFault: readonly HttpDecoderFilter[];
}

export interface DecoderFilterDeps {
  readonly stats: StatsStore;
  readonly clock: Clock;
  /** Uniform in [0, 1), for filter_enabled / filter_enforced sampling. */
  random(): number;
}

export const EMPTY_DECODER_FILTER_CHAIN: DecoderFilterChain = Object.freeze({
  beforeFault: Object.freeze([]) as readonly HttpDecoderFilter[],
  afterFault: Object.freeze([]) as readonly HttpDecoderFilter[],
});

/** Compiles the decoder filters of `filters` (the HCM's http_filters, validated). */
export function createDecoderFilterChain(
  filters: readonly HttpFilter[],
  deps: DecoderFilterDeps,
): DecoderFilterChain {
  const beforeFault: HttpDecoderFilter[] = [];
  const afterFault: HttpDecoderFilter[] = [];
  let list = beforeFault;
  for (const f of filters) {
    if (f.typeUrl === FAULT_TYPE_URL) list = afterFault;
    else if (f.typeUrl === HTTP_LOCAL_RATELIMIT_TYPE_URL)
      list.push(createHttpLocalRateLimitFilter(f.name, f.config as HttpLocalRateLimit, deps));
  }
  if (beforeFault.length === 0 && afterFault.length === 0) return EMPTY_DECODER_FILTER_CHAIN;
  return { beforeFault, afterFault };
}

/** Runs `filters` in order; true when one stopped the request (it answered locally). */
export function runDecoderFilters(
  filters: readonly HttpDecoderFilter[],
  stream: DecoderFilterStream,
  perRoute: PerFilterConfigs | null,
): boolean {
  for (let i = 0; i < filters.length; i++) {
    if (filters[i].decodeHeaders(stream, perRoute) !== FilterStatus.Continue) return true;
  }
  return false;
}
