import { appendFileSync } from 'node:fs';

/**
 * An opt-in per-reply latency trace of the Bun UDP backend (issue 15: where a reply's tail
 * waits inside the process). Off unless `MDNS_UDP_TRACE=FILE` is set when the socket binds;
 * then each reply records, in milliseconds:
 *
 * - `handler`: from the start of its datagram's `data` callback to the reply handed to the
 *   socket (`send`): scan, answer, metrics;
 * - `queued`: from handed over to its `sendMany` returning: the wait for the rest of the
 *   receive burst and the `setImmediate` turn, plus the syscall (per flush: `sendManyMs`);
 *
 * and per event-loop stall, the gap between two `data` callbacks when it exceeds
 * `STALL_MS` with datagrams arriving (a GC pause, a timer's work, the CPU given to another
 * thread or process). What it cannot see: the wait in the kernel's receive buffer before Bun
 * reads a datagram. One summary (percentiles, counts) per burst of traffic is appended to
 * FILE as a JSON line: a burst ends after `SESSION_GAP_MS` without a datagram (so each run of
 * a load generator gets its own line) and when the socket closes. Samples are kept in fixed
 * arrays (`MAX_SAMPLES` each, the first ones kept): recording allocates nothing.
 */
export const MAX_SAMPLES = 1 << 19;
const STALL_MS = 1;
const SESSION_GAP_MS = 500;

export interface TraceSummary {
  /** The burst's length, first datagram to last. */
  seconds: number;
  replies: number;
  flushes: number;
  /** Replies per `sendMany`. */
  batch: Percentiles;
  /** How long each `sendMany` call took. */
  sendManyMs: Percentiles;
  handlerMs: Percentiles;
  queuedMs: Percentiles;
  /** Gaps of more than 1 ms between two received datagrams (the first `MAX_SAMPLES`). */
  stalls: { count: number; totalMs: number; ms: Percentiles };
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Nearest-rank percentiles of the first `n` values of `values` (sorted in place). */
export function percentiles(values: Float64Array, n: number): Percentiles {
  const sorted = values.subarray(0, Math.min(n, values.length)).sort();
  const at = (p: number) =>
    sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: at(1) };
}

export class UdpTrace {
  private readonly handler = new Float64Array(MAX_SAMPLES);
  private readonly queued = new Float64Array(MAX_SAMPLES);
  private readonly batches = new Float64Array(MAX_SAMPLES);
  private readonly sendMany = new Float64Array(MAX_SAMPLES);
  private readonly stallMs = new Float64Array(MAX_SAMPLES);
  /** Hand-over times of the replies waiting for the next flush (the batch's order). */
  private readonly pending = new Float64Array(MAX_SAMPLES);
  private pendingCount = 0;
  private replies = 0;
  private flushes = 0;
  private stalls = 0;
  private stallTotal = 0;
  private receivedAt = 0;
  private firstReceive = 0;
  private lastReceive = 0;

  constructor(private readonly file: string) {}

  /** A datagram's `data` callback starts. */
  received(now: number): void {
    const gap = now - this.lastReceive;
    if (this.lastReceive > 0 && gap > SESSION_GAP_MS) this.write();
    if (this.firstReceive === 0) this.firstReceive = now;
    if (this.lastReceive > 0 && gap > STALL_MS) {
      if (this.stalls < MAX_SAMPLES) this.stallMs[this.stalls] = gap;
      this.stalls++;
      this.stallTotal += gap;
    }
    this.lastReceive = now;
    this.receivedAt = now;
  }

  /** The reply of the datagram being handled is queued. */
  handed(now: number): void {
    if (this.replies < MAX_SAMPLES) this.handler[this.replies] = now - this.receivedAt;
    this.replies++;
    if (this.pendingCount < MAX_SAMPLES) this.pending[this.pendingCount++] = now;
  }

  /** `sendMany`, called at `started`, returned at `now` after writing the first `sent` queued replies. */
  flushed(started: number, now: number, sent: number): void {
    if (this.flushes < MAX_SAMPLES) {
      this.batches[this.flushes] = sent;
      this.sendMany[this.flushes] = now - started;
    }
    this.flushes++;
    const done = Math.min(sent, this.pendingCount);
    // Only the replies that went out are measured; the rest stay pending (a partial send).
    const base = this.replies - this.pendingCount;
    for (let i = 0; i < done; i++) {
      const index = base + i;
      if (index < MAX_SAMPLES) this.queued[index] = now - this.pending[i];
    }
    this.pending.copyWithin(0, done, this.pendingCount);
    this.pendingCount -= done;
  }

  summary(): TraceSummary {
    const measured = this.replies - this.pendingCount;
    return {
      seconds: (this.lastReceive - this.firstReceive) / 1000,
      replies: this.replies,
      flushes: this.flushes,
      batch: percentiles(this.batches, this.flushes),
      sendManyMs: percentiles(this.sendMany, this.flushes),
      handlerMs: percentiles(this.handler, this.replies),
      queuedMs: percentiles(this.queued, measured),
      stalls: {
        count: this.stalls,
        totalMs: this.stallTotal,
        ms: percentiles(this.stallMs, this.stalls),
      },
    };
  }

  /** Appends the burst's summary to the file (none for a burst without replies) and starts anew. */
  write(): void {
    if (this.replies > 0) appendFileSync(this.file, `${JSON.stringify(this.summary())}\n`);
    // Nothing is pending after 500 ms idle (replies leave on the next event-loop turn);
    // at close, the last flush ran first.
    this.replies = 0;
    this.pendingCount = 0;
    this.flushes = 0;
    this.stalls = 0;
    this.stallTotal = 0;
    this.firstReceive = 0;
    this.lastReceive = 0;
  }
}

/** The trace the environment asks for (`MDNS_UDP_TRACE=FILE`), or null. */
export function traceFromEnv(env: NodeJS.ProcessEnv = process.env): UdpTrace | null {
  const file = env.MDNS_UDP_TRACE;
  return file ? new UdpTrace(file) : null;
}
