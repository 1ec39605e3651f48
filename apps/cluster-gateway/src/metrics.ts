import {
  type DnsQueryMetrics,
  dnsQueryMetrics,
  exportCounters,
  type NotifyCounters,
  registerCollected,
  TRANSFER_COUNTER_HELP,
  type TransferCounters,
} from '@mdns/ops';
import type { Registry } from 'prom-client';
import type { HandlerCounters } from './dns/handler.js';
import type { GatewayIndex } from './index/gateway-index.js';
import { secondsSince } from './index/readiness.js';
import { REJECT_REASONS, type RejectionCounts } from './sources/claims/context.js';
import type { HealthTally } from './sources/health/tally.js';
import type { SourceKind } from './sources/types.js';

export const METRICS_PREFIX = 'mdns_gateway_';
const PREFIX = METRICS_PREFIX;
const PHASES = ['syncing', 'synced', 'absent', 'forbidden', 'error'] as const;

export interface GatewayMetricsInputs {
  registry: Registry;
  kinds: readonly SourceKind[];
  index: GatewayIndex;
  transport: () => Readonly<Record<string, unknown>>;
  handler: HandlerCounters;
  /** null in a worker of several: the primary sends the NOTIFYs and exports them. */
  notify: NotifyCounters | null;
  transfer: TransferCounters;
  /** The `/ready` decision (the sync latch): exported so an alert can see it. */
  ready: () => boolean;
  /** Set (config `metrics.corednsCompatible`): also export CoreDNS's query series. */
  coredns?: { server: string };
  /**
   * What only the sources count; null in a worker of a multi-worker process, where the
   * sources run in the primary and the primary exports these (`registerSourceMetrics`).
   */
  sources: SourceCounts | null;
}

export interface SourceCounts {
  /** Claims refused by a tenant-safety rule, per reason (counted by the sources). */
  rejected: RejectionCounts;
  /** Objects held back for health and health flips (`sources.health`). */
  health: HealthTally;
}

/**
 * Registers every gateway series. Values are read at scrape time from state the gateway
 * already keeps, so the answer path only pays for `observe` (plain number updates).
 */
export function registerGatewayMetrics(inputs: GatewayMetricsInputs): DnsQueryMetrics {
  const { registry, kinds, index } = inputs;
  const queries = dnsQueryMetrics(registry, PREFIX, { coredns: inputs.coredns });

  registerCollected(registry, {
    name: `${PREFIX}index_names`,
    help: 'Names claimed in the record index, by source kind.',
    type: 'gauge',
    // Every worker holds its own copy: merged with max, not summed.
    aggregator: 'max',
    values: () =>
      kinds.map((kind) => ({ value: index.namesPerKind().get(kind) ?? 0, labels: { kind } })),
  });
  registerCollected(registry, {
    name: `${PREFIX}index_objects`,
    help: 'Objects with claims in the record index, by source kind.',
    type: 'gauge',
    // Every worker holds its own copy: merged with max, not summed.
    aggregator: 'max',
    values: () => kinds.map((kind) => ({ value: index.objectsPerKind(kind), labels: { kind } })),
  });
  registerCollected(registry, {
    name: `${PREFIX}index_generation`,
    help: 'Changes applied to the record index since start.',
    type: 'counter',
    // Every worker holds its own copy: merged with max, not summed.
    aggregator: 'max',
    values: () => [{ value: index.generation }],
  });
  registerCollected(registry, {
    name: `${PREFIX}sync_state`,
    help: 'Watch state per source kind: 1 for the current phase, 0 for the others.',
    type: 'gauge',
    // Per worker 1/0: merged as the share of workers in each phase.
    aggregator: 'average',
    values: () =>
      kinds.flatMap((kind) => {
        const phase = index.kindState(kind)?.phase;
        return PHASES.map((p) => ({ value: phase === p ? 1 : 0, labels: { kind, phase: p } }));
      }),
  });
  registerCollected(registry, {
    name: `${PREFIX}ready`,
    help: '1 once the first full sync is done (what /ready reports), 0 before.',
    type: 'gauge',
    // Ready only when every worker is.
    aggregator: 'min',
    values: () => [{ value: inputs.ready() ? 1 : 0 }],
  });
  registerCollected(registry, {
    name: `${PREFIX}seconds_since_last_event`,
    help: 'Seconds since the last successful list or watch event per source kind (-1: none yet).',
    type: 'gauge',
    // Every worker holds its own copy: merged with max, not summed.
    aggregator: 'max',
    values: () => {
      const now = Date.now();
      return kinds.map((kind) => ({
        value: secondsSince(index.kindState(kind)?.lastEventAt ?? null, now) ?? -1,
        labels: { kind },
      }));
    },
  });
  registerCollected(registry, {
    name: `${PREFIX}index_contested_names`,
    help: 'Names where another namespace claims a name its first claimant owns (sources.ownership.conflicts: first-claimant).',
    type: 'gauge',
    aggregator: 'max',
    values: () => [{ value: index.contested }],
  });
  if (inputs.sources !== null) registerSourceMetrics(registry, kinds, index, inputs.sources);
  exportCounters(registry, `${PREFIX}transport_`, inputs.transport, { gauges: ['tcpOpen'] });
  exportCounters(registry, `${PREFIX}handler_`, () => ({ ...inputs.handler }), {
    help: {
      malformed: 'Packets dropped without an answer: not a DNS query.',
      storedHits: 'Answers served from built bytes (same name and type, index unchanged).',
      storedMisses: 'Answers built from the index.',
    },
  });
  const notify = inputs.notify;
  if (notify !== null) exportCounters(registry, `${PREFIX}notify_`, () => ({ ...notify }));
  exportCounters(registry, `${PREFIX}transfer_`, () => ({ ...inputs.transfer }), {
    help: TRANSFER_COUNTER_HELP,
  });
  return queries;
}

/**
 * The series of what the sources count (refused claims, health), with `index` the index the
 * same sources feed: in a single process its own; with workers, the primary's (which runs
 * the sources once) in the primary's registry.
 */
export function registerSourceMetrics(
  registry: Registry,
  kinds: readonly SourceKind[],
  index: GatewayIndex,
  counts: SourceCounts,
): void {
  registerCollected(registry, {
    name: `${PREFIX}lists_total`,
    help: 'Full lists applied per source kind: the first sync plus every re-list.',
    type: 'counter',
    // Counted where the sources run (the primary, with workers).
    aggregator: 'max',
    values: () => kinds.map((kind) => ({ value: index.listsPerKind(kind), labels: { kind } })),
  });
  registerCollected(registry, {
    name: `${PREFIX}claims_rejected_total`,
    help: 'Claims (or parts) refused by a tenant-safety rule, by reason: ownership, wildcard, external_ips, txt, object_too_large, unsupported (an annotation key or value mdns does not read).',
    type: 'counter',
    // One process holds them (the primary, with workers): max of one is the value.
    aggregator: 'max',
    values: () =>
      REJECT_REASONS.map((reason) => ({ value: counts.rejected[reason], labels: { reason } })),
  });
  registerCollected(registry, {
    name: `${PREFIX}health_objects`,
    help: 'Objects with claims by health (sources.health): unhealthy ones have no ready endpoint and are not answered.',
    type: 'gauge',
    aggregator: 'max',
    values: () =>
      kinds.flatMap((kind) => {
        const unhealthy = counts.health.unhealthy(kind);
        const all = index.objectsPerKind(kind);
        return [
          { value: Math.max(0, all - unhealthy), labels: { kind, health: 'healthy' } },
          { value: unhealthy, labels: { kind, health: 'unhealthy' } },
        ];
      }),
  });
  registerCollected(registry, {
    name: `${PREFIX}health_transitions_total`,
    help: 'Objects whose answers turned healthy or unhealthy (backend ready endpoints), by the health they turned to.',
    type: 'counter',
    aggregator: 'max',
    values: () => [
      { value: counts.health.transitions.healthy, labels: { to: 'healthy' } },
      { value: counts.health.transitions.unhealthy, labels: { to: 'unhealthy' } },
    ],
  });
}
