export type { AnswerCacheOptions } from './answer-cache.js';
export { AnswerCache, ENTRY_OVERHEAD_BYTES } from './answer-cache.js';
export type { CacheConfig, PrefetchConfig } from './config.js';
export {
  cacheConfigSchema,
  defaultCacheConfig,
  prefetchConfigSchema,
} from './config.js';
export type { ReplyTtl, TtlLimits } from './reply-ttl.js';
export { clampTtl, readReplyTtl } from './reply-ttl.js';
export { SingleFlight } from './single-flight.js';
export type { StoredAnswer } from './stored.js';
export type {
  CacheEntryInfo,
  CacheEvent,
  CacheHit,
  CacheMetricsSink,
  CacheStats,
  NotStoredReason,
} from './types.js';
export { emptyCacheStats } from './types.js';
