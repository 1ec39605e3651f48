import type { Registry } from 'prom-client';
import { type CollectedValue, registerCollected } from './collected.js';
import type { QueryVia, Series } from './dns.js';

// CoreDNS's request/response/duration series (plugin/metrics/vars), rebuilt at scrape
// time from our (zone, qtype, rcode) series, so migrating teams keep their dashboards and
// the coredns mixin's alerts. The names and label names are CoreDNS's; the values follow
// its conventions: zone with a trailing dot, `dropped` for queries outside every zone,
// proto `udp`/`tcp`, family `1` (IPv4) / `2` (IPv6). Histogram bounds are ours.

const PROTOS = ['udp', 'tcp'] as const;
const FAMILIES = ['1', '2'] as const;

/** Index into `Series.via`: proto (udp 0, tcp 2) + family (IPv4 0, IPv6 1). */
export function viaSlot(via: QueryVia): number {
  // An IPv4-mapped address is an IPv4 client on a dual-stack socket: family 1, as Go's To4().
  const v6 = via.address.includes(':') && !via.address.startsWith('::ffff:');
  return (via.transport === 'tcp' ? 2 : 0) + (v6 ? 1 : 0);
}

/** Our zone label as CoreDNS writes it. */
export function corednsZone(zone: string): string {
  return zone === 'none' ? 'dropped' : `${zone}.`;
}

/** Folds the series into one accumulator per `key(series)`, created by `init` from the first. */
function group<T>(
  all: readonly Series[],
  key: (s: Series) => string,
  init: (s: Series) => T,
  add: (acc: T, s: Series) => void,
): T[] {
  const out = new Map<string, T>();
  for (const s of all) {
    const k = key(s);
    let acc = out.get(k);
    if (acc === undefined) {
      acc = init(s);
      out.set(k, acc);
    }
    add(acc, s);
  }
  return [...out.values()];
}

export function registerCorednsSeries(
  registry: Registry,
  server: string,
  bounds: readonly number[],
  all: () => readonly Series[],
): void {
  const boundLabels = bounds.map((b) => String(b));

  registerCollected(registry, {
    name: 'coredns_dns_requests_total',
    help: 'Counter of DNS requests made per zone, protocol and family (CoreDNS-compatible).',
    type: 'counter',
    values: () =>
      group(
        all(),
        (s) => `${s.zone}\0${s.qtype}`,
        (s) => ({ zone: s.zone, type: s.qtype, via: new Float64Array(4) }),
        (acc, s) => {
          for (let i = 0; i < 4; i++) acc.via[i] += s.via[i];
        },
      ).flatMap((g) => {
        const out: CollectedValue[] = [];
        for (let i = 0; i < 4; i++) {
          if (g.via[i] === 0) continue;
          out.push({
            value: g.via[i],
            labels: {
              server,
              zone: corednsZone(g.zone),
              proto: PROTOS[i >> 1],
              family: FAMILIES[i & 1],
              type: g.type,
            },
          });
        }
        return out;
      }),
  });

  registerCollected(registry, {
    name: 'coredns_dns_responses_total',
    help: 'Counter of response status codes (CoreDNS-compatible).',
    type: 'counter',
    values: () =>
      group(
        all(),
        (s) => `${s.zone}\0${s.rcode}`,
        (s) => ({ zone: s.zone, rcode: s.rcode, count: 0 }),
        (acc, s) => {
          acc.count += s.count;
        },
      ).map((g) => ({
        value: g.count,
        labels: { server, zone: corednsZone(g.zone), rcode: g.rcode },
      })),
  });

  const duration = 'coredns_dns_request_duration_seconds';
  registerCollected(registry, {
    name: duration,
    help: 'Histogram of the time (in seconds) each request took per zone (CoreDNS-compatible).',
    type: 'histogram',
    values: () =>
      group(
        all(),
        (s) => `${s.zone}\0${s.qtype}`,
        (s) => ({
          zone: s.zone,
          type: s.qtype,
          count: 0,
          sum: 0,
          buckets: new Float64Array(bounds.length + 1),
        }),
        (acc, s) => {
          acc.count += s.count;
          acc.sum += s.sum;
          for (let i = 0; i <= bounds.length; i++) acc.buckets[i] += s.buckets[i];
        },
      ).flatMap((g) => {
        const labels = { server, zone: corednsZone(g.zone), type: g.type };
        const out: CollectedValue[] = [];
        let cumulative = 0;
        for (let i = 0; i <= bounds.length; i++) {
          cumulative += g.buckets[i];
          const le = i < bounds.length ? boundLabels[i] : '+Inf';
          out.push({
            metricName: `${duration}_bucket`,
            value: cumulative,
            labels: { ...labels, le },
          });
        }
        out.push({ metricName: `${duration}_sum`, value: g.sum, labels });
        out.push({ metricName: `${duration}_count`, value: g.count, labels });
        return out;
      }),
  });
}
