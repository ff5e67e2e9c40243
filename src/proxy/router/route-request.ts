// The request facts route selection looks at. The connection manager builds one per
// request from what the codec parsed; nothing here is copied or normalized by the router.

import type { HeaderList } from '../http/headers.js';

export interface RouteRequest {
  /** Host / :authority as received (any case, port included when sent). */
  authority: string;
  /** Request target in origin form, query included (`/a/b?x=1`). */
  path: string;
  method: string;
  /** `http` or `https` — the scheme of the original request URL. */
  scheme: string;
  /** Request headers (lower-case names; `host` travels as `authority`). */
  headers: HeaderList;
}
