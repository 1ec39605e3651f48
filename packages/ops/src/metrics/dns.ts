import { rcodeName } from '@mdns/protocol';
import type { Registry } from 'prom-client';
import { registerCollected } from './collected.js';
import { registerCorednsSeries, viaSlot } from './coredns.js';

/** Seconds. From 100 µs (a cache hit) up to 5 s (a client giving up on a slow upstream). */
export const DNS_DURATION_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

// Labels stay bounded: a query can carry any of 65536 types, but only these get a series.
const QTYPE_NAMES: Record<number, string> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  13: 'HINFO',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  35: 'NAPTR',
  41: 'OPT',
  43: 'DS',
  46: 'RRSIG',
  47: 'NSEC',
  48: 'DNSKEY',
  50: 'NSEC3',
  64: 'SVCB',
  65: 'HTTPS',
  99: 'SPF',
  251: 'IXFR',
  252: 'AXFR',
  255: 'ANY',
  257: 'CAA',
};

/** `1` -> `'A'`; unknown numbers -> `'other'`; strings pass through. */
export function qtypeLabel(qtype: number | string): string {
  return typeof qtype === 'string' ? qtype : (QTYPE_NAMES[qtype] ?? 'other');
}

/** `3` -> `'NXDOMAIN'`; unknown numbers -> `'other'`; strings pass through. */
export function rcodeLabel(rcode: number | string): string {
  return typeof rcode === 'string' ? rcode : rcodeName(rcode, 'other');
}

/** One (zone, qtype, rcode) series: plain numbers, updated in place. */
export interface Series {
  zone: string;
  qtype: string;
  rcode: string;
  count: number;
  sum: number;
  /** Non-cumulative per-bucket counts; the last slot is +Inf. Cumulated at scrape. */
  buckets: Float64Array;
  /** Counts by how the query came (see `viaSlot`); only with `coredns` set, else empty. */
  via: Float64Array;
}

/** How a query reached the server: what CoreDNS's `proto` and `family` labels say. */
export interface QueryVia {
  transport: 'udp' | 'tcp';
  /** The client's address (IPv4, IPv6, or IPv4-mapped IPv6). */
  address: string;
}

export interface DnsQueryMetrics {
  /**
   * Count one answered query and its duration in seconds. `zone` should come from a bounded
   * set (the configured zones, plus one fixed label such as `'none'` for refused names).
   * After the first call per label combination this does no allocation and no string work.
   */
  observe(
    zone: string,
    qtype: number | string,
    rcode: number | string,
    seconds: number,
    via?: QueryVia,
  ): void;
  /** Forget all series (tests). */
  reset(): void;
}

export interface DnsQueryMetricsOptions {
  /** Histogram upper bounds in seconds, ascending. Default `DNS_DURATION_BUCKETS`. */
  buckets?: readonly number[];
  /**
   * Also export CoreDNS's `coredns_dns_requests_total`, `coredns_dns_responses_total` and
   * `coredns_dns_request_duration_seconds` (config `metrics.corednsCompatible`), with this
   * `server` label (see `corednsServerLabel`). Derived at scrape time from the same
   * series; the only per-query cost is counting `via` (pass it to `observe`).
   */
  coredns?: { server: string };
}

/** CoreDNS's `server` label for a listener: `dns://:53` on every address, else `dns://host:53`. */
export function corednsServerLabel(host: string, port: number): string {
  const any = host === '0.0.0.0' || host === '::' || host === '';
  const h = any ? '' : host.includes(':') ? `[${host}]` : host;
  return `dns://${h}:${port}`;
}

/**
 * Register `<prefix>queries_total{zone,qtype,rcode}` and
 * `<prefix>query_duration_seconds{zone,qtype,rcode}` (histogram) on `registry`.
 */
export function dnsQueryMetrics(
  registry: Registry,
  prefix: string,
  options: DnsQueryMetricsOptions = {},
): DnsQueryMetrics {
  const bounds = [...(options.buckets ?? DNS_DURATION_BUCKETS)];
  const boundLabels = bounds.map((b) => String(b));
  const coredns = options.coredns;
  const viaSlots = coredns ? 4 : 0;
  // zone -> qtype label -> rcode label -> series.
  let tree = new Map<string, Map<number | string, Map<number | string, Series>>>();
  let all: Series[] = [];

  function create(zone: string, qtype: number | string, rcode: number | string): Series {
    const s: Series = {
      zone,
      qtype: qtypeLabel(qtype),
      rcode: rcodeLabel(rcode),
      count: 0,
      sum: 0,
      buckets: new Float64Array(bounds.length + 1),
      via: new Float64Array(viaSlots),
    };
    all.push(s);
    return s;
  }

  function series(zone: string, qtype: number | string, rcode: number | string): Series {
    // Key by the label, not the number: a client cycling through the 65 536 types (or
    // rcodes) must land in one `other` series, not create one per number. Both lookups
    // are table reads returning constant strings: no allocation per query.
    qtype = qtypeLabel(qtype);
    rcode = rcodeLabel(rcode);
    let byType = tree.get(zone);
    if (!byType) {
      byType = new Map();
      tree.set(zone, byType);
    }
    let byRcode = byType.get(qtype);
    if (!byRcode) {
      byRcode = new Map();
      byType.set(qtype, byRcode);
    }
    let s = byRcode.get(rcode);
    if (!s) {
      s = create(zone, qtype, rcode);
      byRcode.set(rcode, s);
    }
    return s;
  }

  registerCollected(registry, {
    name: `${prefix}queries_total`,
    help: 'DNS queries answered, by zone, query type and response code.',
    type: 'counter',
    values: () =>
      all.map((s) => ({
        value: s.count,
        labels: { zone: s.zone, qtype: s.qtype, rcode: s.rcode },
      })),
  });

  const durationName = `${prefix}query_duration_seconds`;
  registerCollected(registry, {
    name: durationName,
    help: 'Time from receiving a DNS query to having its answer, in seconds.',
    type: 'histogram',
    values: () => {
      const out = [];
      for (const s of all) {
        let cumulative = 0;
        for (let i = 0; i <= bounds.length; i++) {
          cumulative += s.buckets[i];
          const le = i < bounds.length ? boundLabels[i] : '+Inf';
          out.push({
            metricName: `${durationName}_bucket`,
            value: cumulative,
            labels: { zone: s.zone, qtype: s.qtype, rcode: s.rcode, le },
          });
        }
        const labels = { zone: s.zone, qtype: s.qtype, rcode: s.rcode };
        out.push({ metricName: `${durationName}_sum`, value: s.sum, labels });
        out.push({ metricName: `${durationName}_count`, value: s.count, labels });
      }
      return out;
    },
  });

  if (coredns) {
    registerCorednsSeries(registry, coredns.server, bounds, () => all);
  }

  return {
    observe(zone, qtype, rcode, seconds, via) {
      const s = series(zone, qtype, rcode);
      if (viaSlots !== 0 && via !== undefined) s.via[viaSlot(via)]++;
      s.count++;
      s.sum += seconds;
      let i = 0;
      while (i < bounds.length && seconds > bounds[i]) i++;
      s.buckets[i]++;
    },
    reset() {
      tree = new Map();
      all = [];
    },
  };
}
