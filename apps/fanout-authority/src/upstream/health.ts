import {
  type CircuitNews,
  type CircuitState,
  closedCircuit,
  receivedCircuit,
  recordFailure,
  recordSuccess,
} from './circuit.js';
import {
  addSample,
  addTimeout,
  initialRtt,
  type RttLimits,
  type RttState,
  timeoutMs,
} from './rtt.js';

/** Upper bounds (seconds) of the per-upstream latency histogram. */
export const UPSTREAM_LATENCY_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/** A sibling worker's circuit transition with the RTT it had learned (null: no sample yet). */
export interface SiblingTransition extends CircuitNews {
  srtt: number | null;
  rttvar: number;
  /** The sibling's last error for this upstream (why it opened), if any. */
  lastError?: string | null;
}

export interface HealthLimits extends RttLimits {
  failureThreshold: number;
}

/** Plain counters, read at scrape time; they survive config reloads with the health state. */
export interface UpstreamStats {
  requests: number;
  /** Replies by rcode number. */
  replies: Map<number, number>;
  /** No usable reply, by kind: timeout, network, malformed. */
  failures: Map<string, number>;
  /** Cancelled because the answer was already decided (not a failure, not a sample). */
  aborted: number;
  /** Error rcodes (SERVFAIL, REFUSED, ...) for one client name: not toward the circuit. */
  nameErrors: number;
  /** Queries never sent because of our side (kind 'local'): nothing to do with the upstream. */
  localErrors: number;
  /** Timeouts while our event loop was stalled: counted in `failures`, not toward the circuit. */
  inconclusiveTimeouts: number;
  /** Replies that arrived after their query had timed out (the upstream is slow, not dead). */
  lateReplies: number;
  probes: number;
  probeFailures: number;
  circuitOpens: number;
  latencyCount: number;
  latencySum: number;
  /** Non-cumulative; last slot is +Inf. */
  latencyBuckets: Float64Array;
}

function newStats(): UpstreamStats {
  return {
    requests: 0,
    replies: new Map(),
    failures: new Map(),
    aborted: 0,
    nameErrors: 0,
    localErrors: 0,
    inconclusiveTimeouts: 0,
    lateReplies: 0,
    probes: 0,
    probeFailures: 0,
    circuitOpens: 0,
    latencyCount: 0,
    latencySum: 0,
    latencyBuckets: new Float64Array(UPSTREAM_LATENCY_BUCKETS.length + 1),
  };
}

/**
 * Everything learned about one upstream: RTT, circuit, counters. Kept across config reloads
 * for an upstream whose identity (zone, name, address, port) did not change, so a reload
 * neither forgets that a cluster is dead nor resets its learned timeout.
 */
export class UpstreamHealth {
  rtt: RttState = initialRtt();
  circuit: CircuitState = closedCircuit();
  readonly stats: UpstreamStats = newStats();
  lastError: string | null = null;
  /** The last query we could not send (our side, not the upstream's), for `explain`. */
  lastLocalError: string | null = null;
  lastSuccessAtMs: number | null = null;
  /** `performance.now()` at which the probe in flight gives up; null when none is in flight. */
  probeDeadlineMs: number | null = null;
  /**
   * `Date.now()` of the circuit's last transition, learned here or told by a sibling worker
   * (0: none yet): a sibling's older news does not undo it (circuit.ts `receivedCircuit`).
   */
  changedAtMs = 0;

  get healthy(): boolean {
    return !this.circuit.open;
  }

  /** The learned timeout; without an RTT sample, as long as a probe in flight still waits. */
  timeoutMs(limits: RttLimits, nowMs = performance.now()): number {
    const probeLeftMs =
      this.probeDeadlineMs === null ? null : Math.max(0, this.probeDeadlineMs - nowMs);
    return timeoutMs(this.rtt, limits, probeLeftMs);
  }

  /**
   * A reply arrived after `rttMs`; `good` = not FAILED (SERVFAIL etc. still give an RTT).
   * Returns true when this reply opened the circuit.
   */
  onReply(
    rcode: number,
    rttMs: number,
    good: boolean,
    limits: HealthLimits,
    nowMs: number,
  ): boolean {
    this.rtt = addSample(this.rtt, rttMs);
    this.stats.replies.set(rcode, (this.stats.replies.get(rcode) ?? 0) + 1);
    this.observeLatency(rttMs);
    if (good) {
      this.succeed(nowMs);
      return false;
    }
    return this.fail(`rcode ${rcode}`, limits, nowMs);
  }

  /**
   * An error rcode for one client's name (see blame.ts): the upstream answered, so it is an
   * RTT sample and a reply by rcode, but the circuit neither counts it nor is cleared by it.
   */
  onNameError(rcode: number, rttMs: number): void {
    this.rtt = addSample(this.rtt, rttMs);
    this.stats.replies.set(rcode, (this.stats.replies.get(rcode) ?? 0) + 1);
    this.stats.nameErrors++;
    this.observeLatency(rttMs);
  }

  /** The query was never sent because of our side (see blame.ts): counted, nothing else. */
  onLocalError(message: string): void {
    this.stats.localErrors++;
    this.lastLocalError = message;
  }

  /**
   * The reply to a query that already timed out arrived after `rttMs`: the upstream is alive,
   * only slower than its timeout. Its RTT is a sample (one query, one reply: no ambiguity for
   * Karn's rule to avoid), so the timeout grows to fit; and like a passed probe it clears the
   * failures (closing the circuit), unless it came later than the ceiling, which no query
   * would wait for.
   */
  onLateReply(rttMs: number, good: boolean, limits: HealthLimits, nowMs: number): void {
    this.stats.lateReplies++;
    if (!good || rttMs > limits.ceilingMs) return;
    this.rtt = addSample(this.rtt, rttMs);
    this.succeed(nowMs);
  }

  /**
   * A sibling worker's transition (circuit.ts `receivedCircuit`), with the RTT it had learned:
   * adopted when this worker has no sample of its own yet. Returns what changed here.
   */
  receive(news: SiblingTransition, limits: HealthLimits): 'opened' | 'closed' | null {
    const next = receivedCircuit(this.circuit, this.changedAtMs, news, limits.failureThreshold);
    if (next === null) return null;
    const wasOpen = this.circuit.open;
    this.circuit = next.circuit;
    this.changedAtMs = next.changedAtMs;
    if (this.rtt.srtt === null && news.srtt !== null) {
      this.rtt = { srtt: news.srtt, rttvar: news.rttvar, backoff: 0 };
    }
    if (wasOpen === this.circuit.open) return null;
    if (this.circuit.open) this.lastError = `${news.lastError ?? 'failures'} (in a sibling worker)`;
    if (!this.circuit.open) {
      this.rtt = { ...this.rtt, backoff: 0 };
      return 'closed';
    }
    return 'opened';
  }

  private succeed(nowMs: number): void {
    if (this.circuit.open) this.changedAtMs = nowMs;
    this.circuit = recordSuccess(this.circuit);
    this.lastSuccessAtMs = nowMs;
  }

  /**
   * No usable reply: `kind` is the transport's error kind. Returns true when this opened the
   * circuit. An `inconclusive` failure (a timeout while our own event loop was stalled) backs
   * the timeout off and is counted, but does not count toward opening the circuit.
   */
  onNoReply(
    kind: string,
    message: string,
    limits: HealthLimits,
    nowMs: number,
    inconclusive = false,
  ): boolean {
    if (kind === 'timeout') this.rtt = addTimeout(this.rtt);
    this.stats.failures.set(kind, (this.stats.failures.get(kind) ?? 0) + 1);
    if (inconclusive) {
      this.stats.inconclusiveTimeouts++;
      this.lastError = `${message} (our event loop was stalled: not counted toward the circuit)`;
      return false;
    }
    return this.fail(message, limits, nowMs);
  }

  private fail(message: string, limits: HealthLimits, nowMs: number): boolean {
    const wasOpen = this.circuit.open;
    this.circuit = recordFailure(this.circuit, limits.failureThreshold, nowMs);
    this.lastError = message;
    if (wasOpen || !this.circuit.open) return false;
    this.changedAtMs = nowMs;
    this.stats.circuitOpens++;
    return true;
  }

  private observeLatency(ms: number): void {
    const s = ms / 1000;
    const st = this.stats;
    st.latencyCount++;
    st.latencySum += s;
    let i = 0;
    while (i < UPSTREAM_LATENCY_BUCKETS.length && s > UPSTREAM_LATENCY_BUCKETS[i]) i++;
    st.latencyBuckets[i]++;
  }
}
