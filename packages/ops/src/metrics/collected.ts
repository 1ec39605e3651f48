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
    aggregator: 'sum' as const,
    get: async () => ({
      name: metric.name,
      help: metric.help,
      type: metric.type,
      aggregator: 'sum' as const,
      values: metric.values(),
    }),
    reset() {},
  };
  registry.registerMetric(entry as unknown as Metric);
}
