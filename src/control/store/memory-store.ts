// A ResourceStore that keeps nothing on disk: for tests and for tools that need the store's
// semantics (validation, revisions, watch) without durability.

import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { KindRegistry } from '../kinds/registry.js';
import { EmbeddedStore } from './embedded-store.js';
import type { ResourceStore } from './resource-store.js';

export function createMemoryStore(options: {
  kinds: KindRegistry;
  clock: Clock;
  logger: Logger;
  historyLimit?: number;
}): ResourceStore {
  return new EmbeddedStore({
    ...options,
    persistence: { append: async () => {}, afterCommit: async () => {}, close: async () => {} },
  });
}
