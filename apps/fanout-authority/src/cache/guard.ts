import type { Logger } from '@mdns/ops';
import type { AnswerCache } from './answer-cache.js';

/**
 * The cache as the DNS path uses it: a cache call that throws is counted (`cacheErrors`),
 * logged and bypassed; it never fails or slows an answer. The current cache is read at each
 * call, so a reload that replaces the cache is seen at once.
 */
export class CacheGuard {
  constructor(
    private readonly current: () => AnswerCache | null,
    private readonly counts: { cacheErrors: number },
    private readonly logger: Pick<Logger, 'warn'>,
  ) {}

  /** `f` on the current cache; null when caching is off or `f` threw. */
  call<T>(what: string, f: (cache: AnswerCache) => T): T | null {
    const cache = this.current();
    if (cache === null) return null;
    try {
      return f(cache);
    } catch (err) {
      this.failed(err, what);
      return null;
    }
  }

  /** For the hit path, which calls the cache inline (no closure per query). */
  failed(err: unknown, what: string): void {
    this.counts.cacheErrors++;
    this.logger.warn({ err, what }, 'cache call failed; answering without the cache');
  }
}
