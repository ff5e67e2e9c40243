// Renders the stats store for the admin endpoints: Envoy's `/stats` text format and its
// `/stats/prometheus` exposition (Prometheus text format 0.0.4).
//
// Admin-time code, not request-path code: it sorts and runs the tag extractor on every
// call. It reads the store through the small StatsSource interface so a future
// histogram kind only adds a method here, not a change to every caller.

import type { Counter, Gauge } from './store.js';
import { extractTags } from './tag-extractor.js';

/** What the renderers need from a store (StatsStore satisfies it). */
export interface StatsSource {
  /** Sorted by name. */
  allCounters(): readonly Counter[];
  /** Sorted by name. */
  allGauges(): readonly Gauge[];
}

/**
 * Envoy's `/stats` text: one `name: value` line per counter and gauge, merged and sorted
 * by name. `filter` keeps only names it matches (Envoy's `?filter=` regex).
 */
export function renderStatsText(store: StatsSource, filter?: RegExp): string {
  const stats: Array<Counter | Gauge> = [...store.allCounters(), ...store.allGauges()];
  stats.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let out = '';
  for (const s of stats) {
    if (filter !== undefined) {
      filter.lastIndex = 0; // a g/y regex keeps its position between test() calls
      if (!filter.test(s.name)) continue;
    }
    out += `${s.name}: ${s.value}\n`;
  }
  return out;
}

type MetricType = 'counter' | 'gauge';

interface Family {
  readonly type: MetricType;
  readonly series: Array<{ readonly labels: string; readonly value: number }>;
}

/** Prometheus metric/label names allow [a-zA-Z0-9_] (and ':' for recording rules); Envoy maps the rest to '_'. */
export function sanitizePrometheusName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** Label values escape backslash, double quote and newline (exposition format 0.0.4). */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return `${v}`;
}

function addStat(families: Map<string, Family>, statName: string, value: number, type: MetricType): void {
  const tagged = extractTags(statName);
  const metric = `envoy_${sanitizePrometheusName(tagged.name)}`;
  let labels = '';
  for (const t of tagged.tags) {
    if (labels !== '') labels += ',';
    labels += `${sanitizePrometheusName(t.name)}="${escapeLabelValue(t.value)}"`;
  }
  let family = families.get(metric);
  if (family === undefined) {
    family = { type, series: [] };
    families.set(metric, family);
  } else if (family.type !== type) {
    // A counter and a gauge that map to one metric name cannot share a family; the
    // first kind seen keeps the name (counters come first), as the format allows one TYPE.
    return;
  }
  family.series.push({ labels, value });
}

/**
 * Envoy's `/stats/prometheus`: stats grouped into families by tag-extracted name
 * (`envoy_` + name with non-name characters as '_'), one `# TYPE` line per family,
 * families sorted by name and series by labels.
 */
export function renderPrometheus(store: StatsSource): string {
  const families = new Map<string, Family>();
  for (const c of store.allCounters()) addStat(families, c.name, c.value, 'counter');
  for (const g of store.allGauges()) addStat(families, g.name, g.value, 'gauge');
  const names = [...families.keys()].sort();
  let out = '';
  for (const name of names) {
    const family = families.get(name)!;
    out += `# TYPE ${name} ${family.type}\n`;
    family.series.sort((a, b) => (a.labels < b.labels ? -1 : a.labels > b.labels ? 1 : 0));
    for (const s of family.series) {
      out +=
        s.labels === ''
          ? `${name} ${formatValue(s.value)}\n`
          : `${name}{${s.labels}} ${formatValue(s.value)}\n`;
    }
  }
  return out;
}
