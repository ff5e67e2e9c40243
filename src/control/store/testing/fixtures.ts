// Test helpers for the store and API tests: a registry with Weft's own kinds, sample
// resources, and a temporary state directory.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKindRegistry, type KindRegistry } from '../../kinds/registry.js';
import { createServiceKind } from '../../kinds/service.js';
import { createWorkloadKind } from '../../kinds/workload.js';

export function meshKinds(): KindRegistry {
  return createKindRegistry([createServiceKind(), createWorkloadKind()]);
}

export function serviceDoc(
  name: string,
  port = 80,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'Service',
    metadata: { name, labels: { app: name }, ...extra },
    spec: { selector: { app: name }, ports: [{ name: 'http', port, protocol: 'HTTP' }] },
  };
}

export function workloadDoc(name: string, spec: Record<string, unknown> = {}, namespace = 'default') {
  return {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'Workload',
    metadata: { name, namespace, labels: { app: 'web' } },
    spec: { address: '10.0.0.1', ports: { http: 8080 }, ...spec },
  };
}

export function tempStateDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'weft-store-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Collects watch events and lets a test await the n-th one without sleeping. */
export function eventCollector<E>(): { events: E[]; push(e: E): void; next(count: number): Promise<E[]> } {
  const events: E[] = [];
  let waiter: { count: number; resolve: (e: E[]) => void } | null = null;
  return {
    events,
    push(e) {
      events.push(e);
      if (waiter !== null && events.length >= waiter.count) {
        const w = waiter;
        waiter = null;
        w.resolve(events.slice());
      }
    },
    next(count) {
      if (events.length >= count) return Promise.resolve(events.slice());
      return new Promise((resolve) => {
        waiter = { count, resolve };
      });
    },
  };
}
