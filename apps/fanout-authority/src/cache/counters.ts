import type { CacheEvent, CacheMetricsSink, CacheStats, NotStoredReason } from './types.js';
import { emptyCacheStats } from './types.js';

/**
 * The cache's event counters: `stats` (read at scrape time) and the optional metrics sink,
 * bumped together. A sink that throws is ignored: metrics never break an answer.
 */
export class CacheCounters {
  readonly stats: CacheStats = emptyCacheStats();

  constructor(private readonly metrics?: CacheMetricsSink) {}

  count(event: CacheEvent): void {
    const s = this.stats;
    switch (event) {
      case 'hit':
        s.hits++;
        break;
      case 'miss':
        s.misses++;
        break;
      case 'stale_served':
        s.staleServed++;
        break;
      case 'prefetch':
        s.prefetches++;
        break;
      case 'eviction':
        s.evictions++;
        break;
      case 'expired':
        s.expired++;
        break;
      case 'store':
        s.stores++;
        break;
      case 'dropped':
        s.dropped++;
        break;
      case 'not_stored':
        break;
    }
    this.emit(event, undefined);
  }

  notStored(reason: NotStoredReason): void {
    this.stats.notStored++;
    if (reason === 'unparseable') this.stats.unparseable++;
    this.emit('not_stored', reason);
  }

  /** `amount` entries dropped at once (clear). */
  dropped(amount: number): void {
    this.stats.dropped += amount;
    if (amount > 0) this.emit('dropped', undefined, amount);
  }

  private emit(event: CacheEvent, reason: NotStoredReason | undefined, amount = 1): void {
    if (this.metrics === undefined) return;
    try {
      this.metrics.inc(event, reason, amount);
    } catch {
      // A broken metrics sink must never break an answer.
    }
  }
}
