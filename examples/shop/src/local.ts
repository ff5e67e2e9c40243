// Runs the whole shop on this machine WITHOUT the mesh: every service a child process,
// wired directly through the WEFT_UPSTREAM_*_URL variables a sidecar would provide. For
// trying the app (and its failure knobs) before, or apart from, `weft up`.
//   node dist/examples/shop/src/local.js [--reviews v1|v2|v3] [--port 8080] [--set SERVICE.VAR=VALUE ...]
//   e.g. --set ratings.FAIL_RATE=0.5 --set catalog.DELAY_MS=300
// Prints every service's log with its name in front; Ctrl-C stops them all.

import { parseArgs } from 'node:util';
import { createFleet, type ShopService } from './process-fleet.js';

const SERVICES: readonly ShopService[] = ['web', 'catalog', 'reviews', 'ratings'];

function parseSettings(items: readonly string[]): Map<ShopService, Record<string, string>> {
  const out = new Map<ShopService, Record<string, string>>(SERVICES.map((s) => [s, {}]));
  for (const item of items) {
    const m = /^([a-z]+)\.([A-Z_]+)=(.*)$/.exec(item);
    const env = m === null ? undefined : out.get(m[1] as ShopService);
    if (m === null || env === undefined)
      throw new Error(`--set ${item}: expected SERVICE.VAR=VALUE with SERVICE one of ${SERVICES.join(', ')}`);
    env[m[2]!] = m[3]!;
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      reviews: { type: 'string', default: 'v2' },
      port: { type: 'string', default: '8080' },
      set: { type: 'string', multiple: true, default: [] },
    },
  });
  const settings = parseSettings(values.set);
  const fleet = createFleet((name, line) => process.stdout.write(`${name.padEnd(8)} | ${line}\n`));
  const stopAll = async () => {
    await fleet.stopAll();
    process.exit(0);
  };
  process.once('SIGINT', stopAll);
  process.once('SIGTERM', stopAll);
  try {
    const [ratings, catalog] = await Promise.all([
      fleet.start('ratings', settings.get('ratings')!),
      fleet.start('catalog', settings.get('catalog')!),
    ]);
    const reviews = await fleet.start('reviews', {
      VERSION: values.reviews,
      WEFT_UPSTREAM_RATINGS_URL: ratings.url,
      ...settings.get('reviews'),
    });
    const web = await fleet.start('web', {
      PORT: values.port,
      WEFT_UPSTREAM_CATALOG_URL: catalog.url,
      WEFT_UPSTREAM_REVIEWS_URL: reviews.url,
      ...settings.get('web'),
    });
    process.stdout.write(`\nshop is up without the mesh: open ${web.url}/ (Ctrl-C stops it)\n\n`);
  } catch (err) {
    process.stderr.write(`shop: ${(err as Error).message}\n`);
    await fleet.stopAll();
    process.exit(1);
  }
}

void main();
