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
    /** Upper bound on accounted bytes (reply bytes + key + fixed per-entry overhead). */
    maxBytes: z
      .number()
      .int()
      .min(4096)
      .default(64 * 1024 * 1024),
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
  })
  .refine((c) => c.minTtl <= c.maxTtl, {
    message: 'minTtl must not be greater than maxTtl',
    path: ['minTtl'],
  });

export type CacheConfig = z.infer<typeof cacheConfigSchema>;
export type PrefetchConfig = z.infer<typeof prefetchConfigSchema>;

/** The defaults, for callers that build an AnswerCache without a config file. */
export const defaultCacheConfig: CacheConfig = cacheConfigSchema.parse({});
