// A minimal Prometheus text-format registry: counters, gauges and a latency histogram.
type Sample = { labels: string; value: number };

export type Counter = { inc: (by?: number, labels?: Record<string, string>) => void };
export type Gauge = { set: (value: number, labels?: Record<string, string>) => void };
export type Histogram = { observe: (seconds: number, labels?: Record<string, string>) => void };
export type Metrics = {
  counter: (name: string, help: string) => Counter;
  gauge: (name: string, help: string) => Gauge;
  histogram: (name: string, help: string) => Histogram;
  render: () => string;
};

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

function labelText(labels: Record<string, string> = {}): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`).join(',')}}`;
}

export function createMetrics(prefix = 'ledgerline_'): Metrics {
  const families = new Map<string, { help: string; type: string; samples: () => Sample[] }>();
  // Registering a name twice (two apps on one registry, as in tests) returns the same metric.
  const created = new Map<string, Counter | Gauge | Histogram>();
  const once = <T extends Counter | Gauge | Histogram>(name: string, make: () => T): T => {
    const existing = created.get(name);
    if (existing) return existing as T;
    const metric = make();
    created.set(name, metric);
    return metric;
  };
  const register = (name: string, help: string, type: string, samples: () => Sample[]) => {
    families.set(prefix + name, { help, type, samples });
  };
  return {
    counter: (name, help) => once(name, () => {
      const values = new Map<string, number>();
      register(name, help, 'counter', () => [...values].map(([labels, value]) => ({ labels, value })));
      return { inc: (by = 1, labels) => { const k = labelText(labels); values.set(k, (values.get(k) ?? 0) + by); } };
    }),
    gauge: (name, help) => once(name, () => {
      const values = new Map<string, number>();
      register(name, help, 'gauge', () => [...values].map(([labels, value]) => ({ labels, value })));
      return { set: (value, labels) => { values.set(labelText(labels), value); } };
    }),
    histogram: (name, help) => once(name, () => {
      const series = new Map<string, { counts: number[]; sum: number; count: number; labels: Record<string, string> }>();
      register(name, help, 'histogram', () => [...series.values()].flatMap((s) => [
        ...BUCKETS.map((le, i) => ({ labels: labelText({ ...s.labels, le: String(le) }), value: s.counts[i] ?? 0, suffix: '_bucket' })),
        { labels: labelText({ ...s.labels, le: '+Inf' }), value: s.count, suffix: '_bucket' },
        { labels: labelText(s.labels), value: s.sum, suffix: '_sum' },
        { labels: labelText(s.labels), value: s.count, suffix: '_count' },
      ]).map((x) => ({ labels: `${'suffix' in x ? x.suffix : ''}${x.labels}`, value: x.value })));
      return {
        observe(seconds, labels = {}) {
          const key = labelText(labels);
          const s = series.get(key) ?? { counts: BUCKETS.map(() => 0), sum: 0, count: 0, labels };
          BUCKETS.forEach((le, i) => { if (seconds <= le) s.counts[i] = (s.counts[i] ?? 0) + 1; });
          s.sum += seconds; s.count += 1;
          series.set(key, s);
        },
      };
    }),
    render() {
      const lines: string[] = [];
      const memory = process.memoryUsage();
      lines.push(`# TYPE ${prefix}process_resident_memory_bytes gauge`, `${prefix}process_resident_memory_bytes ${memory.rss}`);
      lines.push(`# TYPE ${prefix}nodejs_heap_used_bytes gauge`, `${prefix}nodejs_heap_used_bytes ${memory.heapUsed}`);
      lines.push(`# TYPE ${prefix}nodejs_heap_total_bytes gauge`, `${prefix}nodejs_heap_total_bytes ${memory.heapTotal}`);
      lines.push(`# TYPE ${prefix}nodejs_external_memory_bytes gauge`, `${prefix}nodejs_external_memory_bytes ${memory.external}`);
      lines.push(`# TYPE ${prefix}process_uptime_seconds gauge`, `${prefix}process_uptime_seconds ${process.uptime()}`);
      for (const [name, family] of families) {
        lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
        for (const sample of family.samples()) lines.push(`${name}${sample.labels} ${sample.value}`);
      }
      return `${lines.join('\n')}\n`;
    },
  };
}
