import {
  type DnsQueryMetrics,
  dnsQueryMetrics,
  exportCounters,
  rcodeLabel,
  registerCollected,
} from '@mdns/ops';
import type { Registry } from 'prom-client';
import { type AnswerCache, emptyCacheStats } from './cache/index.js';
import type { Runtime } from './config/runtime.js';
import type { Replica } from './replica/replica.js';
import { UPSTREAM_LATENCY_BUCKETS } from './upstream/health.js';

export const METRICS_PREFIX = 'mdns_authority_';

/** Plain counters bumped on the hot path; formatted only when Prometheus scrapes. */
export interface AuthorityMetrics {
  queries: DnsQueryMetrics;
  /** Fan-out decisions by kind: positive, nodata, nxdomain, failed. */
  fanout: Record<'positive' | 'nodata' | 'nxdomain' | 'failed', number>;
  /** Answers by where they came from. */
  answers: Record<'local' | 'cache' | 'fanout' | 'replica' | 'stale' | 'servfail', number>;
  /** `unauthenticated`: from an upstream's address, but without the TSIG its replica requires. */
  notify: Record<'accepted' | 'refused' | 'unauthenticated', number>;
  /** Cache invalidations by NOTIFY: at once, trailing (coalesced ones done), coalesced NOTIFYs. */
  notifyInvalidations: Record<'immediate' | 'trailing' | 'coalesced', number>;
  /** Misses over a source's rate limit, by what they got instead of a fan-out. */
  ratelimited: Record<'truncated' | 'refused' | 'stale', number>;
  /** Failed fan-outs that asked the sibling workers for their cache entry, by result. */
  siblingStale: Record<'served' | 'none', number>;
  /** Cache calls that threw (the answer went on without the cache). */
  cacheErrors: number;
  prefetches: number;
}

const P = METRICS_PREFIX;

export function registerAuthorityMetrics(
  registry: Registry,
  runtime: () => Runtime,
  cache: () => AnswerCache | null,
  /** Set (config `metrics.corednsCompatible`): also export CoreDNS's query series. */
  coredns?: { server: string },
): AuthorityMetrics {
  const m: AuthorityMetrics = {
    queries: dnsQueryMetrics(registry, P, { coredns }),
    fanout: { positive: 0, nodata: 0, nxdomain: 0, failed: 0 },
    answers: { local: 0, cache: 0, fanout: 0, replica: 0, stale: 0, servfail: 0 },
    notify: { accepted: 0, refused: 0, unauthenticated: 0 },
    notifyInvalidations: { immediate: 0, trailing: 0, coalesced: 0 },
    ratelimited: { truncated: 0, refused: 0, stale: 0 },
    siblingStale: { served: 0, none: 0 },
    cacheErrors: 0,
    prefetches: 0,
  };
  const record =
    <K extends string>(r: Record<K, number>, label: string) =>
    () =>
      (Object.keys(r) as K[]).map((k) => ({ value: r[k], labels: { [label]: k } }));

  registerCollected(registry, {
    name: `${P}fanout_decisions_total`,
    help: 'Fan-out results by decision (positive, nodata, nxdomain, failed).',
    type: 'counter',
    values: record(m.fanout, 'decision'),
  });
  registerCollected(registry, {
    name: `${P}answers_total`,
    help: 'Answers by source: local (apex, errors), cache, fanout (asked the network), replica (only replicas, no network), stale, servfail.',
    type: 'counter',
    values: record(m.answers, 'source'),
  });
  registerCollected(registry, {
    name: `${P}notify_total`,
    help: 'NOTIFY messages by result.',
    type: 'counter',
    values: record(m.notify, 'result'),
  });
  registerCollected(registry, {
    name: `${P}notify_invalidations_total`,
    help: 'Accepted NOTIFYs by effect: immediate or trailing invalidation, or coalesced into one.',
    type: 'counter',
    values: record(m.notifyInvalidations, 'result'),
  });
  registerCollected(registry, {
    name: `${P}ratelimited_total`,
    help: 'Cache misses over the per-source limit, by answer: truncated (UDP), refused (TCP), stale.',
    type: 'counter',
    values: record(m.ratelimited, 'action'),
  });
  registerCollected(registry, {
    name: `${P}sibling_stale_total`,
    help: 'Failed fan-outs (listen.workers > 1) that asked the other workers for their cache entry: served, or none held.',
    type: 'counter',
    values: record(m.siblingStale, 'result'),
  });
  registerCollected(registry, {
    name: `${P}cache_errors_total`,
    help: 'Cache calls that threw; the answer continued without the cache.',
    type: 'counter',
    values: () => [{ value: m.cacheErrors }],
  });
  exportCounters(registry, `${P}cache_`, () => ({ ...(cache()?.stats ?? emptyCacheStats()) }), {
    gauges: ['entries', 'bytes', 'negativeEntries', 'negativeBytes'],
  });
  registerUpstreamMetrics(registry, runtime);
  registerReplicaMetrics(registry, runtime);
  return m;
}

/** Per replica (upstreams with `transfer.enabled`): pulls, and what the copy is now. */
function registerReplicaMetrics(registry: Registry, runtime: () => Runtime): void {
  const each =
    <T>(f: (r: Replica, labels: { zone: string; upstream: string }) => T[]) =>
    () =>
      [...runtime().replicas.values()].flatMap((r) =>
        f(r, { zone: r.upstream.zone, upstream: r.upstream.name }),
      );
  registerCollected(registry, {
    name: `${P}replica_transfers_total`,
    // With several workers each worker reports the primary's counts (replica/share.ts): max,
    // not the sum.
    help: 'Zone transfers from each upstream by kind (AXFR, IXFR) and result (axfr, ixfr, up-to-date, or why it was rejected: connect, timeout, cut, rcode, tsig, soa-mismatch, out-of-zone, serial-backwards, ixfr-mismatch, too-large, malformed).',
    type: 'counter',
    aggregator: 'max',
    values: each((r, labels) =>
      [...r.transfers].map(([k, value]) => {
        const [kind, result] = k.split('|');
        return { value, labels: { ...labels, kind, result } };
      }),
    ),
  });
  registerCollected(registry, {
    name: `${P}replica_answers_total`,
    help: 'Upstream outcomes given from the copy instead of a query to the upstream (the rest: upstream_requests_total).',
    type: 'counter',
    values: each((r, labels) => [{ value: r.answered, labels }]),
  });
  registerCollected(registry, {
    name: `${P}replica_serial`,
    help: 'SOA serial of the copy held of each upstream (absent before the first transfer); with several workers the oldest any worker holds.',
    type: 'gauge',
    aggregator: 'min',
    values: each((r, labels) => {
      const st = r.status();
      return st.serial === null ? [] : [{ value: st.serial, labels }];
    }),
  });
  registerCollected(registry, {
    name: `${P}replica_age_seconds`,
    help: 'Seconds since the upstream last confirmed the copy; it stops being served at expire.',
    type: 'gauge',
    aggregator: 'max',
    values: each((r, labels) => {
      const st = r.status();
      return st.ageSeconds === null ? [] : [{ value: st.ageSeconds, labels }];
    }),
  });
  registerCollected(registry, {
    name: `${P}replica_records`,
    help: 'Records in the copy held of each upstream.',
    type: 'gauge',
    aggregator: 'max',
    values: each((r, labels) => [{ value: r.status().records, labels }]),
  });
  registerCollected(registry, {
    name: `${P}replica_fresh`,
    help: '1 while the copy of the upstream answers queries (loaded, not expired), else 0.',
    type: 'gauge',
    aggregator: 'min',
    values: each((r, labels) => [{ value: r.fresh() === null ? 0 : 1, labels }]),
  });
}

/** Failure kinds exported from the start, at 0, so `rate()` and dashboards see them before the first one. */
const FAILURE_KINDS = ['timeout', 'network', 'malformed'] as const;

/** Counts per failure kind: the well-known kinds always (0 until seen), then any other seen. */
export function failureCounts(failures: ReadonlyMap<string, number>): [string, number][] {
  const out: [string, number][] = FAILURE_KINDS.map((k) => [k, failures.get(k) ?? 0]);
  for (const [kind, n] of failures) {
    if (!(FAILURE_KINDS as readonly string[]).includes(kind)) out.push([kind, n]);
  }
  return out;
}

function registerUpstreamMetrics(registry: Registry, runtime: () => Runtime): void {
  const each =
    <T>(f: (u: Runtime['upstreams'][number], labels: { zone: string; upstream: string }) => T[]) =>
    () =>
      runtime().upstreams.flatMap((u) => f(u, { zone: u.zone, upstream: u.name }));

  registerCollected(registry, {
    name: `${P}upstream_requests_total`,
    help: 'Queries sent to each upstream (client fan-outs and health probes).',
    type: 'counter',
    values: each((u, labels) => [{ value: u.health.stats.requests, labels }]),
  });
  registerCollected(registry, {
    name: `${P}upstream_replies_total`,
    help: 'Replies from each upstream by rcode.',
    type: 'counter',
    values: each((u, labels) =>
      [...u.health.stats.replies].map(([rcode, value]) => ({
        value,
        labels: { ...labels, rcode: rcodeLabel(rcode) },
      })),
    ),
  });
  registerCollected(registry, {
    name: `${P}upstream_failures_total`,
    help: 'Upstream queries without a usable reply, by kind (timeout, network, malformed).',
    type: 'counter',
    values: each((u, labels) =>
      failureCounts(u.health.stats.failures).map(([kind, value]) => ({
        value,
        labels: { ...labels, kind },
      })),
    ),
  });
  registerCollected(registry, {
    name: `${P}upstream_name_errors_total`,
    help: 'Error rcodes (SERVFAIL, REFUSED, ...) for one client name: the name failed, not the upstream (never toward the circuit).',
    type: 'counter',
    values: each((u, labels) => [{ value: u.health.stats.nameErrors, labels }]),
  });
  registerCollected(registry, {
    name: `${P}upstream_local_errors_total`,
    help: 'Queries for this upstream never sent because of our side (a name we cannot encode, our bug): never toward the circuit.',
    type: 'counter',
    values: each((u, labels) => [{ value: u.health.stats.localErrors, labels }]),
  });
  registerCollected(registry, {
    name: `${P}upstream_healthy`,
    help: '1 while the upstream circuit is closed (queried), 0 while open (skipped, probed).',
    type: 'gauge',
    // Per worker: 0 when any worker has the circuit open.
    aggregator: 'min',
    values: each((u, labels) => [{ value: u.healthy ? 1 : 0, labels }]),
  });
  registerCollected(registry, {
    name: `${P}upstream_timeout_seconds`,
    help: 'Current learned timeout per upstream: clamp(srtt + 4 * rttvar, floor, ceiling).',
    type: 'gauge',
    // Every worker holds its own copy: merged with max, not summed.
    aggregator: 'max',
    values: each((u, labels) => [{ value: u.health.timeoutMs(u.limits) / 1000, labels }]),
  });
  registerCollected(registry, {
    name: `${P}upstream_circuit_opens_total`,
    help: 'Times the upstream circuit opened.',
    type: 'counter',
    values: each((u, labels) => [{ value: u.health.stats.circuitOpens, labels }]),
  });
  const latency = `${P}upstream_latency_seconds`;
  registerCollected(registry, {
    name: latency,
    help: 'Upstream round-trip time of replies, in seconds.',
    type: 'histogram',
    values: each((u, labels) => {
      const s = u.health.stats;
      const out = [];
      let cumulative = 0;
      for (let i = 0; i <= UPSTREAM_LATENCY_BUCKETS.length; i++) {
        cumulative += s.latencyBuckets[i];
        const le =
          i < UPSTREAM_LATENCY_BUCKETS.length ? String(UPSTREAM_LATENCY_BUCKETS[i]) : '+Inf';
        out.push({ metricName: `${latency}_bucket`, value: cumulative, labels: { ...labels, le } });
      }
      out.push({ metricName: `${latency}_sum`, value: s.latencySum, labels });
      out.push({ metricName: `${latency}_count`, value: s.latencyCount, labels });
      return out;
    }),
  });
}
