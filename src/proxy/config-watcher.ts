// Watches the config file and calls back when its content changed. Watches the
// directory (editors and config managers often replace the file by rename, which a
// watch on the file itself would miss) and debounces bursts of events.

import { createHash } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

export interface ConfigWatcher {
  close(): void;
}

export function watchConfigFile(path: string, onChange: () => void, debounceMs = 150): ConfigWatcher {
  const abs = resolve(path);
  const name = basename(abs);
  let lastHash = hashOf(abs);
  let timer: NodeJS.Timeout | null = null;
  const fire = (): void => {
    timer = null;
    const h = hashOf(abs);
    if (h === null || h === lastHash) return; // deleted mid-replace, or unchanged
    lastHash = h;
    onChange();
  };
  const watcher: FSWatcher = watch(dirname(abs), { persistent: false }, (_event, file) => {
    if (file !== null && file !== name) return;
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(fire, debounceMs);
  });
  watcher.on('error', () => {});
  return {
    close(): void {
      if (timer !== null) clearTimeout(timer);
      watcher.close();
    },
  };
}

function hashOf(path: string): string | null {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return null;
  }
}
