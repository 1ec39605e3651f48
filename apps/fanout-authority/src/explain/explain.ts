import { rcodeLabel } from '@mdns/ops';
import { type DnsRecord, normalizeName, QTYPE, typeName, typeNumber } from '@mdns/protocol';
import type { AnswerCache } from '../cache/index.js';
import type { Runtime } from '../config/runtime.js';
import { fanout } from '../fanout/fanout.js';
import type { Replica } from '../replica/replica.js';

/**
 * `explain`: one fan-out for (name, type) with every upstream's reply kept, for an operator
 * asking "why did I get this answer?". It bypasses the cache (and says what the cache holds),
 * waits for every upstream instead of cancelling the losers, and reports the decision the
 * live path takes at the moment it takes it.
 */
export interface ExplainUpstream {
  name: string;
  address: string;
  priority: number;
  health: 'healthy' | 'unhealthy (circuit open)';
  timeoutMs: number;
  srttMs: number | null;
  asked: boolean;
  class: string | null;
  rcode: string | null;
  records: string[];
  /** The additional records kept from its reply (SRV/MX target addresses in the zone). */
  additional: string[];
  elapsedMs: number | null;
  transport: string | null;
  reason: string;
  won: boolean;
  /** True when this upstream was answered from its replica, not asked. */
  fromReplica: boolean;
  /** This authority's copy of the upstream's zone (`transfer.enabled`); null without one. */
  replica: ExplainReplica | null;
}

export interface ExplainReplica {
  state: 'loading' | 'loaded' | 'expired';
  serial: number | null;
  ageSeconds: number | null;
  records: number;
  lastTransfer: { at: string; kind: string; result: string; detail: string } | null;
}

export interface ExplainReport {
  name: string;
  type: string;
  zone: string | null;
  policy: string | null;
  /** Set when the name is not fanned out (out of zone, apex, glue, ANY, transfers). */
  local: string | null;
  cache: unknown;
  upstreams: ExplainUpstream[];
  decision: { kind: string; why: string; afterMs: number } | null;
}

export type ExplainRequest =
  | { ok: true; name: string; qtype: number }
  | { ok: false; error: string };

/** Validates `name` and `type` (a mnemonic or a number) from a URL or the command line. */
export function parseExplainRequest(
  name: string | null | undefined,
  type: string | null | undefined,
): ExplainRequest {
  if (!name) return { ok: false, error: 'name is required' };
  const qtype = type ? (/^\d+$/.test(type) ? Number(type) : typeNumber(type)) : QTYPE.A;
  if (qtype === undefined || qtype > 65535) return { ok: false, error: `unknown type "${type}"` };
  return { ok: true, name: normalizeName(name), qtype };
}

export async function explain(
  rt: Runtime,
  name: string,
  qtype: number,
  cache: AnswerCache | null,
): Promise<ExplainReport> {
  const zoneName = rt.zoneSet.match(name) ?? null;
  const report: ExplainReport = {
    name,
    type: typeName(qtype),
    zone: zoneName,
    policy: null,
    local: null,
    cache: null,
    upstreams: [],
    decision: null,
  };
  const zone = zoneName === null ? undefined : rt.zones.get(zoneName);
  if (zone === undefined) {
    report.local = 'REFUSED: the name is not in a served zone';
    return report;
  }
  report.policy = zone.policy;
  if (qtype === QTYPE.AXFR || qtype === QTYPE.IXFR)
    report.local = 'REFUSED: zone transfers are disabled';
  else if (qtype === QTYPE.ANY) report.local = 'RFC 8482 HINFO answered locally';
  else if (name === zone.name && (qtype === QTYPE.SOA || qtype === QTYPE.NS))
    report.local = 'apex SOA/NS answered locally';
  else if ((qtype === QTYPE.A || qtype === QTYPE.AAAA) && zone.apex.glue.has(name)) {
    report.local = 'nameserver address answered locally from glue';
  }
  if (report.local !== null) return report;

  try {
    report.cache = cache?.peek(cache.key(name, qtype, 1, false), Date.now()) ?? null;
  } catch {
    report.cache = 'cache lookup failed';
  }
  const before = zone.members.map((m) => ({
    healthy: m.upstream.healthy,
    timeoutMs: m.upstream.health.timeoutMs(m.upstream.limits),
  }));
  const result = await fanout(zone, name, qtype, {
    allPolicyWaitMs: rt.allPolicyWaitMs,
    waitForAll: true,
  });
  report.decision = {
    kind: result.decision.kind,
    why: result.decision.why,
    afterMs: round(result.decidedAfterMs),
  };
  report.upstreams = zone.members.map((m, i) => {
    const ex = result.exchanges[i];
    const u = m.upstream;
    const replicaOutcome = result.fromReplica[i];
    // Who the upstream is and how it stood before the query, however it was answered.
    const upstream: Pick<
      ExplainUpstream,
      'name' | 'address' | 'priority' | 'health' | 'timeoutMs' | 'srttMs'
    > = {
      name: u.name,
      address: `${u.address}:${u.port}`,
      priority: m.priority,
      health: before[i].healthy ? 'healthy' : 'unhealthy (circuit open)',
      timeoutMs: before[i].timeoutMs,
      srttMs: u.health.rtt.srtt === null ? null : round(u.health.rtt.srtt),
    };
    if (replicaOutcome !== null) {
      return {
        ...upstream,
        asked: false,
        class: replicaOutcome.class,
        rcode: replicaOutcome.rcode === null ? null : rcodeLabel(replicaOutcome.rcode),
        records: replicaOutcome.records.map(presentRecord),
        additional: replicaOutcome.additionals?.map(presentRecord) ?? [],
        elapsedMs: null,
        transport: null,
        reason: `answered from the replica: ${replicaOutcome.reason}`,
        won: result.winners.includes(u.name),
        fromReplica: true,
        replica: explainReplica(m.replica),
      } satisfies ExplainUpstream;
    }
    return {
      ...upstream,
      asked: ex !== null,
      class: ex?.outcome.class ?? null,
      rcode: ex?.outcome.rcode == null ? null : rcodeLabel(ex.outcome.rcode),
      records: ex?.outcome.records.map(presentRecord) ?? [],
      additional: ex?.outcome.additionals?.map(presentRecord) ?? [],
      elapsedMs: ex ? round(ex.elapsedMs) : null,
      transport: ex?.transport ?? null,
      reason: ex ? ex.outcome.reason : 'skipped: circuit open, not asked',
      won: result.winners.includes(u.name),
      fromReplica: false,
      replica: explainReplica(m.replica),
    } satisfies ExplainUpstream;
  });
  return report;
}

function explainReplica(replica: Replica | null): ExplainReplica | null {
  if (replica === null) return null;
  const st = replica.status();
  const last = st.lastTransfer;
  return {
    state: st.state,
    serial: st.serial,
    ageSeconds: st.ageSeconds === null ? null : Math.round(st.ageSeconds),
    records: st.records,
    lastTransfer:
      last === null
        ? null
        : {
            at: new Date(last.atMs).toISOString(),
            kind: last.kind,
            result: last.result,
            detail: last.detail,
          },
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

export function presentRecord(rr: DnsRecord): string {
  const r = rr as { name: string; type: string; ttl?: number; class?: string; data?: unknown };
  const data = typeof r.data === 'string' ? r.data : JSON.stringify(r.data);
  return `${r.name} ${r.ttl ?? 0} ${r.class ?? 'IN'} ${r.type} ${data}`;
}

/** The report as text for a terminal. */
export function formatExplain(r: ExplainReport): string {
  const lines = [`${r.name} ${r.type}`];
  if (r.zone === null || r.local !== null) {
    lines.push(`  ${r.local}`);
    return lines.join('\n') + '\n';
  }
  lines.push(`  zone ${r.zone}, policy ${r.policy}`);
  if (r.cache) lines.push(`  cache: ${JSON.stringify(r.cache)}`);
  for (const u of r.upstreams) {
    const head = `  ${u.won ? '*' : ' '} ${u.name} (${u.address}, priority ${u.priority}) ${u.health}, timeout ${u.timeoutMs} ms`;
    lines.push(head);
    if (u.replica !== null) {
      const r = u.replica;
      const last = r.lastTransfer;
      lines.push(
        `      replica ${r.state}, serial ${r.serial ?? '-'}, ${r.records} records, age ${r.ageSeconds ?? '-'} s; last transfer: ${last ? `${last.kind} ${last.result} at ${last.at} (${last.detail})` : 'none yet'}`,
      );
    }
    if (u.fromReplica) {
      lines.push(`      ${u.class} from the replica: ${u.reason}`);
      for (const rec of u.records) lines.push(`        ${rec}`);
      for (const rec of u.additional) lines.push(`        additional: ${rec}`);
      continue;
    }
    if (!u.asked) {
      lines.push(`      ${u.reason}`);
      continue;
    }
    lines.push(
      `      ${u.class} rcode=${u.rcode ?? '-'} after ${u.elapsedMs} ms over ${u.transport ?? '-'}: ${u.reason}`,
    );
    for (const rec of u.records) lines.push(`        ${rec}`);
    for (const rec of u.additional) lines.push(`        additional: ${rec}`);
  }
  if (r.decision) {
    lines.push(
      `  decision: ${r.decision.kind.toUpperCase()} after ${r.decision.afterMs} ms: ${r.decision.why}`,
    );
  }
  return lines.join('\n') + '\n';
}
