// Human-readable tables for `weft get`: per-kind columns for Service and Workload, and for
// every kind a CONDITIONS column when the resource has status conditions (Gateway API route
// status lives under status.parents[].conditions; others under status.conditions).

import type { Resource } from '../control/resource.js';

type Column = readonly [header: string, cell: (r: Resource) => string];

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

const SERVICE_COLUMNS: readonly Column[] = [
  [
    'PORTS',
    (r) =>
      ((r.spec.ports as { name: string; port: number; protocol: string }[] | undefined) ?? [])
        .map((p) => `${p.name}:${p.port}/${p.protocol}`)
        .join(','),
  ],
  [
    'SELECTOR',
    (r) =>
      Object.entries((r.spec.selector as Record<string, string> | undefined) ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',') || '<none>',
  ],
];

const WORKLOAD_COLUMNS: readonly Column[] = [
  ['ADDRESS', (r) => str(r.spec.address)],
  [
    'PORTS',
    (r) =>
      Object.entries((r.spec.ports as Record<string, number> | undefined) ?? {})
        .map(([k, v]) => `${k}:${v}`)
        .join(','),
  ],
  [
    'LOCALITY',
    (r) => {
      const l = r.spec.locality as { region?: string; zone?: string } | undefined;
      return [l?.region, l?.zone].filter((x) => x).join('/') || '-';
    },
  ],
  ['WEIGHT', (r) => str(r.spec.weight ?? 1)],
  ['HEALTHY', (r) => str(r.spec.healthy ?? true)],
  ['TTL', (r) => (r.spec.ttlSeconds === undefined ? '-' : `${r.spec.ttlSeconds}s`)],
];

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
}

/** `Accepted=True,ResolvedRefs=False(BackendNotFound)`; one entry per parent when there are several. */
export function conditionSummary(r: Resource): string {
  const status = r.status as
    | { conditions?: Condition[]; parents?: { conditions?: Condition[] }[] }
    | undefined;
  const fmt = (cs: Condition[] | undefined) =>
    (cs ?? [])
      .map((c) => `${c.type}=${c.status}${c.status !== 'True' && c.reason ? `(${c.reason})` : ''}`)
      .join(',');
  const parts = [fmt(status?.conditions), ...(status?.parents ?? []).map((p) => fmt(p.conditions))].filter(
    (s) => s,
  );
  return parts.join(' ');
}

export function age(creationTimestamp: string | undefined, nowMs: number): string {
  if (creationTimestamp === undefined) return '-';
  const s = Math.max(0, Math.floor((nowMs - Date.parse(creationTimestamp)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export function renderTable(
  items: readonly Resource[],
  opts: { allNamespaces: boolean; nowMs: number },
): string {
  const kind = items[0]?.kind;
  const columns: Column[] = [];
  if (opts.allNamespaces) columns.push(['NAMESPACE', (r) => str(r.metadata.namespace)]);
  columns.push(['NAME', (r) => r.metadata.name]);
  if (kind === 'Service') columns.push(...SERVICE_COLUMNS);
  else if (kind === 'Workload') columns.push(...WORKLOAD_COLUMNS);
  if (items.some((r) => conditionSummary(r) !== ''))
    columns.push(['CONDITIONS', (r) => conditionSummary(r) || '-']);
  columns.push(['AGE', (r) => age(r.metadata.creationTimestamp, opts.nowMs)]);
  const rows = [columns.map(([h]) => h), ...items.map((r) => columns.map(([, cell]) => cell(r)))];
  const widths = columns.map((_c, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]! + 3))).join(''),
  );
  return `${lines.join('\n')}\n`;
}
