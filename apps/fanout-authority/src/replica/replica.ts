import type { Logger } from '@mdns/ops';
import type { TsigKey } from '@mdns/protocol';
import { pullZone, type TransferRequest, type TransferResult } from '@mdns/transport';
import type { UpstreamTransferConfig } from '../config/schema.js';
import type { Classification } from '../upstream/classify.js';
import type { UpstreamAddress } from '../upstream/upstream.js';
import {
  answerFromCopy,
  buildCopy,
  copyAfterDiffs,
  heldForTransfer,
  type ReplicaCopy,
  warmCopy,
} from './copy.js';
import { isExpired, nextCheckDelayMs, replicaTimers } from './timers.js';
import { axfrAfterIxfr, judgeTransfer, notifyWantsPull } from './verdict.js';

/** The last pull, for explain and logs. */
export interface LastTransfer {
  atMs: number;
  kind: 'AXFR' | 'IXFR';
  /** 'axfr' | 'ixfr' | 'up-to-date' for a good one, else the reason it was rejected. */
  result: string;
  detail: string;
}

/** What operators see of one replica (explain, metrics). */
export interface ReplicaStatus {
  state: 'loading' | 'loaded' | 'expired';
  serial: number | null;
  records: number;
  /** Seconds since the primary last confirmed the copy; null without one. */
  ageSeconds: number | null;
  lastTransfer: LastTransfer | null;
  failuresInARow: number;
}

export interface ReplicaOptions {
  upstream: UpstreamAddress;
  settings: UpstreamTransferConfig;
  key: TsigKey | undefined;
  logger: Pick<Logger, 'info' | 'warn'>;
  /** A new copy was swapped in: the answers cached from this upstream are out of date. */
  onChange?: (upstream: string) => void;
  /** Tests: a stand-in for the TCP transfer client. */
  pull?: (request: TransferRequest) => Promise<TransferResult>;
  now?: () => number;
  /**
   * listen.workers > 1, in a worker: this replica follows the primary's (share.ts). It
   * never pulls; a verified NOTIFY goes to the primary through this, and the copy and state
   * come from it (`adoptCopy`, `adoptState`).
   */
  follow?: (serial?: number) => void;
  /** In the primary of several workers: told after every check (its copy or state changed). */
  onChecked?: (replica: Replica) => void;
  /**
   * Build a new copy's answering structure before it is swapped in (default true). The
   * primary of several workers answers nothing: it keeps the records only.
   */
  answers?: boolean;
}

/** What a worker's replica takes from the primary's besides the copy (share.ts). */
export interface ReplicaSyncState {
  checkedAtMs: number | null;
  failures: number;
  last: LastTransfer | null;
  /** `transfers` as entries. */
  transfers: [string, number][];
}

/**
 * This authority as a secondary of one upstream (RFC 5936 / 1995 / 1996): AXFR at start,
 * IXFR on NOTIFY and at every refresh (AXFR when the diff cannot be had), retry with backoff,
 * expire. A pull is applied whole or not at all: the new copy is built beside the served one
 * and swapped in with one assignment, so a query sees one serial or the next, never a mix;
 * a bad pull keeps the last good copy, bumps a counter and logs one line.
 */
export class Replica {
  #copy: ReplicaCopy | null = null;
  /** When the primary last confirmed the copy (transfer or up-to-date): the expire clock. */
  #checkedAtMs: number | null = null;
  #failures = 0;
  #last: LastTransfer | null = null;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  /** A NOTIFY arrived during a pull: pull again right after it. */
  #again = false;
  #started = false;
  /** After `stop()`: nothing more is scheduled or applied. */
  #stopped = false;
  #expiredSaid = false;
  #olderSaid: number | null = null;
  #expireCopy: ReplicaCopy | null = null;
  #expireMs = 0;
  /** Pulls by `${kind}|${result}`, for metrics. */
  readonly transfers = new Map<string, number>();
  /** Outcomes given from the copy in place of a query to the upstream, for metrics. */
  answered = 0;
  readonly #now: () => number;
  readonly #pull: (request: TransferRequest) => Promise<TransferResult>;

  constructor(readonly options: ReplicaOptions) {
    this.#now = options.now ?? Date.now;
    this.#pull = options.pull ?? pullZone;
  }

  get upstream(): UpstreamAddress {
    return this.options.upstream;
  }

  /** The first pull ended (a copy, or a failure on record): what `/ready` waits for. */
  get firstPullDone(): boolean {
    return this.#last !== null;
  }

  /** Starts the first pull now (a follower only starts taking NOTIFYs: it never pulls). */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    if (this.options.follow === undefined) this.#schedule(0);
  }

  /** The copy held, fresh or not. */
  get copy(): ReplicaCopy | null {
    return this.#copy;
  }

  /** The primary's state of this replica, for its followers (share.ts). */
  syncState(): ReplicaSyncState {
    return {
      checkedAtMs: this.#checkedAtMs,
      failures: this.#failures,
      last: this.#last,
      transfers: [...this.transfers],
    };
  }

  /** A follower: the primary swapped in `copy` (one assignment, as after a pull of our own). */
  adoptCopy(copy: ReplicaCopy | null): void {
    if (this.#stopped || copy === this.#copy) return;
    this.#copy = copy;
    this.options.onChange?.(this.upstream.name);
  }

  /** A follower: the primary's last check (the expire clock, the last pull, the counts). */
  adoptState(state: ReplicaSyncState): void {
    if (this.#stopped) return;
    if (state.checkedAtMs !== this.#checkedAtMs) this.#expiredSaid = false;
    this.#checkedAtMs = state.checkedAtMs;
    this.#failures = state.failures;
    this.#last = state.last;
    this.transfers.clear();
    for (const [k, n] of state.transfers) this.transfers.set(k, n);
  }

  /** Stops the timers; a pull in flight finishes but changes nothing after. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** An accepted NOTIFY from this upstream; `serial` the SOA serial it announced, if any. */
  notify(serial?: number): void {
    if (!this.#started || this.#stopped) return;
    if (this.options.follow !== undefined) {
      this.options.follow(serial);
      return;
    }
    const held = this.#copy?.serial ?? null;
    if (!notifyWantsPull(held, serial)) {
      // Said once per announced serial: a primary whose serial went backwards (a restart
      // with a clock set back, a hand-edited SOA) stays behind our copy until it passes it.
      if (held !== null && serial !== undefined && serial !== held && serial !== this.#olderSaid) {
        this.#olderSaid = serial;
        this.options.logger.warn(
          { ...this.#where(), announced: serial, serial: held },
          `NOTIFY from ${this.upstream.name} announces serial ${serial}, older than our ${held}: no pull`,
        );
      }
      return;
    }
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#schedule(0);
  }

  /** The copy to answer from: loaded and not expired; null otherwise (ask the network). */
  fresh(nowMs = this.#now()): ReplicaCopy | null {
    const copy = this.#copy;
    if (copy === null) return null;
    const expireMs = this.#expireMsOf(copy);
    if (!isExpired(this.#checkedAtMs, expireMs, nowMs)) return copy;
    if (!this.#expiredSaid) {
      this.#expiredSaid = true;
      this.options.logger.warn(
        { ...this.#where(), serial: copy.serial, expireSeconds: expireMs / 1000 },
        'replica expired: the primary has not confirmed it within expire; asking it per query',
      );
    }
    return null;
  }

  /**
   * `expire` of this copy, computed once per copy: `fresh` runs for every member on every
   * replicated query, and the settings never change for one Replica (a reload with other
   * settings builds a new one).
   */
  #expireMsOf(copy: ReplicaCopy): number {
    if (this.#expireCopy !== copy) {
      this.#expireCopy = copy;
      this.#expireMs = replicaTimers(copy.soa, this.options.settings).expireMs;
    }
    return this.#expireMs;
  }

  /** The replica's classified answer, or null when it has no fresh copy. */
  answer(qname: string, qtype: number, nowMs?: number): Classification | null {
    const copy = this.fresh(nowMs);
    if (copy === null) return null;
    this.answered++;
    return answerFromCopy(copy, qname, qtype);
  }

  status(nowMs = this.#now()): ReplicaStatus {
    const copy = this.#copy;
    return {
      state: copy === null ? 'loading' : this.fresh(nowMs) === null ? 'expired' : 'loaded',
      serial: copy?.serial ?? null,
      records: copy?.records.length ?? 0,
      ageSeconds:
        this.#checkedAtMs === null ? null : Math.max(0, (nowMs - this.#checkedAtMs) / 1000),
      lastTransfer: this.#last,
      failuresInARow: this.#failures,
    };
  }

  /** One check now (tests, and the timer); resolves when it is done. */
  check(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#checkOnce().finally(() => {
      this.#running = null;
      if (!this.#stopped) this.options.onChecked?.(this);
      if (!this.#started || this.#stopped) return;
      if (this.#again) {
        this.#again = false;
        this.#schedule(0);
      } else {
        const timers = replicaTimers(this.#copy?.soa ?? null, this.options.settings);
        this.#schedule(nextCheckDelayMs(timers, this.#failures));
      }
    });
    return this.#running;
  }

  #schedule(delayMs: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    // unref: a pending refresh must not hold a shutting-down process open.
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.check();
    }, delayMs);
    this.#timer.unref();
  }

  async #checkOnce(): Promise<void> {
    const held = this.#copy;
    let kind: 'AXFR' | 'IXFR' = held === null ? 'AXFR' : 'IXFR';
    let result = await this.#request(kind, held);
    if (kind === 'IXFR' && axfrAfterIxfr(result)) {
      this.#count(kind, result.ok ? 'ok' : result.failure);
      kind = 'AXFR';
      result = await this.#request(kind, held);
    }
    if (this.#stopped) return;
    const verdict = judgeTransfer(result, held?.serial ?? null);
    const atMs = this.#now();
    if (verdict.kind === 'reject') {
      this.#failures++;
      this.#count(kind, verdict.reason);
      this.#last = { atMs, kind, result: verdict.reason, detail: verdict.detail };
      this.options.logger.warn(
        {
          ...this.#where(),
          kind,
          reason: verdict.reason,
          detail: verdict.detail,
          serial: held?.serial ?? null,
          failuresInARow: this.#failures,
        },
        `zone transfer from ${this.upstream.name} rejected (${verdict.reason}); keeping the last good copy`,
      );
      return;
    }
    this.#failures = 0;
    this.#checkedAtMs = atMs;
    this.#expiredSaid = false;
    if (verdict.kind === 'up-to-date') {
      this.#count(kind, 'up-to-date');
      this.#last = { atMs, kind, result: 'up-to-date', detail: `serial ${verdict.serial}` };
      return;
    }
    // Built aside (its answering structure too, unless we answer nothing), swapped with one
    // assignment. An IXFR onto a copy we answer from: only the names it touches are built.
    const answers = this.options.answers ?? true;
    const { diffs, keyed } = verdict;
    const copy =
      diffs !== undefined && answers && held?.warm
        ? copyAfterDiffs(held, verdict.soa, verdict.records, diffs)
        : buildCopy(this.upstream.zone, verdict.soa, verdict.records, keyed);
    if (answers) warmCopy(copy);
    this.#copy = copy;
    this.#count(kind, verdict.via);
    this.#last = {
      atMs,
      kind,
      result: verdict.via,
      detail: `serial ${copy.serial}, ${copy.records.length} records`,
    };
    this.options.logger.info(
      {
        ...this.#where(),
        kind,
        via: verdict.via,
        serial: copy.serial,
        previousSerial: held?.serial ?? null,
        records: copy.records.length,
        ...(answers ? { skipped: copy.skipped } : {}),
      },
      'replica loaded',
    );
    this.options.onChange?.(this.upstream.name);
  }

  #request(kind: 'AXFR' | 'IXFR', held: ReplicaCopy | null): Promise<TransferResult> {
    const u = this.upstream;
    const { settings, key } = this.options;
    return this.#pull({
      host: u.address,
      port: u.port,
      zone: u.zone,
      kind,
      // An AXFR gets the held copy too: its serial is checked against ours (never backwards).
      ...(held === null ? {} : { current: heldForTransfer(held) }),
      ...(key === undefined ? {} : { key }),
      maxRecords: settings.maxRecords,
      maxBytes: settings.maxBytes,
    }).catch(
      // pullZone never rejects for anything the peer does; this is our own bug, kept a value.
      (err: unknown): TransferResult => ({
        ok: false,
        failure: 'malformed',
        detail: `transfer client failed: ${(err as Error).message}`,
      }),
    );
  }

  #count(kind: string, result: string): void {
    const k = `${kind}|${result}`;
    this.transfers.set(k, (this.transfers.get(k) ?? 0) + 1);
  }

  #where() {
    const u = this.upstream;
    return { zone: u.zone, upstream: u.name, primary: `${u.address}:${u.port}` };
  }
}
