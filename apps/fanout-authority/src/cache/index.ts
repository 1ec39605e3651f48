export type { AnswerCacheOptions } from './answer-cache.js';
export {
  AnswerCache,
  answerKey,
  ENTRY_OVERHEAD_BYTES,
  entryBytes,
  RECORD_OVERHEAD_BYTES,
} from './answer-cache.js';
export type { CacheConfig, PrefetchConfig } from './config.js';
export {
  CACHE_SHARE_OF_MEMORY_LIMIT,
  cacheBudget,
  cacheConfigSchema,
  DEFAULT_MAX_BYTES,
  defaultCacheConfig,
  NEGATIVE_SHARE_OF_MAX_BYTES,
  prefetchConfigSchema,
} from './config.js';
export { CacheGuard } from './guard.js';
export type { ReplyTtl, TtlLimits } from './reply-ttl.js';
export { clampTtl, readReplyTtl } from './reply-ttl.js';
export { Flight, type FlightFailure, type FlightListener, SingleFlight } from './single-flight.js';
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
