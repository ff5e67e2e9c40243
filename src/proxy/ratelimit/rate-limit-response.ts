// How a rate limit decision shows on the wire, shared by the local rate limit filter and a
// future global (RLS) one: the over-limit local reply (status, `x-envoy-ratelimited`, the
// configured response headers, response flag RL) and the `x-ratelimit-*` headers of
// draft-ietf-httpapi-ratelimit-headers-03 (Envoy's DRAFT_VERSION_03).

import type { HeaderValueOption } from '../../config/model.js';
import type { HeaderList } from '../http/headers.js';
import type { DecoderFilterStream } from '../http/http-filter.js';
import { compileHeaderMutationLevel } from '../router/header-mutations.js';
import { applyHeaderMutations, type HeaderMutationPlan } from '../router/route-table.js';
import { ResponseFlag } from '../stream-info.js';

/** Envoy's rate-limited header (x-envoy-ratelimited: true). */
export const ENVOY_RATELIMITED = 'x-envoy-ratelimited';

export const XRateLimitHeader = {
  limit: 'x-ratelimit-limit',
  remaining: 'x-ratelimit-remaining',
  reset: 'x-ratelimit-reset',
} as const;

/** Compiles literal header options (validated to hold no %OPERATOR%) into a plan; null when none. */
export function literalHeaderPlan(options: readonly HeaderValueOption[]): HeaderMutationPlan | null {
  return compileHeaderMutationLevel(options, [], null, (value) => () => value);
}

/** Answers an over-limit request: `status` with RL, x-envoy-ratelimited and the configured headers. */
export function rejectOverLimit(
  stream: DecoderFilterStream,
  status: number,
  body: string,
  details: string,
  headersToAdd: HeaderMutationPlan | null,
): void {
  const headers: HeaderList = [ENVOY_RATELIMITED, 'true'];
  if (headersToAdd !== null) applyHeaderMutations(headers, headersToAdd, stream.info);
  stream.sendLocalReply(status, body, ResponseFlag.RateLimited, details, headers);
}

/** Adds the DRAFT_VERSION_03 headers to the stream's response. */
export function addXRateLimitHeaders(
  stream: DecoderFilterStream,
  limit: number,
  remaining: number,
  resetSeconds: number,
): void {
  stream.addResponseHeader(XRateLimitHeader.limit, String(limit));
  stream.addResponseHeader(XRateLimitHeader.remaining, String(remaining));
  stream.addResponseHeader(XRateLimitHeader.reset, String(resetSeconds));
}
