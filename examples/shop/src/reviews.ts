// reviews: what customers wrote about a product, over HTTP/JSON, in three versions
// chosen by VERSION so canary and header routing show in every answer:
//   v1  text only
//   v2  plus stars, fetched over gRPC from ratings, in black
//   v3  like v2 with red stars and a `highlight` field announcing v3
//   GET /reviews/:productId
// When ratings fails (UNAVAILABLE, deadline) v2/v3 still answer 200, without stars and
// with `ratingsError`: a page without stars is better than no page, and it lets the tour
// show a mesh retry hiding a flaky ratings.
// Env: PORT, HOST, VERSION, FAIL_RATE, DELAY_MS, UPSTREAM_TIMEOUT_MS (see shop-config.ts),
// and for v2/v3 WEFT_UPSTREAM_RATINGS_URL (http://HOST:PORT of ratings' gRPC port).

import type { IncomingMessage } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { exitOnStartError, type Handler, json, runHttpService } from './http-service.js';
import { type GetRatingsRequest, type GetRatingsResponse, loadRatingsApi } from './ratings-api.js';
import { readShopConfig, type ShopConfig, upstreamUrl } from './shop-config.js';

interface Review {
  readonly reviewer: string;
  readonly text: string;
}

const REVIEWS: Readonly<Record<string, readonly Review[]>> = {
  '1': [
    { reviewer: 'ada', text: 'Dries glasses without lint. Softer after every wash.' },
    { reviewer: 'grace', text: 'Good weight; the hanging loop could be longer.' },
  ],
  '2': [
    { reviewer: 'ada', text: 'Warm, but it sheds for the first weeks.' },
    { reviewer: 'grace', text: 'The twill drapes beautifully over the sofa.' },
  ],
  '3': [{ reviewer: 'ada', text: 'Colours faded after ten washes.' }],
};

/** Headers passed on to ratings, so one request can be followed (and routed) across hops. */
const PROPAGATED = ['x-request-id', 'x-user'] as const;

type FetchRatings = (productId: string, req: IncomingMessage) => Promise<GetRatingsResponse>;

function createRatingsFetcher(config: ShopConfig): FetchRatings {
  const url = upstreamUrl('ratings');
  const { RatingsClient } = loadRatingsApi();
  // weft up also sets http_proxy (its Host-routing port); grpc-js would honour it, but the
  // upstream URL already is a sidecar port that leads to ratings, so dial it directly.
  const client = new RatingsClient(url.host, grpc.credentials.createInsecure(), {
    'grpc.enable_http_proxy': 0,
  });
  return (productId, req) =>
    new Promise((resolve, reject) => {
      const metadata = new grpc.Metadata();
      for (const h of PROPAGATED) {
        const v = req.headers[h];
        if (typeof v === 'string') metadata.set(h, v);
      }
      const request: GetRatingsRequest = { productId };
      client.GetRatings(
        request,
        metadata,
        { deadline: Date.now() + config.upstreamTimeoutMs },
        (err: grpc.ServiceError | null, res?: GetRatingsResponse) => {
          if (err !== null) reject(err);
          else resolve(res!);
        },
      );
    });
}

function createReviewsHandler(config: ShopConfig, fetchRatings: FetchRatings | null): Handler {
  const { version } = config;
  return async function reviews(req, url) {
    const m = /^\/reviews\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || m === null) return null;
    const productId = decodeURIComponent(m[1]!);
    const written = REVIEWS[productId] ?? [];
    const base = { service: 'reviews', version, productId };
    if (fetchRatings === null) return json(200, { ...base, reviews: written });
    const extra = version === 'v3' ? { highlight: 'reviews v3: new star colour' } : {};
    const starColor = version === 'v3' ? 'red' : 'black';
    try {
      const rated = await fetchRatings(productId, req);
      const stars = new Map(rated.ratings.map((r) => [r.reviewer, r.stars]));
      return json(200, {
        ...base,
        ...extra,
        starColor,
        ratingsVersion: rated.version,
        reviews: written.map((r) => ({ ...r, stars: stars.get(r.reviewer) ?? null })),
      });
    } catch (err) {
      const e = err as grpc.ServiceError;
      const code = typeof e.code === 'number' ? grpc.status[e.code] : 'ERROR';
      return json(200, {
        ...base,
        ...extra,
        ratingsError: `${code}: ${e.details ?? e.message}`,
        reviews: written,
      });
    }
  };
}

try {
  const config = readShopConfig('reviews');
  if (!['v1', 'v2', 'v3'].includes(config.version))
    throw new Error(`VERSION must be v1, v2 or v3 for reviews, got '${config.version}'`);
  const fetchRatings = config.version === 'v1' ? null : createRatingsFetcher(config);
  runHttpService(config, createReviewsHandler(config, fetchRatings));
} catch (err) {
  exitOnStartError('reviews', err);
}
