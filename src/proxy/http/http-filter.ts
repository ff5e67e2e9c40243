// The contract between an HTTP connection manager's stream and its decoder filters (the
// HTTP filters other than the router and the fault filter): what a filter sees of a
// request, what it may do to it, and the status it returns. Filters are (factory, instance)
// pairs: a factory compiles the config once, the instance is a plain object with a method,
// and the stream passes itself in, so a request allocates nothing for its filters.
//
// Envoy's model, reduced to what Weft's filters need: a filter sees the request headers
// once the route (and the weighted cluster) is chosen, with the route's per-filter configs,
// and returns Continue or StopIteration. StopIteration today means the filter answered
// the request locally (a synchronous decision, like the local rate limit); an asynchronous
// filter (the global rate limit's RLS call) will add a resume on the stream.

import type { Clock } from '../../core/clock.js';
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

export interface DecoderFilterDeps {
  readonly stats: StatsStore;
  readonly clock: Clock;
  /** Uniform in [0, 1), for filter_enabled / filter_enforced sampling. */
  random(): number;
}
