import { containerMemoryLimit } from '@mdns/ops';
import { z } from 'zod';

const seconds = z.number().int().min(0);

/**
 * Answer cache settings (`cache:` key of the authority YAML). Every key has a default, so
 * `cache: {}` or no `cache:` key at all gives the documented behaviour.
 */
export const prefetchConfigSchema = z.strictObject({
  /** Refresh popular entries in the background shortly before they expire. */
  enabled: z.boolean().default(true),
  /** Hits an entry needs (in its current lifetime) before it is worth a prefetch. */
  minHits: z.number().int().min(1).default(3),
  /** "Near expiry" = remaining TTL at or below this percentage of the entry's original TTL. */
  thresholdPercent: z.number().min(1).max(100).default(10),
});

export const cacheConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Upper bound on entries; the least recently used entry is evicted beyond it. */
    maxEntries: z.number().int().min(1).default(100_000),
    /**
     * Upper bound on accounted bytes (the measured per-entry model, see answer-cache.ts),
     * positive and negative entries together. Default: an eighth of the container's memory
     * limit, 64 MiB without one (`cacheBudget`).
     */
    maxBytes: z.number().int().min(4096).optional(),
    /**
     * Upper bound on the accounted bytes of NXDOMAIN / NODATA entries: a random-name flood
     * (each name a new negative) evicts negatives only. Default: a quarter of `maxBytes`.
     */
    negativeMaxBytes: z.number().int().min(4096).optional(),
    /** TTLs below this are raised to it (positive and negative). */
    minTtl: seconds.default(0),
    /** TTLs above this are lowered to it (positive and negative). */
    maxTtl: seconds.default(86_400),
    /** Negative (NXDOMAIN / NODATA) TTLs above this are lowered to it. */
    negativeMaxTtl: seconds.default(3_600),
    /** TTL written into a stale answer (RFC 8767 recommends 30 s). */
    staleAnswerTtl: seconds.default(30),
    /** How long after expiry an entry may still be served stale; 0 disables serve-stale. */
    maxStaleSeconds: seconds.default(86_400),
    prefetch: prefetchConfigSchema.prefault({}),
    /**
     * At most one NOTIFY invalidation per upstream per this many ms; NOTIFYs inside the
     * interval are coalesced into one at its end (never lost). 0 = every NOTIFY invalidates.
     */
    notifyIntervalMs: z.number().int().min(0).max(60_000).default(1000),
  })
  .refine((c) => c.minTtl <= c.maxTtl, {
    message: 'minTtl must not be greater than maxTtl',
    path: ['minTtl'],
  })
  .transform((c) => {
    const maxBytes = c.maxBytes ?? cacheBudget(containerMemoryLimit());
    const negativeMaxBytes =
      c.negativeMaxBytes ?? Math.max(4096, Math.floor(maxBytes * NEGATIVE_SHARE_OF_MAX_BYTES));
    return { ...c, maxBytes, negativeMaxBytes };
  })
  .refine((c) => c.negativeMaxBytes <= c.maxBytes, {
    message: 'negativeMaxBytes must not be greater than maxBytes',
    path: ['negativeMaxBytes'],
  });

/** `maxBytes` without a container memory limit. */
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
/**
 * Share of a container memory limit the cache may account for. The rest is the process
 * itself (~60-80 MB RSS idle), V8's young generation and the garbage the old space holds
 * between collections: under a flood that fills the cache with new positive answers RSS
 * measured ~60 MB + 3x the accounted bytes (V8 sizes its heap limit from the cgroup, so it
 * collects hard only near the container's limit). An eighth keeps that well inside: 32 MiB
 * for the manifests' 256 MiB (RELIABILITY.md, "One client against the others").
 */
export const CACHE_SHARE_OF_MEMORY_LIMIT = 0.125;
export const NEGATIVE_SHARE_OF_MAX_BYTES = 0.25;

/** The default `maxBytes`: an eighth of the memory limit when there is one, else 64 MiB. */
export function cacheBudget(memoryLimitBytes: number | null): number {
  if (memoryLimitBytes === null) return DEFAULT_MAX_BYTES;
  return Math.max(4096, Math.floor(memoryLimitBytes * CACHE_SHARE_OF_MEMORY_LIMIT));
}

export type CacheConfig = z.infer<typeof cacheConfigSchema>;
export type PrefetchConfig = z.infer<typeof prefetchConfigSchema>;

/** The defaults, for callers that build an AnswerCache without a config file. */
export const defaultCacheConfig: CacheConfig = cacheConfigSchema.parse({});
