// Finds the shop's non-TypeScript files (proto/, routes/, mesh.yaml) from running code.
// tsc does not copy them, so the path differs between running the sources
// (examples/shop/src → ..) and the build (dist/examples/shop/src → the repository's
// examples/shop). SHOP_DIR overrides both.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function shopFile(relative: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.SHOP_DIR !== undefined && env.SHOP_DIR !== '') return join(env.SHOP_DIR, relative);
  const candidates = ['..', '../../../../examples/shop'].map((dir) =>
    join(fileURLToPath(new URL(`${dir}/`, import.meta.url)), relative),
  );
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined)
    throw new Error(`${relative} not found at ${candidates.join(' or ')}; set SHOP_DIR`);
  return found;
}
