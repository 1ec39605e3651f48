import { collectDefaultMetrics, Registry } from 'prom-client';

export interface CreateRegistryOptions {
  /** Also export Node process metrics (CPU, memory, event loop lag, GC). Default true. */
  defaultMetrics?: boolean;
  /** Prefix for those process metrics, e.g. `mdns_gateway_`. Default `''` (standard names). */
  defaultMetricsPrefix?: string;
}

/** A fresh prom-client `Registry` (never the global one, so tests and apps do not collide). */
export function createRegistry(options: CreateRegistryOptions = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: options.defaultMetricsPrefix ?? '' });
  }
  return registry;
}
