// Giving back the node binary's start-up pages (native/resident-pages.c; docs/native-core.md,
// "Resident memory"). Each long-running Weft command (proxy, run, control, up) calls
// releaseStartupPages() once it is up: the binary's code and read-only data that only
// start-up touched leave its resident set, and from then on the kernel maps back only the
// pages the process actually runs (no fault-around). `weft proxy` idles at ~32 MB instead
// of ~62 MB.

import { loadAddon } from './native-addon.js';

/** What a release gave back. */
export interface ReleasedPages {
  /** Read-only file mappings released (the executable's and its libraries' code and data). */
  readonly mappings: number;
  /** Bytes of them that were resident just before. */
  readonly residentBytes: number;
}

interface ResidentPagesAddon {
  releaseFilePages(): ReleasedPages;
}

/** A release function, or why there is none (the addon is not built; not Linux). */
export function loadResidentPages(): { release: () => ReleasedPages } | { release: null; reason: string } {
  const load = loadAddon<ResidentPagesAddon>('resident-pages');
  if (load.addon === null) return { release: null, reason: load.reason };
  const addon = load.addon;
  return { release: () => addon.releaseFilePages() };
}

/**
 * Gives back the node binary's start-up pages once a long-running command is up; returns
 * the line to log (what was given back, or why nothing was).
 */
export function releaseStartupPages(): string {
  const pages = loadResidentPages();
  if (pages.release === null) return `start-up pages of the node binary stay resident: ${pages.reason}`;
  const { mappings, residentBytes } = pages.release();
  return `released ${(residentBytes / 1048576).toFixed(1)} MiB of start-up pages of the node binary and its libraries (${mappings} mappings)`;
}
