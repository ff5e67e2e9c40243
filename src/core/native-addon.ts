// Loading one of Weft's optional C addons (dist/native/NAME.node, built at `npm ci` by
// scripts/build-native.mjs; docs/native-core.md). Each addon has a JavaScript fallback
// or is an optimisation, so a missing or unloadable addon is a reason to report, not an
// error.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The addon's exports, or why it is not there. */
export type AddonLoad<T> = { addon: T } | { addon: null; reason: string };

/** Loads dist/native/`name`.node. */
export function loadAddon<T>(name: string): AddonLoad<T> {
  const path = fileURLToPath(new URL(`../../native/${name}.node`, import.meta.url));
  if (!existsSync(path)) return { addon: null, reason: `${path} is not built` };
  try {
    return { addon: createRequire(import.meta.url)(path) as T };
  } catch (err) {
    return { addon: null, reason: err instanceof Error ? err.message : String(err) };
  }
}
