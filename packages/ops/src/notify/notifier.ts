import { type TsigKey, tsigSign, type ZoneApex } from '@mdns/protocol';
import {
  type DnsQueryRawOptions,
  type DnsQueryResult,
  dnsQueryRaw,
  randomQueryId,
} from '@mdns/transport';
import { isNotifyAck, notifyMessage } from './message.js';
import {
  type HostResolver,
  type NotifyTarget,
  type NotifyTargetConfig,
  resolveTargets,
  systemResolver,
} from './targets.js';

export interface NotifierLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface NotifierOptions {
  /** Addresses, or host names resolved to every address at each send (`targets.ts`). */
  targets: readonly NotifyTargetConfig[];
  /** How host targets are resolved. Default: the system resolver. */
  resolve?: HostResolver;
  zones: readonly string[];
  debounceMs: number;
  timeoutMs: number;
  /** Extra attempts after a timeout or a network error. */
  retries: number;
  logger: NotifierLogger;
  /** The zone's apex: its current SOA goes into each NOTIFY. */
  soa?: (zone: string) => ZoneApex | undefined;
  /** The TSIG key a target names (`key`); a target whose key is unknown gets no NOTIFY. */
  key?: (name: string) => TsigKey | undefined;
  /** For tests; default the transport's `dnsQueryRaw`. */
  send?: (options: DnsQueryRawOptions) => Promise<DnsQueryResult>;
}

export interface NotifyCounters {
  sent: number;
  acknowledged: number;
  /** A target answered with an error rcode (e.g. REFUSED: we are not a configured upstream). */
  rejected: number;
  /** Every attempt timed out or failed on the network. */
  failed: number;
  /** A host target had no address when a NOTIFY was due (that host got none this time). */
  resolveFailed: number;
}

/**
 * Sends NOTIFY for every zone to every target after index changes, debounced so a rollout
 * that touches many objects is one NOTIFY. Runs entirely beside the answer path: `changed()`
 * only (re)arms a timer, and sending never blocks or delays answering.
 */
export class Notifier {
  readonly counters: NotifyCounters = {
    sent: 0,
    acknowledged: 0,
    rejected: 0,
    failed: 0,
    resolveFailed: 0,
  };
  readonly #options: NotifierOptions;
  readonly #send: (options: DnsQueryRawOptions) => Promise<DnsQueryResult>;
  readonly #inFlight = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | null = null;
  #abort = new AbortController();
  #stopped = false;

  constructor(options: NotifierOptions) {
    this.#options = options;
    this.#send = options.send ?? dnsQueryRaw;
  }

  get enabled(): boolean {
    return this.#options.targets.length > 0 && this.#options.zones.length > 0;
  }

  /**
   * The index changed: notify `debounceMs` after the first change not yet notified. Later
   * changes inside that window ride along and do not push the timer back: a trailing
   * debounce re-armed on every change never fires while objects keep changing (a rollout,
   * status churn), so change -> NOTIFY is bounded by `debounceMs` whatever the churn.
   */
  changed(): void {
    if (!this.enabled || this.#stopped || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#notifyAll();
    }, this.#options.debounceMs);
    this.#timer.unref();
  }

  /** Cancels a pending NOTIFY and abandons retries; resolves when sends in flight ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#abort.abort();
    await Promise.allSettled([...this.#inFlight]);
  }

  #notifyAll(): void {
    const round = this.#round().finally(() => this.#inFlight.delete(round));
    this.#inFlight.add(round);
  }

  /** One NOTIFY round: resolve host targets now, then every zone to every address. */
  async #round(): Promise<void> {
    const { targets, failures } = await resolveTargets(
      this.#options.targets,
      this.#options.resolve ?? systemResolver,
    );
    for (const f of failures) {
      this.counters.resolveFailed++;
      this.#options.logger.warn(f, 'NOTIFY target did not resolve; skipped this time');
    }
    if (this.#stopped) return;
    const sends: Promise<void>[] = [];
    for (const zone of this.#options.zones) {
      for (const target of targets) sends.push(this.#notifyOne(zone, target));
    }
    await Promise.allSettled(sends);
  }

  /** The NOTIFY for `zone`, signed (RFC 8945) when the target has a key. */
  #packet(zone: string, key: TsigKey | undefined): Uint8Array {
    const message = notifyMessage(zone, randomQueryId(), this.#options.soa?.(zone));
    if (key === undefined) return message;
    return tsigSign(message, { key, timeSigned: Math.floor(Date.now() / 1000) }).bytes;
  }

  async #notifyOne(zone: string, target: NotifyTarget): Promise<void> {
    const { timeoutMs, retries, logger } = this.#options;
    const where = { zone, target: `${target.address}:${target.port}` };
    let lastError = '';
    const key = target.key === undefined ? undefined : this.#options.key?.(target.key);
    if (target.key !== undefined && key === undefined) {
      // The config schema checks key names; this is a wiring bug, said once per round.
      this.counters.failed++;
      logger.warn({ ...where, key: target.key }, 'NOTIFY not sent: unknown TSIG key');
      return;
    }
    for (let attempt = 0; attempt <= retries && !this.#stopped; attempt++) {
      this.counters.sent++;
      try {
        const reply = await this.#send({
          host: target.address,
          port: target.port,
          packet: this.#packet(zone, key),
          timeoutMs,
          signal: this.#abort.signal,
        });
        if (isNotifyAck(reply)) {
          this.counters.acknowledged++;
          return;
        }
        // An explicit refusal will not change by asking again.
        this.counters.rejected++;
        logger.warn({ ...where, rcode: reply.rcode }, 'NOTIFY not acknowledged');
        return;
      } catch (err) {
        lastError = (err as Error).message;
      }
    }
    if (this.#stopped) return;
    this.counters.failed++;
    logger.warn({ ...where, attempts: retries + 1, error: lastError }, 'NOTIFY got no answer');
  }
}
