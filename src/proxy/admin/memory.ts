// The admin API's /memory: Envoy's admin.v3.Memory message, filled from what a Node
// process can report. Envoy takes these numbers from tcmalloc; here the heap is V8's
// (plus the off-heap Buffers it accounts for), and total_physical_bytes is the whole
// process's resident set (Node's rss, VmRSS on Linux): what a memory limit or `ps` sees. Values are decimal strings, as proto3 JSON writes uint64.

import { getHeapStatistics } from 'node:v8';

/** Envoy's admin.v3.Memory, in its JSON form. */
export interface MemoryReport {
  /** Bytes in use: V8's live heap plus the Buffers and other memory outside it that V8 accounts for. */
  readonly allocated: string;
  /** Bytes the heap holds: V8's heap spaces plus that outside memory. */
  readonly heap_size: string;
  /** Heap space reserved but not resident. */
  readonly pageheap_unmapped: string;
  /** Heap space resident but not in use. */
  readonly pageheap_free: string;
  /** tcmalloc's per-thread caches: none here. */
  readonly total_thread_cache: string;
  /** The process's resident set (VmRSS). */
  readonly total_physical_bytes: string;
}

export function memoryReport(): MemoryReport {
  const heap = getHeapStatistics();
  const external = heap.external_memory;
  return {
    allocated: String(heap.used_heap_size + external),
    heap_size: String(heap.total_heap_size + external),
    pageheap_unmapped: String(Math.max(0, heap.total_heap_size - heap.total_physical_size)),
    pageheap_free: String(Math.max(0, heap.total_physical_size - heap.used_heap_size)),
    total_thread_cache: '0',
    total_physical_bytes: String(process.memoryUsage.rss()),
  };
}
