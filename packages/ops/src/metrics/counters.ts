import type { Registry } from 'prom-client';
import { registerCollected } from './collected.js';

export interface ExportCountersOptions {
  /** Help text per key. Default: `"<key> (from <prefix>)"`-style generic text. */
  help?: Readonly<Record<string, string>>;
  /** Keys that are current levels (e.g. open TCP connections), exported as gauges. */
  gauges?: readonly string[];
}

/** `tcpIdleClosed` -> `tcp_idle_closed`. */
export function snakeCase(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9_]/g, '_')
    .toLowerCase();
}

/**
 * Export a plain-object snapshot (e.g. `DnsServer.counters`) as Prometheus series, read at
 * scrape time. Each numeric key present *at registration* becomes
 * `<prefix><snake_key>_total` (counter) or `<prefix><snake_key>` (gauge, see `gauges`).
 * Keys that appear later are ignored: the set of series is fixed so dashboards stay stable.
 * Returns the registered metric names.
 */
export function exportCounters(
  registry: Registry,
  prefix: string,
  snapshot: () => Readonly<Record<string, unknown>>,
  options: ExportCountersOptions = {},
): string[] {
  const gauges = new Set(options.gauges ?? []);
  const names: string[] = [];
  for (const [key, initial] of Object.entries(snapshot())) {
    if (typeof initial !== 'number') continue;
    const isGauge = gauges.has(key);
    const base = prefix + snakeCase(key);
    const name = isGauge || base.endsWith('_total') ? base : `${base}_total`;
    names.push(name);
    registerCollected(registry, {
      name,
      help: options.help?.[key] ?? `Value of the "${key}" counter.`,
      type: isGauge ? 'gauge' : 'counter',
      values: () => {
        const v = snapshot()[key];
        return [{ value: typeof v === 'number' ? v : 0 }];
      },
    });
  }
  return names;
}
