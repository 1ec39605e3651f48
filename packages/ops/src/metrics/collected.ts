import type { Metric, Registry } from 'prom-client';

export interface CollectedValue {
  value: number;
  labels?: Record<string, string | number>;
  /** Series name when it differs from the metric name (histogram `_bucket`, `_sum`, `_count`). */
  metricName?: string;
}

export interface CollectedMetric {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  values: () => CollectedValue[];
  /**
   * How a multi-worker primary merges this metric over its workers (prom-client's
   * aggregators). Default `sum`: right for counters and for levels that add up (open
   * connections, cache bytes); `max`/`min` for a value every worker holds a copy of.
   */
  aggregator?: 'sum' | 'max' | 'min' | 'average' | 'first' | 'omit';
}

/**
 * Register a metric whose samples are produced at scrape time from state we own. prom-client
 * duck-types metrics (`name`, `help`, `type`, `get()`), which lets the hot path keep plain
 * numbers and pay for label formatting only when Prometheus scrapes.
 */
export function registerCollected(registry: Registry, metric: CollectedMetric): void {
  const entry = {
    name: metric.name,
    help: metric.help,
    type: metric.type,
    aggregator: metric.aggregator ?? 'sum',
    get: async () => ({
      name: metric.name,
      help: metric.help,
      type: metric.type,
      aggregator: metric.aggregator ?? 'sum',
      // Every sample carries a labels object: prom-client's cluster merge hashes it.
      values: metric.values().map((v) => (v.labels ? v : { ...v, labels: {} })),
    }),
    reset() {},
  };
  registry.registerMetric(entry as unknown as Metric);
}
