import {
  DEFAULT_UDP_SIZE,
  type DnsRecord,
  decode,
  QTYPE,
  RCODE,
  scanAnswerChain,
} from '@mdns/protocol';
import {
  type DnsClient,
  type DnsClientQuery,
  DnsQueryError,
  type DnsQueryResult,
  type PendingQuery,
} from '@mdns/transport';
import { blame } from './blame.js';
import {
  type Classification,
  classifyFailure,
  classifyReply,
  classifyScanned,
} from './classify.js';
import type { HealthLimits, SiblingTransition, UpstreamHealth } from './health.js';
import { lagAwareTimeoutMs, recentLoopLagMs, timeoutIsInconclusive } from './loop-lag.js';

/** Settings shared by every upstream (the `upstream:` key of the config). */
export interface UpstreamLimits extends HealthLimits {
  probeIntervalMs: number;
  /** 0x20: random case on the question name, exact echo required (default true). */
  randomCase?: boolean;
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

export type ExchangeCallback = (exchange: Exchange) => void;

/**
 * The fan-out's form of `ExchangeCallback`: one object hears every upstream it asked, each
 * by its `slot`, so a fan-out allocates no closure per upstream query.
 */
export interface ExchangeListener {
  onExchange(slot: number, exchange: Exchange): void;
}

/** `send`'s callback as a listener (probes, `explain`: off the miss path). */
class CallbackListener implements ExchangeListener {
  constructor(private readonly done: ExchangeCallback) {}
  onExchange(_slot: number, exchange: Exchange): void {
    this.done(exchange);
  }
}

const NO_RECORDS: readonly DnsRecord[] = [];

export class Upstream implements UpstreamAddress {
  readonly zone: string;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly key: string;
  private recheckInFlight = false;
  private readonly queryOptions: DnsClientQuery;
  /** Queries sent and not yet settled: released at once when the circuit opens. */
  private readonly inflight = new Set<UpstreamQuery>();
  /** One per upstream (not per query): a reply that arrived after its query timed out. */
  private readonly onLate = (late: DnsQueryResult) => {
    const good = late.rcode === RCODE.NOERROR || late.rcode === RCODE.NXDOMAIN;
    const wasHealthy = this.health.healthy;
    this.health.onLateReply(late.rttMs, good, this.limits, Date.now());
    if (this.health.healthy !== wasHealthy) this.onCircuitChange?.(this);
  };

  constructor(
    where: UpstreamAddress,
    readonly health: UpstreamHealth,
    readonly limits: UpstreamLimits,
    /**
     * The process's upstream socket pool (`upstream.sockets`), owned by main: shared by every
     * upstream, replaced by a reload that changes the pool size, closed at shutdown.
     */
    private readonly client: DnsClient,
    /**
     * Called when this worker's own replies and failures flip the circuit (open or closed),
     * not when a sibling's news does (`receive`): listen.workers > 1 tells the siblings.
     */
    private readonly onCircuitChange?: (upstream: Upstream) => void,
  ) {
    this.zone = where.zone;
    this.name = where.name;
    this.address = where.address;
    this.port = where.port;
    this.key = upstreamKey(where);
    this.queryOptions = {
      host: this.address,
      port: this.port,
      name: '',
      type: 0,
      rd: false,
      udpSize: DEFAULT_UDP_SIZE,
      timeoutMs: 0,
      randomCase: true,
    };
  }

  get healthy(): boolean {
    return this.health.healthy;
  }

  /**
   * Ask (qname, qtype) with the learned timeout; `done` gets the Exchange (never an error:
   * failures are FAILED outcomes). `cancel()` on the returned query drops it silently: no
   * callback, no health penalty. Random ID, reply checks, EDNS (our DEFAULT_UDP_SIZE) and the TC=1 -> TCP
   * retry are the transport client's (see @mdns/transport `DnsClient`).
   */
  send(
    qname: string,
    qtype: number,
    done: ExchangeCallback,
    timeoutOverrideMs?: number,
  ): PendingQuery {
    return this.sendTo(new CallbackListener(done), 0, qname, qtype, timeoutOverrideMs);
  }

  /** `send`, reporting to `listener.onExchange(slot, exchange)` (the fan-out's hot path). */
  sendTo(
    listener: ExchangeListener,
    slot: number,
    qname: string,
    qtype: number,
    timeoutOverrideMs?: number,
  ): PendingQuery {
    const timeoutMs = timeoutOverrideMs ?? this.currentTimeoutMs();
    this.health.stats.requests++;
    const query = new UpstreamQuery(this, qname, qtype, timeoutMs, listener, slot);
    this.inflight.add(query);
    // The client reads the options synchronously and keeps none of them: one object per
    // upstream, not one per query.
    const options = this.queryOptions;
    options.name = qname;
    options.type = qtype;
    options.timeoutMs = timeoutMs;
    options.randomCase = this.limits.randomCase ?? true;
    query.pending = this.client.send(options, settleUpstreamQuery, this.onLate, query);
    return query;
  }

  /**
   * The learned timeout plus our own recent event-loop stall. Without an RTT sample (the
   * initial timeout, or the probe's wait) it is already generous, so it is used as is.
   */
  currentTimeoutMs(): number {
    const learned = this.health.timeoutMs(this.limits);
    if (this.health.rtt.srtt === null) return learned;
    return lagAwareTimeoutMs(learned, recentLoopLagMs(), this.limits.ceilingMs);
  }

  /** `send` as a promise, for probes and `explain`. */
  ask(qname: string, qtype: number, timeoutOverrideMs?: number): Promise<Exchange> {
    return new Promise((resolve) => this.send(qname, qtype, resolve, timeoutOverrideMs));
  }

  /**
   * Background health check: the zone's SOA with the ceiling timeout (a slow but alive
   * cluster must be able to pass). A reply that is not FAILED closes the circuit; its RTT is
   * a sample like any other, so the start-up probe teaches each upstream's timeout; a client
   * query sent before that first sample waits as long as the probe does (`timeoutMs` in
   * rtt.ts), so a far cluster's first answers are not failed by the initial guess.
   */
  probe(done: (ok: boolean) => void): PendingQuery {
    this.health.stats.probes++;
    const deadline = performance.now() + this.limits.ceilingMs;
    this.health.probeDeadlineMs = deadline;
    return this.send(
      this.zone,
      QTYPE.SOA,
      (ex) => {
        if (this.health.probeDeadlineMs === deadline) this.health.probeDeadlineMs = null;
        const ok = ex.outcome.class !== 'FAILED';
        if (!ok && !ex.aborted) this.health.stats.probeFailures++;
        done(ok);
      },
      this.limits.ceilingMs,
    );
  }

  /** @internal A query of ours was cancelled by its caller. */
  forget(query: UpstreamQuery): boolean {
    if (!this.inflight.delete(query)) return false;
    this.health.stats.aborted++;
    return true;
  }

  /**
   * A sibling worker's circuit transition for this upstream (upstream/share.ts): applied as if
   * learned here (circuit.ts `receivedCircuit`). An open one releases the queries waiting on
   * this upstream, so their fan-outs decide now; no extra probe (the sibling that opened it
   * probes at once; every worker's probe rounds go on).
   */
  receive(news: SiblingTransition): void {
    if (this.health.receive(news, this.limits) === 'opened') this.releaseInflight();
  }

  /** @internal The transport settled `query`. */
  settle(query: UpstreamQuery, outcome: DnsQueryResult | DnsQueryError): void {
    const wasHealthy = this.health.healthy;
    this.settleQuery(query, outcome);
    if (this.health.healthy !== wasHealthy) this.onCircuitChange?.(this);
  }

  private settleQuery(query: UpstreamQuery, outcome: DnsQueryResult | DnsQueryError): void {
    if (!this.inflight.delete(query)) return; // already released (circuit opened) or cancelled
    const elapsedMs = performance.now() - query.started;
    const apexCheck = query.qname === this.zone && query.qtype === QTYPE.SOA;
    if (outcome instanceof DnsQueryError) {
      if (outcome.kind === 'aborted') {
        this.health.stats.aborted++;
        query.done(
          query.exchange(classifyFailure('cancelled: client closed'), elapsedMs, null, true),
        );
        return;
      }
      if (blame({ kind: 'error', error: outcome.kind }, apexCheck) === 'ours') {
        this.health.onLocalError(outcome.message);
        query.done(query.exchange(classifyFailure(`not sent: ${outcome.message}`), 0, null, false));
        return;
      }
      const reason =
        outcome.kind === 'timeout'
          ? `timeout after ${query.timeoutMs} ms`
          : `${outcome.kind}: ${outcome.message}`;
      const inconclusive =
        outcome.kind === 'timeout' && timeoutIsInconclusive(recentLoopLagMs(), query.timeoutMs);
      const opened = this.health.onNoReply(
        outcome.kind,
        reason,
        this.limits,
        Date.now(),
        inconclusive,
      );
      query.done(query.exchange(classifyFailure(reason), elapsedMs, null, false));
      if (opened) this.circuitOpened();
      return;
    }
    const classification = classify(outcome, query.qname, query.qtype, this.zone);
    const settled = {
      kind: 'reply',
      rcode: outcome.rcode,
      usable: classification.class !== 'FAILED',
    } as const;
    if (blame(settled, apexCheck) === 'name') {
      this.health.onNameError(outcome.rcode, outcome.rttMs);
      query.done(query.exchange(classification, outcome.rttMs, outcome.transport, false));
      this.checkApex();
      return;
    }
    const opened = this.health.onReply(
      outcome.rcode,
      outcome.rttMs,
      classification.class !== 'FAILED',
      this.limits,
      Date.now(),
    );
    query.done(query.exchange(classification, outcome.rttMs, outcome.transport, false));
    if (opened) this.circuitOpened();
  }

  /**
   * The circuit just opened. Release the queries still waiting on this upstream, and probe it
   * once right away: if it was only stalled (a busy host, a burst of drops), the probe's reply
   * closes the circuit within one round trip instead of at the next probe round, seconds later.
   * A dead upstream costs one more probe per opening, and stays open.
   */
  private circuitOpened(): void {
    this.releaseInflight();
    this.checkApex();
  }

  /**
   * Probe the zone's SOA now unless a check is already on its way: after the circuit opened,
   * and after an error rcode for one name (is the cluster broken for the whole zone, or only
   * for that name?). At most one in flight, so the checks never outnumber the queries.
   */
  private checkApex(): void {
    if (this.recheckInFlight) return;
    this.recheckInFlight = true;
    this.probe(() => {
      this.recheckInFlight = false;
    });
  }

  /**
   * Every query still waiting on this upstream fails now instead of at its own timeout, so
   * the fan-outs waiting on it decide at once (the upstream is now known unhealthy). Not
   * counted as further failures.
   */
  private releaseInflight(): void {
    if (this.inflight.size === 0) return;
    const waiting = [...this.inflight];
    this.inflight.clear();
    for (const q of waiting) {
      q.pending?.cancel();
      q.done(
        q.exchange(
          classifyFailure('circuit opened while waiting'),
          performance.now() - q.started,
          null,
          false,
        ),
      );
    }
  }
}

/** The transport's callback for every upstream query: the query comes back as the context. */
function settleUpstreamQuery(outcome: DnsQueryResult | DnsQueryError, query: UpstreamQuery): void {
  query.settle(outcome);
}

/**
 * One question to one upstream: the transport's callback context and the caller's handle
 * (no closure per upstream query: `settleUpstreamQuery` is shared).
 */
class UpstreamQuery implements PendingQuery {
  pending: PendingQuery | null = null;
  readonly started = performance.now();

  settle(outcome: DnsQueryResult | DnsQueryError): void {
    this.upstream.settle(this, outcome);
  }

  constructor(
    private readonly upstream: Upstream,
    readonly qname: string,
    readonly qtype: number,
    readonly timeoutMs: number,
    private readonly listener: ExchangeListener,
    private readonly slot: number,
  ) {}

  done(exchange: Exchange): void {
    this.listener.onExchange(this.slot, exchange);
  }

  cancel(): void {
    if (this.upstream.forget(this)) this.pending?.cancel();
  }

  exchange(
    outcome: Classification,
    elapsedMs: number,
    transport: 'udp' | 'tcp' | null,
    aborted: boolean,
  ): Exchange {
    return {
      upstream: this.upstream,
      outcome,
      elapsedMs,
      timeoutMs: this.timeoutMs,
      transport,
      aborted,
    };
  }
}

/**
 * An error rcode, an NXDOMAIN or an empty NOERROR is classified from the header the transport
 * already scanned; a reply with answer records from a scan of its answer section
 * (`classifyScanned`); only what the scan cannot settle is decoded.
 */
function classify(
  reply: DnsQueryResult,
  qname: string,
  qtype: number,
  zone: string,
): Classification {
  const rcode = reply.rcode;
  if (reply.query.ancount === 0 || (rcode !== RCODE.NOERROR && rcode !== RCODE.NXDOMAIN)) {
    return classifyReply({ rcode, answers: NO_RECORDS }, qname, qtype, zone);
  }
  // A TCP frame may be a view of the connection's buffer: a POSITIVE keeps its own copy.
  const bytes = reply.transport === 'tcp' ? Uint8Array.from(reply.bytes) : reply.bytes;
  const scanned = classifyScanned(bytes, rcode, scanAnswerChain(bytes, qtype, zone));
  if (scanned !== null) return scanned;
  const decoded = decode(reply.bytes);
  return decoded.ok
    ? classifyReply(
        {
          rcode,
          answers: decoded.message.answers ?? NO_RECORDS,
          additionals: decoded.message.additionals ?? NO_RECORDS,
        },
        qname,
        qtype,
        zone,
      )
    : classifyFailure(`reply does not decode: ${decoded.error}`);
}
