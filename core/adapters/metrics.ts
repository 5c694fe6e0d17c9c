// Prometheus metrics on prom-client: one registry per process (per app in tests), the default
// process and Node.js metrics, and counters, gauges and a latency histogram whose label names are
// whatever each call site passes (a metric is created on the first use of its label set).
import { Counter as PromCounter, Gauge as PromGauge, Histogram as PromHistogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Labels = Record<string, string>;
export type Counter = { inc: (by?: number, labels?: Labels) => void };
export type Gauge = { set: (value: number, labels?: Labels) => void };
export type Histogram = { observe: (seconds: number, labels?: Labels) => void };
export type Metrics = {
  counter: (name: string, help: string) => Counter;
  gauge: (name: string, help: string) => Gauge;
  histogram: (name: string, help: string) => Histogram;
  render: () => Promise<string>;
  contentType: string;
};

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createMetrics(prefix = 'ledgerline_'): Metrics {
  const registry = new Registry();
  // The event-loop delay histogram samples every 100 ms instead of prom-client's 10: its timer
  // woke every idle process 100 times a second (strace), for a figure that matters when a block
  // lasts tens of milliseconds or more, which it still records.
  collectDefaultMetrics({ register: registry, prefix, eventLoopMonitoringPrecision: 100 });
  // Registering a name twice (two apps on one registry, as in tests) returns the same metric.
  const created = new Map<string, Counter | Gauge | Histogram>();
  const once = <T extends Counter | Gauge | Histogram>(name: string, make: () => T): T => {
    let metric = created.get(name) as T | undefined;
    if (!metric) created.set(name, (metric = make()));
    return metric;
  };
  /** prom-client fixes a metric's label names when it is made: made lazily, from the first call's labels. */
  const lazily = <M>(make: (labelNames: string[]) => M) => {
    let metric: M | undefined;
    return (labels: Labels | undefined) => (metric ??= make(Object.keys(labels ?? {})));
  };
  return {
    contentType: registry.contentType,
    counter: (name, help) =>
      once(name, () => {
        const metric = lazily((labelNames) => new PromCounter({ name: prefix + name, help, labelNames, registers: [registry] }));
        return {
          inc: (by = 1, labels) => {
            if (labels) metric(labels).inc(labels, by);
            else metric(labels).inc(by);
          },
        };
      }),
    gauge: (name, help) =>
      once(name, () => {
        const metric = lazily((labelNames) => new PromGauge({ name: prefix + name, help, labelNames, registers: [registry] }));
        return {
          set: (value, labels) => {
            if (labels) metric(labels).set(labels, value);
            else metric(labels).set(value);
          },
        };
      }),
    histogram: (name, help) =>
      once(name, () => {
        const metric = lazily((labelNames) => new PromHistogram({ name: prefix + name, help, labelNames, buckets: BUCKETS, registers: [registry] }));
        return {
          observe: (seconds, labels) => {
            if (labels) metric(labels).observe(labels, seconds);
            else metric(labels).observe(seconds);
          },
        };
      }),
    render: () => registry.metrics(),
  };
}
