import type { Logger } from '@mdns/ops';
import type { PendingQuery } from '@mdns/transport';
import type { Upstream } from './upstream.js';

/**
 * Background health checks. At start every upstream is probed once: its reply is the first
 * RTT sample (so client queries use a learned timeout, a far cluster's included) and a
 * cluster that does not answer within the ceiling has a failure on record. `startupSettled`
 * turns true once every start-up probe has answered or given up (at most the ceiling); the
 * process reports ready from then on. After that, every `intervalMs` the upstreams whose
 * circuit is open are probed, and a success takes them back. A client query never waits
 * for a probe beyond its own timeout (before an upstream's first sample, that is as long
 * as the probe waits).
 */
export class Prober {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly inflight = new Set<PendingQuery>();
  private readonly lastHealthy = new Map<string, boolean>();
  /** Every start-up probe has answered or given up. */
  startupSettled = false;

  constructor(
    private readonly upstreams: () => readonly Upstream[],
    private readonly intervalMs: () => number,
    private readonly logger: Pick<Logger, 'info' | 'warn'>,
  ) {}

  start(): void {
    void this.round(true);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const probe of this.inflight) probe.cancel();
    this.inflight.clear();
  }

  private async round(all: boolean): Promise<void> {
    const list = this.upstreams();
    this.logTransitions(list);
    const targets = all ? list : list.filter((u) => !u.healthy);
    await Promise.all(targets.map((u) => this.probe(u)));
    if (all) this.startupSettled = true;
    this.logTransitions(list);
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.round(false), this.intervalMs());
    this.timer.unref();
  }

  /** Resolves when the probe is done; never when `stop()` cancelled it (the round ends there). */
  private probe(upstream: Upstream): Promise<boolean> {
    return new Promise((resolve) => {
      const pending = upstream.probe((ok) => {
        this.inflight.delete(pending);
        resolve(ok);
      });
      this.inflight.add(pending);
    });
  }

  private logTransitions(list: readonly Upstream[]): void {
    for (const u of list) {
      const before = this.lastHealthy.get(u.key);
      if (before === u.healthy) continue;
      this.lastHealthy.set(u.key, u.healthy);
      if (before === undefined && u.healthy) continue;
      const detail = { upstream: u.name, zone: u.zone, address: `${u.address}:${u.port}` };
      if (u.healthy) this.logger.info(detail, 'upstream healthy again: circuit closed');
      else
        this.logger.warn(
          { ...detail, lastError: u.health.lastError },
          'upstream unhealthy: circuit open, skipped until a probe passes',
        );
    }
  }
}
