import { type ScannedQuery, scan } from '@mdns/protocol';
import { clientCounters } from './counters.js';
import { type DeadlineItem, queryDeadlines } from './deadlines.js';
import { DnsQueryError } from './errors.js';
import { type ExchangeReply, type ExchangeRequest, isQueriedAddress, target } from './exchange.js';
import { tcpExchange } from './exchange-tcp.js';
import type { PoolSocket } from './pool-socket.js';
import type { DnsQueryResult } from './query.js';
import { countedFailure } from './query.js';
import { fullRcode, isTruncated, judgeReply } from './reply-match.js';

/** A query in flight on a `DnsClient`; `cancel()` drops it without calling back. */
export interface PendingQuery {
  cancel(): void;
}

/**
 * Called exactly once per query that is not cancelled: a result or a `DnsQueryError`, and the
 * `context` given to `send` (so a caller can pass one module-level function and its own
 * object instead of a closure per query).
 */
export type QueryCallback<C = unknown> = (
  outcome: DnsQueryResult | DnsQueryError,
  context: C,
) => void;

/**
 * Called at most once, after a query failed with 'timeout', when its reply still arrives
 * (all checks passed) within `max(timeoutMs, 1 s)` of the verdict: the server is alive,
 * just slower than the timeout. `rttMs` is measured from the send.
 */
export type LateReplyCallback = (result: DnsQueryResult) => void;

const WAITING = 0;
const TCP = 1;
const DONE = 2;
/** Answered by nobody yet, but no longer wanted: the ID stays taken so a late reply is recognised. */
const TOMBSTONE = 3;

// The deadline verdict waits until a poll phase has read every datagram already in the
// socket buffers: a reply that arrived while the event loop was busy is not a timeout. Where
// setImmediate runs differs: Node runs it in the check phase, after the poll; Bun runs it at
// the start of the next tick, before the poll (and its timers after the poll). So the verdict
// waits for the second immediate after the deadline, which follows a poll on both runtimes.
// A poll phase that itself took BUSY_TURN_MS or more may have left datagrams unread (libuv
// reads at most 32 per socket per turn), so the verdict waits another turn, at most
// MAX_DEFERRALS times: bounded, and free when the loop is idle.
const BUSY_TURN_MS = 2;
const MAX_DEFERRALS = 8;
// How long a timed-out query's ID stays reserved, so that a late reply is recognised (and
// reported to `onLate`) instead of being counted as a mismatch.
const LATE_WINDOW_MS = 1000;

/**
 * One query on a pooled socket: waiting for its reply, retrying over TCP after TC=1, then
 * done; or a tombstone after a timeout or a cancel, until its own timeout has passed again.
 * Its deadline is an entry in the shared `queryDeadlines` sweep (one coarse timer for every
 * query in flight, not a Node timer each); the check phase takes `this` as an argument so no
 * closure is allocated per query.
 */
export class PooledQuery implements PendingQuery, DeadlineItem {
  /** @internal Owned by `queryDeadlines`: the armed deadline, 0 when none. */
  due = 0;
  /** @internal Owned by `queryDeadlines`. */
  dueSlot = 0;
  private phase = WAITING;
  private deferrals = 0;
  private turnStarted = 0;
  private deadlinePassed = false;
  private timedOut = false;
  private lastMalformed: string | null = null;
  private tcpAbort: AbortController | null = null;
  private readonly started = performance.now();

  constructor(
    readonly id: number,
    private readonly socket: PoolSocket,
    readonly req: ExchangeRequest,
    private readonly timeoutMs: number,
    private readonly done: QueryCallback,
    private readonly onLate: LateReplyCallback | undefined,
    private readonly context: unknown = undefined,
  ) {
    queryDeadlines.add(this, timeoutMs);
  }

  cancel(): void {
    if (this.phase === WAITING) {
      clientCounters.cancelled++;
      this.bury();
    } else if (this.phase === TCP) {
      clientCounters.cancelled++;
      this.phase = DONE;
      this.tcpAbort?.abort();
    }
  }

  /** A datagram carrying our ID arrived on our socket. */
  onDatagram(msg: Buffer, address: string, port: number): void {
    if (port !== this.req.port || !isQueriedAddress(address, this.req.host)) {
      clientCounters.mismatched++;
      clientCounters.mismatchedSource++;
      return;
    }
    if (this.phase !== WAITING && this.phase !== TOMBSTONE) return;
    const verdict = judgeReply(scan(msg), this.req.expect, msg);
    if (this.phase === TOMBSTONE) {
      if (!verdict.ok) {
        countMismatch(verdict.reason);
        return;
      }
      clientCounters.lateReplies++;
      const late = this.timedOut ? this.onLate : undefined;
      this.release();
      if (late !== undefined && !isTruncated(msg))
        late(this.result(msg, verdict.reply, 'udp', false));
      return;
    }
    if (verdict.ok) {
      if (this.deadlinePassed) clientCounters.lateTimersSaved++;
      if (isTruncated(msg)) this.retryOverTcp();
      else this.succeed({ bytes: msg, reply: verdict.reply }, 'udp', false);
      return;
    }
    if (verdict.reason === 'malformed') this.lastMalformed = verdict.detail;
    countMismatch(verdict.reason);
  }

  onSendError(error: Error): void {
    if (this.phase !== WAITING) return;
    this.fail(
      new DnsQueryError('network', `udp send to ${target(this.req)}: ${error.message}`, {
        cause: error,
      }),
    );
  }

  /** The socket closed under us (error or client close). */
  onSocketClosed(error: DnsQueryError | undefined): void {
    queryDeadlines.remove(this);
    if (this.phase !== WAITING) {
      if (this.phase === TOMBSTONE) this.phase = DONE;
      return;
    }
    this.phase = DONE;
    this.done(
      countedFailure(
        error ?? new DnsQueryError('aborted', `query to ${target(this.req)}: client closed`),
      ),
      this.context,
    );
  }

  /** Timer phase: the deadline (or a tombstone's end) passed (`queryDeadlines` disarmed it). */
  onDeadline(): void {
    if (this.phase === TOMBSTONE) {
      this.release();
      return;
    }
    if (this.phase !== WAITING) return;
    this.deadlinePassed = true;
    setImmediate(onFirstCheck, this);
  }

  /** First immediate after the deadline: on Bun no poll has run yet, so wait one more. */
  onFirstCheck(): void {
    if (this.phase !== WAITING) return;
    this.turnStarted = performance.now();
    setImmediate(onCheck, this);
  }

  /** A later immediate after the deadline: a poll phase has run since the timer fired. */
  onCheck(): void {
    if (this.phase !== WAITING) return;
    const now = performance.now();
    if (now - this.turnStarted >= BUSY_TURN_MS && this.deferrals < MAX_DEFERRALS) {
      this.deferrals++;
      this.turnStarted = now;
      setImmediate(onCheck, this);
      return;
    }
    const error =
      this.lastMalformed === null
        ? new DnsQueryError('timeout', `no reply from ${target(this.req)} over udp`)
        : new DnsQueryError(
            'malformed',
            `only malformed replies from ${target(this.req)} over udp: ${this.lastMalformed}`,
          );
    this.timedOut = error.kind === 'timeout';
    this.bury(Math.max(this.timeoutMs, LATE_WINDOW_MS));
    this.done(countedFailure(error), this.context);
  }

  private succeed(reply: ExchangeReply, transport: 'udp' | 'tcp', truncatedRetry: boolean): void {
    this.phase = DONE;
    this.release();
    this.done(this.result(reply.bytes, reply.reply, transport, truncatedRetry), this.context);
  }

  private result(
    bytes: Uint8Array,
    reply: ScannedQuery,
    transport: 'udp' | 'tcp',
    truncatedRetry: boolean,
  ): DnsQueryResult {
    return {
      bytes,
      query: reply,
      rcode: fullRcode(bytes, reply),
      rttMs: performance.now() - this.started,
      transport,
      truncatedRetry,
    };
  }

  private fail(error: DnsQueryError): void {
    this.phase = DONE;
    this.release();
    this.done(countedFailure(error), this.context);
  }

  /**
   * Keep the ID taken a while longer, so a late reply is known as late. A cancelled query
   * keeps its running deadline timer; a timed-out one waits `forMs` more.
   */
  private bury(forMs = this.timeoutMs): void {
    this.phase = TOMBSTONE;
    if (this.due === 0) queryDeadlines.add(this, forMs);
  }

  private release(): void {
    queryDeadlines.remove(this);
    if (this.phase === TOMBSTONE) this.phase = DONE;
    this.socket.release(this);
  }

  private retryOverTcp(): void {
    clientCounters.truncatedRetries++;
    this.release();
    this.phase = TCP;
    // Only the rare TC=1 retry pays for an AbortController (the TCP exchange takes a signal).
    this.tcpAbort = new AbortController();
    tcpExchange({ ...this.req, signal: this.tcpAbort.signal }).then(
      (reply) => {
        if (this.phase === TCP) this.succeed(reply, 'tcp', true);
      },
      (error: unknown) => {
        if (this.phase !== TCP) return;
        this.phase = DONE;
        this.done(countedFailure(error), this.context);
      },
    );
  }
}

function countMismatch(reason: 'malformed' | 'id' | 'question'): void {
  if (reason === 'malformed') {
    clientCounters.malformedReplies++;
    return;
  }
  clientCounters.mismatched++;
  if (reason === 'id') clientCounters.mismatchedId++;
  else clientCounters.mismatchedQuestion++;
}

function onFirstCheck(query: PooledQuery): void {
  query.onFirstCheck();
}

function onCheck(query: PooledQuery): void {
  query.onCheck();
}
