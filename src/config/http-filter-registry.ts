// The HTTP filters a config may name, by the `@type` of their typed_config: the router,
// the fault filter (validate-fault-filter.ts) and the local rate limit filter
// (validate-local-ratelimit.ts), each with its per-route config validator if it has one.
//
// Each entry validates its own typed_config once at load time (Envoy's factory model:
// validate config once, build cheap per-stream instances later). The registry is a plain
// map created by the caller and injected — no module-level registration — so tests and
// embedders choose exactly which filters exist.

import type { ConfigIssue } from '../core/errors.js';
import { readMessage } from './fields.js';
import { FAULT_FILTER, FAULT_TYPE_URL } from './validate-fault-filter.js';
import { HTTP_LOCAL_RATELIMIT_FILTER, HTTP_LOCAL_RATELIMIT_TYPE_URL } from './validate-local-ratelimit.js';

export const ROUTER_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

export interface HttpFilterFactoryConfig {
  readonly typeUrl: string;
  /** The filter `name` used when the config gives none (Envoy's well-known name). */
  readonly defaultName?: string;
  /**
   * Validates the filter's typed_config (without its `@type` key), pushing issues with full
   * paths under `path`, and returns the filter's validated config.
   */
  validate(raw: Record<string, unknown>, path: string, issues: ConfigIssue[]): unknown;
  /**
   * The filter's per-route config (`typed_per_filter_config`), when it takes one: its `@type`
   * (Envoy often uses another message than the filter's own) and its validator. Absent: the
   * filter takes no per-route config and naming it there is refused.
   */
  readonly perRoute?: PerRouteConfigFactory;
}

export interface PerRouteConfigFactory {
  readonly typeUrl: string;
  validate(raw: Record<string, unknown>, path: string, issues: ConfigIssue[]): unknown;
}

export type HttpFilterRegistry = ReadonlyMap<string, HttpFilterFactoryConfig>;

/** Validated `envoy.extensions.filters.http.router.v3.Router`. */
export interface RouterConfig {
  /** `suppress_envoy_headers`, default false: do not add `x-envoy-*` response headers. */
  readonly suppressEnvoyHeaders: boolean;
  /**
   * `respect_expected_rq_timeout`, default false: a request's x-envoy-expected-rq-timeout-ms
   * (set by the proxy in front) is its route timeout, ahead of x-envoy-upstream-rq-timeout-ms.
   */
  readonly respectExpectedRqTimeout: boolean;
}

function validateRouter(raw: Record<string, unknown>, path: string, issues: ConfigIssue[]): RouterConfig {
  const r = readMessage(raw, path, issues);
  const suppressEnvoyHeaders = r.boolean('suppress_envoy_headers', false);
  const respectExpectedRqTimeout = r.boolean('respect_expected_rq_timeout', false);
  // Accepted for compatibility; Weft has no per-route dynamic stats or tracing spans yet,
  // so either value behaves the same.
  r.boolean('dynamic_stats', true);
  r.boolean('start_child_span', false);
  r.done();
  return { suppressEnvoyHeaders, respectExpectedRqTimeout };
}

export const ROUTER_FILTER: HttpFilterFactoryConfig = {
  typeUrl: ROUTER_TYPE_URL,
  defaultName: 'envoy.filters.http.router',
  validate: validateRouter,
};

/** A new registry holding the router, the fault and the local rate limit filters. Callers add their own filters to the returned map. */
export function createDefaultHttpFilterRegistry(): Map<string, HttpFilterFactoryConfig> {
  return new Map([
    [ROUTER_TYPE_URL, ROUTER_FILTER],
    [FAULT_TYPE_URL, FAULT_FILTER],
    [HTTP_LOCAL_RATELIMIT_TYPE_URL, HTTP_LOCAL_RATELIMIT_FILTER],
  ]);
}
