// The router's request headers (Envoy's "HTTP headers consumed from downstreams"): a caller
// inside the mesh may ask for retries and timeouts per request.
// - x-envoy-retry-on / x-envoy-retry-grpc-on: comma-separated retry conditions, added to the
//   route's retry policy (unknown names are ignored, as Envoy does);
// - x-envoy-max-retries: the number of retries, once retries are on;
// - x-envoy-upstream-rq-timeout-ms: replaces the route timeout (0 = none), and the timeout a
//   grpc-timeout header would give;
// - x-envoy-upstream-rq-per-try-timeout-ms: replaces per_try_timeout; ignored unless below
//   the route timeout.
// Values that are not whole numbers are ignored. The two timeout headers are consumed
// (not forwarded upstream); the retry headers travel on. Edge requests never get here with
// them: the connection manager removes them first (client-address.ts).

import type { RetryOverrides } from '../router/retry-policy.js';
import { isRetryCondition } from '../router/retry-policy.js';
import { type HeaderList, truncateList } from './headers.js';

export interface RouterHeaders extends RetryOverrides {
  /** x-envoy-upstream-rq-timeout-ms; -1 = not given, 0 = no timeout. */
  readonly timeoutMs: number;
}

/**
 * Reads the router headers of a request, removing the timeout ones; null (and nothing
 * changed) when it has none of them. One pass over the headers.
 */
export function takeRouterHeaders(headers: HeaderList): RouterHeaders | null {
  let found = false;
  const retryOn: RouterHeaders['retryOn'][number][] = [];
  let maxRetries = -1;
  let timeoutMs = -1;
  let perTryTimeoutMs = -1;
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
  return { retryOn, maxRetries, timeoutMs, perTryTimeoutMs };
}

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
