import type { CacheConfig } from './config.js';
import { CacheCounters } from './counters.js';
import { clampTtl, readReplyTtl } from './reply-ttl.js';
import { prepareForCache, type StoredAnswer } from './stored.js';
import type {
  CacheEntryInfo,
  CacheHit,
  CacheMetricsSink,
  CacheStats,
  NotStoredReason,
} from './types.js';

/**
 * Accounted bytes per entry on top of the reply bytes and the key: the entry object, the
 * StoredAnswer with its own Buffer and three Uint32Arrays (each a JS object, an ArrayBuffer
 * and a malloc'd backing store) and the Map slot. Plus RECORD_OVERHEAD_BYTES per record:
 * the TTL offset/value and RRset-cut arrays grow with the records. Fitted on Node 20 and 24
 * (heap + external after GC, test/cache-memory.test.ts keeps it within 25 %).
 */
export const ENTRY_OVERHEAD_BYTES = 704;
export const RECORD_OVERHEAD_BYTES = 8;

/** The accounted size of one entry: what `maxBytes` and `negativeMaxBytes` are compared with. */
export function entryBytes(key: string, stored: StoredAnswer): number {
  return (
    stored.bytes.length +
    key.length +
    ENTRY_OVERHEAD_BYTES +
    RECORD_OVERHEAD_BYTES * stored.ttlOffsets.length
  );
}

/** Optional third constructor argument; tests and benchmarks swap the prepare step. */
export interface AnswerCacheOptions {
  /** Reply bytes -> StoredAnswer; null for a reply it refuses. Default: protocol's tryPrepareStored. */
  prepare?: (response: Uint8Array) => StoredAnswer | null;
}

interface Entry {
  readonly key: string;
  readonly stored: StoredAnswer;
  readonly bytes: number;
  readonly storedAtMs: number;
  readonly ttlSeconds: number;
  /** Lowered to the lookup time when an invalidation is found (see `invalidated`). */
  expiresAtMs: number;
  readonly staleUntilMs: number;
  readonly negative: boolean;
  readonly upstreams: readonly string[];
  /** The invalidation clock when stored: a NOTIFY stamped later makes the entry stale. */
  generation: number;
  hits: number;
  prefetchSignalled: boolean;
  /** The cache's recency clock when this entry last moved to the young end. */
  touchedAt: number;
}

/**
 * The key of a stored answer: (name case-insensitively, type, class, DO bit). A DO=1 reply
 * may carry DNSSEC records a DO=0 client must not get, hence the bit. Shared by the cache and
 * the replicas' stored answers (replica/stored-answers.ts), which key alike.
 */
export function answerKey(qname: string, qtype: number, qclass: number, dnssecOk: boolean): string {
  return `${qtype}/${qclass}/${dnssecOk ? 1 : 0}/${qname.toLowerCase()}`;
}

/**
 * In-process answer cache of prepared reply bytes, bounded by entries and bytes (LRU), with
 * negative answers (NXDOMAIN / NODATA) in a segment of their own under `negativeMaxBytes`, so
 * a random-name flood (every name a new NXDOMAIN) evicts other negatives, not the positive
 * answers other clients use. Recency is each segment's Map insertion order: a hit deletes and
 * re-inserts its key (O(1)), eviction takes the first key of the segment whose oldest entry
 * is older. Nothing here throws into the caller.
 *
 * The re-insert was the largest single cost of a hit, so a hit only moves its entry when it
 * has fallen behind by more than an eighth of the entries held, in recency (`touchedAt` vs the
 * recency clock): an entry that recent is nowhere near the eviction end, and eviction order
 * stays within that eighth of true LRU (exact LRU below 8 entries).
 *
 * NOTIFY invalidation is O(1): it stamps the upstream (or every negative entry) with the next
 * value of an invalidation clock; an entry stored before the stamp is stale from then on,
 * which the lookup that meets it finds out. Nothing walks the entries, so a flood of NOTIFYs
 * costs a Map write each however large the cache is.
 */
export class AnswerCache {
  private readonly counters: CacheCounters;
  /** Live counters, updated in place (read them at scrape time). */
  readonly stats: CacheStats;

  private readonly positives = new Map<string, Entry>();
  private readonly negatives = new Map<string, Entry>();
  private readonly prepare: (response: Uint8Array) => StoredAnswer | null;
  /** Recency clock: +1 per insert or move to the young end (shared by both segments). */
  private recency = 0;
  /** Invalidation clock: +1 per expireUpstream / expireNegative. */
  private generation = 0;
  /** upstream name -> the invalidation clock of its last NOTIFY. */
  private readonly upstreamExpiredAt = new Map<string, number>();
  private negativeExpiredAt = 0;

  constructor(
    private readonly config: CacheConfig,
    metrics?: CacheMetricsSink,
    options: AnswerCacheOptions = {},
  ) {
    this.prepare = options.prepare ?? prepareForCache;
    this.counters = new CacheCounters(metrics);
    this.stats = this.counters.stats;
  }

  /**
   * Cache key: (name case-insensitively, type, class, DO bit). A DO=1 reply may carry DNSSEC
   * records a DO=0 client must not get, hence the bit.
   */
  key(qname: string, qtype: number, qclass: number, dnssecOk: boolean): string {
    return answerKey(qname, qtype, qclass, dnssecOk);
  }

  /** A fresh entry, a stale one still inside `maxStaleSeconds`, or null. Touches LRU order. */
  lookup(key: string, nowMs: number): CacheHit | null {
    const entry = this.config.enabled ? this.find(key) : undefined;
    if (entry === undefined) {
      this.counters.count('miss');
      return null;
    }
    if (nowMs >= entry.staleUntilMs) {
      this.remove(entry);
      this.counters.count('expired');
      this.counters.count('miss');
      return null;
    }
    this.checkInvalidated(entry, nowMs);
    const segment = entry.negative ? this.negatives : this.positives;
    if (this.recency - entry.touchedAt > segment.size >> 3) {
      segment.delete(key);
      segment.set(key, entry);
      entry.touchedAt = ++this.recency;
    }
    // A clock stepping back must not produce TTLs above the original.
    const elapsedSeconds =
      nowMs > entry.storedAtMs ? Math.floor((nowMs - entry.storedAtMs) / 1000) : 0;
    if (nowMs >= entry.expiresAtMs) {
      this.counters.count('miss');
      return {
        state: 'stale',
        stored: entry.stored,
        elapsedSeconds,
        remainingSeconds: 0,
        prefetch: false,
        ttlOverride: this.config.staleAnswerTtl,
        negative: entry.negative,
      };
    }
    entry.hits++;
    this.counters.count('hit');
    const prefetch = this.shouldPrefetch(entry, nowMs);
    if (prefetch) {
      entry.prefetchSignalled = true;
      this.counters.count('prefetch');
    }
    return {
      state: 'fresh',
      stored: entry.stored,
      elapsedSeconds,
      remainingSeconds: entry.ttlSeconds - elapsedSeconds,
      prefetch,
      ttlOverride: undefined,
      negative: entry.negative,
    };
  }

  /**
   * Stores a reply under `key`, replacing any entry there. Classifies the reply itself (see
   * reply-ttl.ts); a reply it will not keep is counted under 'not_stored' with a reason.
   * `upstreams` are the names that supplied it (several when merged), for `expireUpstream`.
   */
  /**
   * False when caching is off, counted as a store refused for that reason ('disabled'): the
   * caller then skips building the reply it would have stored (the miss path's second build).
   */
  willStore(): boolean {
    if (this.config.enabled) return true;
    this.counters.notStored('disabled');
    return false;
  }

  store(key: string, response: Uint8Array, upstreams: readonly string[], nowMs: number): void {
    try {
      const reason = this.tryStore(key, response, upstreams, nowMs);
      if (reason !== null) this.counters.notStored(reason);
    } catch {
      // Only a bug in prepare/bookkeeping lands here; losing one store beats failing an answer.
      this.counters.notStored('prepare-failed');
    }
  }

  /** The caller served a stale hit (the fan-out failed): counts it. */
  recordStaleServed(): void {
    this.counters.count('stale_served');
  }

  /** Removes every NXDOMAIN / NODATA entry (O(negatives): they are a segment of their own). */
  dropNegative(): number {
    return this.dropWhere(this.negatives, () => true);
  }

  /**
   * Removes every entry that `upstream` supplied, alone or merged with others. A full scan:
   * for a config reload that removed the upstream, never for anything a packet can trigger.
   */
  dropUpstream(upstream: string): number {
    this.upstreamExpiredAt.delete(upstream);
    const supplied = (e: Entry) => e.upstreams.includes(upstream);
    return this.dropWhere(this.positives, supplied) + this.dropWhere(this.negatives, supplied);
  }

  /**
   * NOTIFY from `upstream`: every entry it supplied (alone or merged) is stale from now on, in
   * O(1) (see the class comment). Stale, not deleted: deleting let anyone who can send UDP
   * from a gateway's address empty the cache thousands of times a second, and with the gateway
   * slow every answer became SERVFAIL instead of stale (found by reliability/ fuzzing). The
   * next lookup fans out (fresh data when the upstream answers) and serves the entry stale
   * only if that fails, within the entry's original serve-stale window.
   */
  expireUpstream(upstream: string): void {
    this.upstreamExpiredAt.set(upstream, ++this.generation);
  }

  /** Every NXDOMAIN / NODATA entry is stale from now on (names may exist now), in O(1). */
  expireNegative(): void {
    this.negativeExpiredAt = ++this.generation;
  }

  clear(): void {
    this.counters.dropped(this.positives.size + this.negatives.size);
    this.positives.clear();
    this.negatives.clear();
    this.stats.entries = 0;
    this.stats.bytes = 0;
    this.stats.negativeEntries = 0;
    this.stats.negativeBytes = 0;
  }

  /**
   * Removes entries whose serve-stale window has ended. Lookups already drop such entries
   * when they meet them; this frees the ones nobody asks for again. A full scan: call it
   * from a timer (e.g. every minute), never per query.
   */
  sweep(nowMs: number): number {
    let removed = 0;
    for (const segment of [this.positives, this.negatives]) {
      for (const entry of segment.values()) {
        if (nowMs >= entry.staleUntilMs) {
          this.remove(entry);
          this.counters.count('expired');
          removed++;
        }
      }
    }
    return removed;
  }

  /** A read-only view of one entry, without touching LRU order or counters. */
  peek(key: string, nowMs: number): CacheEntryInfo | null {
    const entry = this.find(key);
    if (entry === undefined || nowMs >= entry.staleUntilMs) return null;
    const elapsedSeconds =
      nowMs > entry.storedAtMs ? Math.floor((nowMs - entry.storedAtMs) / 1000) : 0;
    const fresh = nowMs < entry.expiresAtMs && !this.invalidated(entry);
    return {
      key,
      state: fresh ? 'fresh' : 'stale',
      negative: entry.negative,
      ttlSeconds: entry.ttlSeconds,
      elapsedSeconds,
      remainingSeconds: fresh ? entry.ttlSeconds - elapsedSeconds : 0,
      hits: entry.hits,
      bytes: entry.bytes,
      upstreams: entry.upstreams,
    };
  }

  /**
   * The entry as `lookup` gives it, fresh or stale, for a sibling worker whose fan-out failed
   * (listen.workers > 1): without counting a hit or miss, moving it in LRU order or raising
   * its prefetch flag — the lookup is the sibling's, no client of this worker asked.
   */
  held(key: string, nowMs: number): CacheHit | null {
    const entry = this.config.enabled ? this.find(key) : undefined;
    if (entry === undefined || nowMs >= entry.staleUntilMs) return null;
    this.checkInvalidated(entry, nowMs);
    const elapsedSeconds =
      nowMs > entry.storedAtMs ? Math.floor((nowMs - entry.storedAtMs) / 1000) : 0;
    const fresh = nowMs < entry.expiresAtMs;
    return {
      state: fresh ? 'fresh' : 'stale',
      stored: entry.stored,
      elapsedSeconds,
      remainingSeconds: fresh ? entry.ttlSeconds - elapsedSeconds : 0,
      prefetch: false,
      ttlOverride: fresh ? undefined : this.config.staleAnswerTtl,
      negative: entry.negative,
    };
  }

  private find(key: string): Entry | undefined {
    return this.positives.get(key) ?? this.negatives.get(key);
  }

  /** Was there a NOTIFY for this entry (its upstreams, or negatives) after it was stored? */
  private invalidated(entry: Entry): boolean {
    // The common case, no NOTIFY since the entry was stored: one comparison.
    if (entry.generation >= this.generation) return false;
    if (entry.negative && this.negativeExpiredAt > entry.generation) return true;
    for (const upstream of entry.upstreams) {
      if ((this.upstreamExpiredAt.get(upstream) ?? 0) > entry.generation) return true;
    }
    return false;
  }

  /** Lazily applies invalidations: an invalidated entry expires now, once and for all. */
  private checkInvalidated(entry: Entry, nowMs: number): void {
    if (!this.invalidated(entry)) return;
    if (entry.expiresAtMs > nowMs) {
      entry.expiresAtMs = nowMs;
      entry.prefetchSignalled = false;
    }
    entry.generation = this.generation;
  }

  private tryStore(
    key: string,
    response: Uint8Array,
    upstreams: readonly string[],
    nowMs: number,
  ): NotStoredReason | null {
    if (!this.config.enabled) return 'disabled';
    const reply = readReplyTtl(response);
    if (reply.kind !== 'positive' && reply.kind !== 'negative') return reply.kind;
    const negative = reply.kind === 'negative';
    const ttlSeconds = clampTtl(reply.ttl, negative, this.config);
    if (ttlSeconds <= 0) return 'zero-ttl';
    const limit = negative ? this.config.negativeMaxBytes : this.config.maxBytes;
    // Cheap pre-check before the prepare step: the reply alone can already be too large.
    if (response.length + key.length + ENTRY_OVERHEAD_BYTES > limit) return 'too-large';
    const stored = this.prepare(response);
    if (stored === null) return 'unparseable';
    const bytes = entryBytes(key, stored);
    if (bytes > limit) return 'too-large';

    const previous = this.find(key);
    if (previous !== undefined) this.remove(previous);
    this.makeRoom(bytes, negative);
    const expiresAtMs = nowMs + ttlSeconds * 1000;
    const entry: Entry = {
      key,
      stored,
      bytes,
      storedAtMs: nowMs,
      ttlSeconds,
      expiresAtMs,
      staleUntilMs: expiresAtMs + this.config.maxStaleSeconds * 1000,
      negative,
      upstreams: dedupe(upstreams),
      generation: this.generation,
      hits: 0,
      prefetchSignalled: false,
      touchedAt: ++this.recency,
    };
    (negative ? this.negatives : this.positives).set(key, entry);
    this.stats.entries++;
    this.stats.bytes += bytes;
    if (negative) {
      this.stats.negativeEntries++;
      this.stats.negativeBytes += bytes;
    }
    this.counters.count('store');
    return null;
  }

  /** Popular (minHits in this lifetime) and within thresholdPercent of the TTL from expiry, once. */
  private shouldPrefetch(entry: Entry, nowMs: number): boolean {
    const p = this.config.prefetch;
    if (!p.enabled || entry.prefetchSignalled || entry.hits < p.minHits) return false;
    return (entry.expiresAtMs - nowMs) * 100 <= p.thresholdPercent * entry.ttlSeconds * 1000;
  }

  /** Evicts until `bytes` more fit: negatives under their own budget first, then both bounds. */
  private makeRoom(bytes: number, negative: boolean): void {
    const { maxEntries, maxBytes, negativeMaxBytes } = this.config;
    if (negative) {
      while (this.negatives.size > 0 && this.stats.negativeBytes + bytes > negativeMaxBytes) {
        this.evict(oldest(this.negatives));
      }
    }
    while (
      this.stats.entries > 0 &&
      (this.stats.entries >= maxEntries || this.stats.bytes + bytes > maxBytes)
    ) {
      const p = oldest(this.positives);
      const n = oldest(this.negatives);
      this.evict(p === undefined || (n !== undefined && n.touchedAt < p.touchedAt) ? n : p);
    }
  }

  private evict(entry: Entry | undefined): void {
    if (entry === undefined) return;
    this.remove(entry);
    this.counters.count('eviction');
  }

  private dropWhere(segment: Map<string, Entry>, match: (entry: Entry) => boolean): number {
    let removed = 0;
    for (const entry of [...segment.values()]) {
      if (!match(entry)) continue;
      this.remove(entry);
      this.counters.count('dropped');
      removed++;
    }
    return removed;
  }

  private remove(entry: Entry): void {
    (entry.negative ? this.negatives : this.positives).delete(entry.key);
    this.stats.entries--;
    this.stats.bytes -= entry.bytes;
    if (entry.negative) {
      this.stats.negativeEntries--;
      this.stats.negativeBytes -= entry.bytes;
    }
  }
}

function oldest(segment: Map<string, Entry>): Entry | undefined {
  return segment.values().next().value;
}

function dedupe(upstreams: readonly string[]): readonly string[] {
  return upstreams.length < 2 ? upstreams.slice() : [...new Set(upstreams)];
}
