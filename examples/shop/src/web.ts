// web: the shop's front end. Asks catalog for products and reviews for what customers
// wrote, and serves both as an HTML page and as JSON:
//   GET /                    HTML: the product list
//   GET /products/:id        HTML: one product with its reviews (stars from v2/v3)
//   GET /api/products        JSON: the product list
//   GET /api/products/:id    JSON: product, reviews, and which version of each service answered
// x-user (or ?user=NAME, for a browser) and x-request-id are passed on to reviews, so a
// header route such as routes/header-v3.yaml can pick the reviews version for one user.
// A failing catalog fails the request (502); a failing reviews leaves the page up without
// reviews, and the answer says why.
// Env: PORT, HOST, VERSION, FAIL_RATE, DELAY_MS, UPSTREAM_TIMEOUT_MS (see shop-config.ts),
// WEFT_UPSTREAM_CATALOG_URL and WEFT_UPSTREAM_REVIEWS_URL.

import type { IncomingMessage } from 'node:http';
import { exitOnStartError, type Handler, json, type Reply, runHttpService } from './http-service.js';
import { readShopConfig, type ShopConfig, upstreamUrl } from './shop-config.js';

interface Upstreams {
  readonly catalog: URL;
  readonly reviews: URL;
}

interface UpstreamAnswer {
  readonly status: number;
  /** x-shop-version of the answer ('?' when the service did not say). */
  readonly version: string;
  readonly body: Record<string, unknown>;
}

/** Thrown when an upstream cannot be reached or does not answer in time: the message goes to the user. */
class UpstreamError extends Error {}

interface ProductView {
  product: { id: string; name: string; description: string; priceCents: number } | null;
  reviews: Record<string, unknown> & { error?: string };
  served: Record<string, string>;
}

function createWebHandler(config: ShopConfig, upstreams: Upstreams): Handler {
  async function call(base: URL, path: string, headers: Record<string, string>): Promise<UpstreamAnswer> {
    const target = new URL(path, base);
    let res: Response;
    try {
      res = await fetch(target, { headers, signal: AbortSignal.timeout(config.upstreamTimeoutMs) });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const why =
        e.name === 'TimeoutError'
          ? `no answer in ${config.upstreamTimeoutMs} ms`
          : (e.cause?.code ?? e.message);
      throw new UpstreamError(`${target.host}${path}: ${why}`);
    }
    const text = await res.text();
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // A sidecar's own errors (no route, upstream reset) are plain text, not the service's JSON.
      body = { error: text.trim().slice(0, 200) || `HTTP ${res.status}` };
    }
    return { status: res.status, version: res.headers.get('x-shop-version') ?? '?', body };
  }

  function forwardedHeaders(req: IncomingMessage, url: URL): Record<string, string> {
    // http-service.ts has made sure there is one.
    const headers: Record<string, string> = { 'x-request-id': String(req.headers['x-request-id']) };
    const user = req.headers['x-user'] ?? url.searchParams.get('user') ?? undefined;
    if (typeof user === 'string' && user !== '') headers['x-user'] = user;
    return headers;
  }

  async function loadProduct(id: string, headers: Record<string, string>): Promise<Reply | ProductView> {
    const path = `/products/${encodeURIComponent(id)}`;
    const [product, reviews] = await Promise.allSettled([
      call(upstreams.catalog, path, headers),
      call(upstreams.reviews, `/reviews/${encodeURIComponent(id)}`, headers),
    ]);
    if (product.status === 'rejected')
      return json(502, { version: config.version, error: `catalog: ${(product.reason as Error).message}` });
    if (product.value.status === 404)
      return json(404, { version: config.version, error: `no product '${id}'` });
    if (product.value.status !== 200)
      return json(502, {
        version: config.version,
        error: `catalog answered ${product.value.status}: ${String(product.value.body.error ?? '')}`,
      });
    const served: Record<string, string> = { web: config.version, catalog: product.value.version };
    let reviewsPart: ProductView['reviews'];
    if (reviews.status === 'rejected')
      reviewsPart = { error: `reviews: ${(reviews.reason as Error).message}` };
    else if (reviews.value.status !== 200)
      reviewsPart = {
        error: `reviews answered ${reviews.value.status}: ${String(reviews.value.body.error ?? '')}`,
      };
    else {
      reviewsPart = reviews.value.body;
      served.reviews = reviews.value.version;
      if (typeof reviews.value.body.ratingsVersion === 'string')
        served.ratings = reviews.value.body.ratingsVersion;
    }
    return { product: product.value.body.product as ProductView['product'], reviews: reviewsPart, served };
  }

  return async function web(req, url) {
    if (req.method !== 'GET') return null;
    const headers = forwardedHeaders(req, url);
    const html = !url.pathname.startsWith('/api/');
    const path = html ? url.pathname : url.pathname.slice('/api'.length);
    if (path === '/' || path === '/products') {
      const list = await call(upstreams.catalog, '/products', headers).catch((e: Error) => e);
      if (list instanceof Error || list.status !== 200) {
        const why = list instanceof Error ? list.message : `answered ${list.status}`;
        return json(502, { version: config.version, error: `catalog: ${why}` });
      }
      const products = list.body.products as NonNullable<ProductView['product']>[];
      return html
        ? { status: 200, body: renderList(products) }
        : json(200, { version: config.version, products });
    }
    const m = /^\/products\/([^/]+)$/.exec(path);
    if (m === null) return null;
    const view = await loadProduct(decodeURIComponent(m[1]!), headers);
    if ('status' in view) return view;
    const versionHeader = { 'x-shop-reviews-version': view.served.reviews ?? 'none' };
    return html
      ? { status: 200, body: renderProduct(view, url.search), headers: versionHeader }
      : { status: 200, body: { service: 'web', version: config.version, ...view }, headers: versionHeader };
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · Weft shop</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}
.served{color:#666;font-size:.85rem}.review{border-top:1px solid #ddd;padding:.5rem 0}</style></head>
<body>${body}</body></html>
`;
}

function price(cents: number): string {
  return `€${(cents / 100).toFixed(2)}`;
}

function renderList(products: readonly NonNullable<ProductView['product']>[]): string {
  const items = products
    .map(
      (p) =>
        `<li><a href="/products/${encodeURIComponent(p.id)}">${escapeHtml(p.name)}</a> ${price(p.priceCents)}</li>`,
    )
    .join('\n');
  return page('Products', `<h1>Weft shop</h1>\n<ul>\n${items}\n</ul>`);
}

function renderProduct(view: ProductView, search: string): string {
  const p = view.product!;
  const served = Object.entries(view.served)
    .map(([k, v]) => `${k} ${escapeHtml(v)}`)
    .join(' · ');
  const r = view.reviews;
  let reviews: string;
  if (typeof r.error === 'string')
    reviews = `<p class="unavailable">Reviews are unavailable: ${escapeHtml(r.error)}</p>`;
  else {
    const color = typeof r.starColor === 'string' ? r.starColor : 'black';
    const items = (r.reviews as { reviewer: string; text: string; stars?: number | null }[]).map((rv) => {
      const stars =
        typeof rv.stars === 'number'
          ? ` <span class="stars" style="color:${escapeHtml(color)}">${'★'.repeat(rv.stars)}${'☆'.repeat(5 - rv.stars)}</span>`
          : '';
      return `<div class="review"><b>${escapeHtml(rv.reviewer)}</b>${stars}<p>${escapeHtml(rv.text)}</p></div>`;
    });
    const notes = [
      r.highlight,
      r.ratingsError === undefined ? undefined : `Ratings unavailable: ${r.ratingsError}`,
    ]
      .filter((n): n is string => typeof n === 'string')
      .map((n) => `<p class="note">${escapeHtml(n)}</p>`);
    reviews = [...notes, ...items].join('\n');
  }
  return page(
    p.name,
    `<p><a href="/${escapeHtml(search)}">All products</a></p>
<h1>${escapeHtml(p.name)}</h1>
<p>${escapeHtml(p.description)} ${price(p.priceCents)}</p>
<h2>Reviews</h2>
${reviews}
<p class="served">served by ${served}</p>`,
  );
}

try {
  const config = readShopConfig('web');
  runHttpService(
    config,
    createWebHandler(config, { catalog: upstreamUrl('catalog'), reviews: upstreamUrl('reviews') }),
  );
} catch (err) {
  exitOnStartError('web', err);
}
