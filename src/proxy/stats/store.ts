// The stats store: Envoy-style named counters and gauges.
//
// Cheap on the hot path: a component looks its stats up once at config time and keeps
// the objects; the request path only does `counter.value++`. Names are Envoy's dotted
// names (`http.ingress_http.downstream_rq_total`, `cluster.backend.upstream_rq_total`).
// Stats outlive config reloads: asking again for the same name returns the same object.
// A component that counts outside JavaScript (the native tcp_proxy relay) registers a
// collector, which brings its counters up to date whenever all stats are read.

export interface Counter {
  readonly name: string;
  value: number;
}

export interface Gauge {
  readonly name: string;
  value: number;
}

export class StatsStore {
  private readonly counters = new Map<string, Counter>();
  private readonly gauges = new Map<string, Gauge>();
  private readonly collectors = new Set<() => void>();

  /** Runs `collect` before all stats are read; returns its removal. */
  addCollector(collect: () => void): () => void {
    this.collectors.add(collect);
    return () => this.collectors.delete(collect);
  }

  counter(name: string): Counter {
    let c = this.counters.get(name);
    if (c === undefined) {
      c = { name, value: 0 };
      this.counters.set(name, c);
    }
    return c;
  }

  gauge(name: string): Gauge {
    let g = this.gauges.get(name);
    if (g === undefined) {
      g = { name, value: 0 };
      this.gauges.set(name, g);
    }
    return g;
  }

  /** All counters, sorted by name. */
  allCounters(): Counter[] {
    this.collect();
    return [...this.counters.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** All gauges, sorted by name. */
  allGauges(): Gauge[] {
    this.collect();
    return [...this.gauges.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private collect(): void {
    for (const collect of this.collectors) collect();
  }
}
