// catalog: the product data of the shop, in memory, over HTTP/JSON.
//   GET /products       every product (id, name, price)
//   GET /products/:id   one product, 404 when unknown
// Env: PORT, HOST, VERSION, FAIL_RATE, DELAY_MS (see shop-config.ts).

import { exitOnStartError, type Handler, json, runHttpService } from './http-service.js';
import { readShopConfig } from './shop-config.js';

export interface Product {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  /** In cents, so the JSON never carries a rounding error. */
  readonly priceCents: number;
}

const PRODUCTS: readonly Product[] = [
  { id: '1', name: 'Linen tea towel', description: 'Woven on a dobby loom, 50 × 70 cm.', priceCents: 1400 },
  { id: '2', name: 'Wool throw', description: 'Twill weave, undyed wool, 130 × 170 cm.', priceCents: 8900 },
  { id: '3', name: 'Cotton napkins (4)', description: 'Plain weave, four colours.', priceCents: 2200 },
];

function createCatalogHandler(version: string): Handler {
  const byId = new Map(PRODUCTS.map((p) => [p.id, p]));
  return async function catalog(req, url) {
    if (req.method !== 'GET') return null;
    if (url.pathname === '/products') return json(200, { version, products: PRODUCTS });
    const m = /^\/products\/([^/]+)$/.exec(url.pathname);
    if (m === null) return null;
    const product = byId.get(decodeURIComponent(m[1]!));
    return product === undefined
      ? json(404, { version, error: `no product '${m[1]}'` })
      : json(200, { version, product });
  };
}

try {
  const config = readShopConfig('catalog');
  runHttpService(config, createCatalogHandler(config.version));
} catch (err) {
  exitOnStartError('catalog', err);
}
