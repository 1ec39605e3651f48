import { decode, QTYPE } from '@mdns/protocol';
import { DnsQueryError, dnsQuery } from '@mdns/transport';
import { type Classification, classifyFailure, classifyReply } from '../fanout/classify.js';
import type { HealthLimits, UpstreamHealth } from './health.js';

/** Settings shared by every upstream (the `upstream:` key of the config). */
export interface UpstreamLimits extends HealthLimits {
  probeIntervalMs: number;
}

/** One gateway of one zone. */
export interface UpstreamAddress {
  zone: string;
  name: string;
  address: string;
  port: number;
}

/** What asking one upstream gave: the outcome plus what `explain` and metrics want to show. */
export interface Exchange {
  upstream: Upstream;
  outcome: Classification;
  /** ms from sending to the reply or the failure. */
  elapsedMs: number;
  /** The timeout this query used (learned from RTT). */
  timeoutMs: number;
  transport: 'udp' | 'tcp' | null;
  /** True when the fan-out cancelled it because the answer was already decided. */
  aborted: boolean;
}

/** Health identity: a reload keeps the health of an upstream whose key did not change. */
export function upstreamKey(u: UpstreamAddress): string {
  return `${u.zone}|${u.name}|${u.address}|${u.port}`;
}

export class Upstream implements UpstreamAddress {
  readonly zone: string;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly key: string;

  constructor(
    where: UpstreamAddress,
    readonly health: UpstreamHealth,
    readonly limits: UpstreamLimits,
  ) {
    this.zone = where.zone;
    this.name = where.name;
    this.address = where.address;
    this.port = where.port;
    this.key = upstreamKey(where);
  }

  get healthy(): boolean {
    return this.health.healthy;
  }

  /**
   * Ask (qname, qtype) with the learned timeout. Never rejects: failures are FAILED outcomes.
   * Random ID and source port, reply checks, EDNS 1232 and the TC=1 -> TCP retry are the
   * transport client's (see @mdns/transport).
   */
  async ask(
    qname: string,
    qtype: number,
    signal?: AbortSignal,
    timeoutOverrideMs?: number,
  ): Promise<Exchange> {
    const timeoutMs = timeoutOverrideMs ?? this.health.timeoutMs(this.limits);
    const started = performance.now();
    this.health.stats.requests++;
    try {
      const reply = await dnsQuery({
        host: this.address,
        port: this.port,
        name: qname,
        type: qtype,
        rd: false,
        udpSize: 1232,
        timeoutMs,
        signal,
      });
      const decoded = decode(reply.bytes);
      const outcome = decoded.ok
        ? classifyReply(
            { rcode: reply.rcode, answers: decoded.message.answers ?? [] },
            qname,
            qtype,
          )
        : classifyFailure(`reply does not decode: ${decoded.error}`);
      this.health.onReply(
        reply.rcode,
        reply.rttMs,
        outcome.class !== 'FAILED',
        this.limits,
        Date.now(),
      );
      return {
        upstream: this,
        outcome,
        elapsedMs: reply.rttMs,
        timeoutMs,
        transport: reply.transport,
        aborted: false,
      };
    } catch (error) {
      const elapsedMs = performance.now() - started;
      const kind = error instanceof DnsQueryError ? error.kind : 'network';
      const message = error instanceof Error ? error.message : String(error);
      if (kind === 'aborted') {
        this.health.stats.aborted++;
        return {
          upstream: this,
          outcome: classifyFailure('cancelled: answer already decided'),
          elapsedMs,
          timeoutMs,
          transport: null,
          aborted: true,
        };
      }
      const reason = kind === 'timeout' ? `timeout after ${timeoutMs} ms` : `${kind}: ${message}`;
      this.health.onNoReply(kind, reason, this.limits, Date.now());
      return {
        upstream: this,
        outcome: classifyFailure(reason),
        elapsedMs,
        timeoutMs,
        transport: null,
        aborted: false,
      };
    }
  }

  /**
   * Background health check: the zone's SOA with the ceiling timeout (a slow but alive
   * cluster must be able to pass). A reply that is not FAILED closes the circuit.
   */
  async probe(signal?: AbortSignal): Promise<boolean> {
    this.health.stats.probes++;
    const ex = await this.ask(this.zone, QTYPE.SOA, signal, this.limits.ceilingMs);
    const ok = ex.outcome.class !== 'FAILED';
    if (!ok && !ex.aborted) this.health.stats.probeFailures++;
    return ok;
  }
}
