// The router's request headers (Envoy's "HTTP headers consumed from downstreams"): a caller
// inside the mesh may ask for retries and timeouts per request.
// - x-envoy-retry-on / x-envoy-retry-grpc-on: comma-separated retry conditions, added to the
//   route's retry policy (unknown names are ignored, as Envoy does);
// - x-envoy-max-retries: the number of retries, once retries are on;
// - x-envoy-upstream-rq-timeout-ms: replaces the route timeout (0 = none), and the timeout a
//   grpc-timeout header would give;
// - x-envoy-upstream-rq-per-try-timeout-ms: replaces per_try_timeout; ignored unless below
//   the route timeout;
// - x-envoy-retriable-status-codes / x-envoy-retriable-header-names: comma-separated status
//   codes and response header names, retriable in addition to the policy's
//   retriable_status_codes / retriable_headers (under those two conditions only);
// - x-envoy-upstream-rq-timeout-alt-response: present = a timeout is answered 204, not 504;
// - x-envoy-expected-rq-timeout-ms: read only when the router has respect_expected_rq_timeout,
//   and then it is the route timeout, ahead of x-envoy-upstream-rq-timeout-ms.
// Values that are not whole numbers (status codes: 100-599; names: tokens) are ignored. The
// timeout and alt-response headers are consumed (not forwarded upstream); the retry headers
// travel on, and x-envoy-expected-rq-timeout-ms is replaced per attempt by the router.
// Only internal requests get here with them: the connection manager removes them from
// external ones first (client-address.ts).

import { allCharsIn, TOKEN_LOWER } from '../http1/char-tables.js';
import type { RetryOverrides } from '../router/retry-policy.js';
import { isRetryCondition } from '../router/retry-policy.js';
import { type HeaderList, truncateList } from './headers.js';

export interface RouterHeaders extends RetryOverrides {
  /**
   * The route timeout the request asks for: x-envoy-upstream-rq-timeout-ms, or
   * x-envoy-expected-rq-timeout-ms under respect_expected_rq_timeout; -1 = not given,
   * 0 = no timeout.
   */
  readonly timeoutMs: number;
  /** x-envoy-upstream-rq-timeout-alt-response was present: a timeout answers 204. */
  readonly timeoutAltResponse: boolean;
}

/**
 * Reads the router headers of a request, removing the consumed ones; null (and nothing
 * changed) when it has none of them. `respectExpectedTimeout` is the router's
 * respect_expected_rq_timeout. One pass over the headers.
 */
export function takeRouterHeaders(headers: HeaderList, respectExpectedTimeout = false): RouterHeaders | null {
  let found = false;
  const retryOn: RouterHeaders['retryOn'][number][] = [];
  let maxRetries = -1;
  let timeoutMs = -1;
  let expectedTimeoutMs = -1;
  let perTryTimeoutMs = -1;
  let timeoutAltResponse = false;
  let retriableStatusCodes: number[] | null = null;
  let retriableHeaderNames: string[] | null = null;
  let w = 0;
  for (let r = 0; r < headers.length; r += 2) {
    const name = headers[r];
    const value = headers[r + 1];
    let keep = true;
    if (name.length > 15 && name.startsWith('x-envoy-')) {
      switch (name) {
        case 'x-envoy-retry-on':
        case 'x-envoy-retry-grpc-on': {
          found = true;
          const grpc = name.length === 21;
          for (const token of value.split(',')) {
            const c = token.trim();
            if (isRetryCondition(c, grpc) && !retryOn.includes(c)) retryOn.push(c);
          }
          break;
        }
        case 'x-envoy-max-retries':
          found = true;
          maxRetries = wholeNumber(value, maxRetries);
          break;
        case 'x-envoy-upstream-rq-timeout-ms':
          found = true;
          keep = false;
          timeoutMs = wholeNumber(value, timeoutMs);
          break;
        case 'x-envoy-upstream-rq-per-try-timeout-ms':
          found = true;
          keep = false;
          perTryTimeoutMs = wholeNumber(value, perTryTimeoutMs);
          break;
        case 'x-envoy-upstream-rq-timeout-alt-response':
          found = true;
          keep = false;
          timeoutAltResponse = true;
          break;
        case 'x-envoy-expected-rq-timeout-ms':
          if (respectExpectedTimeout) {
            found = true;
            expectedTimeoutMs = wholeNumber(value, expectedTimeoutMs);
          }
          break;
        case 'x-envoy-retriable-status-codes':
          found = true;
          retriableStatusCodes ??= [];
          for (const token of value.split(',')) {
            const code = wholeNumber(token, -1);
            if (code >= 100 && code <= 599 && !retriableStatusCodes.includes(code))
              retriableStatusCodes.push(code);
          }
          break;
        case 'x-envoy-retriable-header-names':
          found = true;
          retriableHeaderNames ??= [];
          for (const token of value.split(',')) {
            const n = token.trim().toLowerCase();
            if (n.length > 0 && allCharsIn(TOKEN_LOWER, n) && !retriableHeaderNames.includes(n))
              retriableHeaderNames.push(n);
          }
          break;
      }
    }
    if (!keep) continue;
    if (w !== r) {
      headers[w] = name;
      headers[w + 1] = value;
    }
    w += 2;
  }
  if (!found) return null;
  truncateList(headers, w);
  return {
    retryOn,
    maxRetries,
    timeoutMs: expectedTimeoutMs >= 0 ? expectedTimeoutMs : timeoutMs,
    perTryTimeoutMs,
    timeoutAltResponse,
    retriableStatusCodes: retriableStatusCodes ?? NONE,
    retriableHeaderNames: retriableHeaderNames ?? NONE,
  };
}

const NONE: readonly never[] = [];

/** `value` as a non-negative whole number (digits only, at most 2^32 - 1), else `otherwise`. */
function wholeNumber(value: string, otherwise: number): number {
  const v = value.trim();
  if (v.length === 0 || v.length > 10) return otherwise;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return otherwise;
  }
  const n = Number(v);
  return n <= 0xffff_ffff ? n : otherwise;
}
