// The decoder filters of an HTTP connection manager (http-filter.ts): the HTTP filters
// other than the router and the fault filter (which keeps its own path in ActiveStream,
// fault.ts), compiled once per HCM config version into two fixed lists, those before the
// fault filter in http_filters and those after it. ActiveStream runs each list with one
// loop and no allocation. A new filter adds its factory to DECODER_FILTER_FACTORIES.

import type { HttpFilter, HttpLocalRateLimit } from '../../config/model.js';
import { FAULT_TYPE_URL } from '../../config/validate-fault-filter.js';
import { HTTP_LOCAL_RATELIMIT_TYPE_URL } from '../../config/validate-local-ratelimit.js';
import { createHttpLocalRateLimitFilter } from '../ratelimit/http-local-ratelimit.js';
import type { PerFilterConfigs } from '../router/per-filter-config.js';
import {
  type DecoderFilterDeps,
  type DecoderFilterStream,
  FilterStatus,
  type HttpDecoderFilter,
} from './http-filter.js';

type DecoderFilterFactory = (name: string, config: unknown, deps: DecoderFilterDeps) => HttpDecoderFilter;

/** Run-time factories of the decoder filters, by the `@type` of their config (immutable). */
const DECODER_FILTER_FACTORIES: ReadonlyMap<string, DecoderFilterFactory> = new Map([
  [
    HTTP_LOCAL_RATELIMIT_TYPE_URL,
    (name: string, config: unknown, deps: DecoderFilterDeps) =>
      createHttpLocalRateLimitFilter(name, config as HttpLocalRateLimit, deps),
  ],
]);

export interface DecoderFilterChain {
  /** Filters listed before the fault filter (all of them when there is none). */
  readonly beforeFault: readonly HttpDecoderFilter[];
  /** Filters listed after the fault filter: they run once its delay, if any, is over. */
  readonly afterFault: readonly HttpDecoderFilter[];
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
    const factory = DECODER_FILTER_FACTORIES.get(f.typeUrl);
    if (factory !== undefined) list.push(factory(f.name, f.config, deps));
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
