import type { StoredAnswer } from './stored.js';

/** What `AnswerCache.lookup` returns for a key it holds (fresh, or stale within `maxStaleSeconds`). */
export interface CacheHit {
  /**
   * 'fresh': serve it. 'stale': expired but inside the serve-stale window — serve it only
   * when the fan-out failed (RFC 8767), with `ttlOverride` as every record's TTL.
   */
  state: 'fresh' | 'stale';
  /** Prepared reply bytes; answer with `patchStored(stored, query, queryBytes, {...})`. */
  stored: StoredAnswer;
  /** Whole seconds since the entry was stored: pass as `elapsedSeconds` to `patchStored`. */
  elapsedSeconds: number;
  /** Whole seconds until expiry (> 0 when fresh, 0 when stale). */
  remainingSeconds: number;
  /**
   * true at most once per entry lifetime: the entry is popular (`prefetch.minHits`) and near
   * expiry (`prefetch.thresholdPercent`) — refresh it in the background now.
   */
  prefetch: boolean;
  /** Addition: `staleAnswerTtl` for a stale hit (pass as `ttlOverride`), undefined when fresh. */
  ttlOverride: number | undefined;
  /** Addition: true for an NXDOMAIN / NODATA entry. */
  negative: boolean;
}

/** Why `store` did not keep a reply. */
export type NotStoredReason =
  | 'disabled'
  | 'unparseable' // not a DNS reply we can walk (bad bytes, QR=0, lying counts)
  | 'truncated' // TC=1
  | 'rcode' // anything but NOERROR / NXDOMAIN (SERVFAIL, REFUSED, ...)
  | 'no-soa' // negative reply without an SOA in the authority section
  | 'zero-ttl' // TTL 0 after clamping
  | 'too-large' // larger than maxBytes on its own
  | 'prepare-failed'; // prepareStored refused or threw

export type CacheEvent =
  | 'hit'
  | 'miss'
  | 'stale_served'
  | 'prefetch'
  | 'eviction'
  | 'expired'
  | 'store'
  | 'not_stored'
  | 'dropped';

/**
 * Optional counter sink (e.g. prom-client counters). `reason` is set for 'not_stored';
 * `amount` is 1 except for `clear()` ('dropped', n). A sink that throws is ignored: metrics
 * never break an answer.
 */
export interface CacheMetricsSink {
  inc(event: CacheEvent, reason: NotStoredReason | undefined, amount: number): void;
}

/** Live counters, updated in place (read them at scrape time). */
export interface CacheStats {
  entries: number;
  bytes: number;
  /** Of entries / bytes: the NXDOMAIN / NODATA segment (bounded by `negativeMaxBytes`). */
  negativeEntries: number;
  negativeBytes: number;
  /** Fresh lookups. */
  hits: number;
  /** Lookups that found nothing fresh (absent or stale). */
  misses: number;
  /** Stale lookups that were served (reported by the caller via `recordStaleServed`). */
  staleServed: number;
  /** Prefetch flags raised. */
  prefetches: number;
  /** Entries removed to make room (LRU). */
  evictions: number;
  /** Entries removed because their serve-stale window had ended. */
  expired: number;
  /** Replies stored. */
  stores: number;
  /** Replies not stored, for any reason (see the 'not_stored' metric for the reason). */
  notStored: number;
  /** Of notStored: replies that could not be parsed. */
  unparseable: number;
  /** Entries removed by dropNegative / dropUpstream / clear. */
  dropped: number;
}

/** All-zero stats: a new cache's, and what metrics export while the cache is disabled. */
export function emptyCacheStats(): CacheStats {
  return {
    entries: 0,
    bytes: 0,
    negativeEntries: 0,
    negativeBytes: 0,
    hits: 0,
    misses: 0,
    staleServed: 0,
    prefetches: 0,
    evictions: 0,
    expired: 0,
    stores: 0,
    notStored: 0,
    unparseable: 0,
    dropped: 0,
  };
}

/** Read-only view of one entry, for /explain and debugging (`AnswerCache.peek`). */
export interface CacheEntryInfo {
  key: string;
  state: 'fresh' | 'stale';
  negative: boolean;
  ttlSeconds: number;
  elapsedSeconds: number;
  remainingSeconds: number;
  hits: number;
  bytes: number;
  upstreams: readonly string[];
}
