import type { CacheConfig } from './config.js';
import { clampTtl, readReplyTtl } from './reply-ttl.js';
import { prepareForCache, type StoredAnswer } from './stored.js';
import type {
  CacheEntryInfo,
  CacheEvent,
  CacheHit,
  CacheMetricsSink,
  CacheStats,
  NotStoredReason,
} from './types.js';
import { emptyCacheStats } from './types.js';

/**
 * Accounted bytes per entry on top of the reply bytes and the key: the entry object, the
 * StoredAnswer with its Buffer and three Uint32Arrays, the Map slot and the index sets.
 * Measured on Node 20 (heap + external after GC, 50k entries): ~1.3 KB per entry for a
 * 1-2 record reply, ~2.2 KB for a 20-record (365-byte) reply. An estimate, so `maxBytes` bounds the
 * real footprint to within ~25%, not exactly.
 */
export const ENTRY_OVERHEAD_BYTES = 1280;

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
  readonly expiresAtMs: number;
  readonly staleUntilMs: number;
  readonly negative: boolean;
  readonly upstreams: readonly string[];
  hits: number;
  prefetchSignalled: boolean;
  /** The cache's recency clock when this entry last moved to the young end. */
  touchedAt: number;
}

/**
 * In-process answer cache of prepared reply bytes, bounded by entries and bytes (LRU).
 * Recency is the Map's insertion order: a hit deletes and re-inserts its key (O(1)), eviction
 * takes the first key. Nothing here throws into the caller.
 *
 * The re-insert was the largest single cost of a hit, so a hit only moves its entry when it
 * has fallen behind by more than an eighth of the entries held, in recency (`touchedAt` vs the
 * recency clock): an entry that recent is nowhere near the eviction end, and eviction order
 * stays within that eighth of true LRU (exact LRU below 8 entries).
 */
export class AnswerCache {
  readonly stats: CacheStats = emptyCacheStats();

  private readonly entries = new Map<string, Entry>();
  /** upstream name -> keys of the entries it supplied, so dropUpstream is not a full scan. */
  private readonly byUpstream = new Map<string, Set<string>>();
  private readonly negativeKeys = new Set<string>();
  private readonly prepare: (response: Uint8Array) => StoredAnswer | null;
  /** Recency clock: +1 per insert or move to the young end. */
  private recency = 0;

  constructor(
    private readonly config: CacheConfig,
    private readonly metrics?: CacheMetricsSink,
    options: AnswerCacheOptions = {},
  ) {
    this.prepare = options.prepare ?? prepareForCache;
  }

  /**
   * Cache key: (name case-insensitively, type, class, DO bit). A DO=1 reply may carry DNSSEC
   * records a DO=0 client must not get, hence the bit.
   */
  key(qname: string, qtype: number, qclass: number, dnssecOk: boolean): string {
    return `${qtype}/${qclass}/${dnssecOk ? 1 : 0}/${qname.toLowerCase()}`;
  }

  /** A fresh entry, a stale one still inside `maxStaleSeconds`, or null. Touches LRU order. */
  lookup(key: string, nowMs: number): CacheHit | null {
    const entry = this.config.enabled ? this.entries.get(key) : undefined;
    if (entry === undefined) {
      this.count('miss');
      return null;
    }
    if (nowMs >= entry.staleUntilMs) {
      this.remove(entry);
      this.count('expired');
      this.count('miss');
      return null;
    }
    if (this.recency - entry.touchedAt > this.entries.size >> 3) {
      this.entries.delete(key);
      this.entries.set(key, entry);
      entry.touchedAt = ++this.recency;
    }
    // A clock stepping back must not produce TTLs above the original.
    const elapsedSeconds =
      nowMs > entry.storedAtMs ? Math.floor((nowMs - entry.storedAtMs) / 1000) : 0;
    if (nowMs >= entry.expiresAtMs) {
      this.count('miss');
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
    this.count('hit');
    const prefetch = this.shouldPrefetch(entry, nowMs);
    if (prefetch) {
      entry.prefetchSignalled = true;
      this.count('prefetch');
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
   * `upstreams` are the names that supplied it (several when merged), for `dropUpstream`.
   */
  store(key: string, response: Uint8Array, upstreams: readonly string[], nowMs: number): void {
    try {
      const reason = this.tryStore(key, response, upstreams, nowMs);
      if (reason !== null) this.notStored(reason);
    } catch {
      // Only a bug in prepare/bookkeeping lands here; losing one store beats failing an answer.
      this.notStored('prepare-failed');
    }
  }

  /** The caller served a stale hit (the fan-out failed): counts it. */
  recordStaleServed(): void {
    this.count('stale_served');
  }

  /** Removes every NXDOMAIN / NODATA entry (an upstream's NOTIFY: names may now exist). */
  dropNegative(): number {
    return this.dropKeys([...this.negativeKeys]);
  }

  /** Removes every entry that `upstream` supplied, alone or merged with others. */
  dropUpstream(upstream: string): number {
    const keys = this.byUpstream.get(upstream);
    return keys === undefined ? 0 : this.dropKeys([...keys]);
  }

  /**
   * NOTIFY from `upstream`: its entries must be asked again, but they stay for serve-stale.
   * Deleting them (dropUpstream) let anyone who can send UDP from a gateway's address empty
   * the cache thousands of times a second, and with the gateway slow every answer became
   * SERVFAIL instead of stale (found by reliability/ fuzzing). An expired entry makes the next
   * lookup fan out (fresh data when the upstream answers) and is served stale only if that
   * fails, within the entry's original serve-stale window.
   */
  expireUpstream(upstream: string, nowMs: number): number {
    const keys = this.byUpstream.get(upstream);
    return keys === undefined ? 0 : this.expireKeys(keys, nowMs);
  }

  /** Every NXDOMAIN / NODATA entry expires now (names may exist now); stale-eligible as above. */
  expireNegative(nowMs: number): number {
    return this.expireKeys(this.negativeKeys, nowMs);
  }

  clear(): void {
    const dropped = this.entries.size;
    this.stats.dropped += dropped;
    if (dropped > 0) this.emit('dropped', undefined, dropped);
    this.entries.clear();
    this.byUpstream.clear();
    this.negativeKeys.clear();
    this.stats.entries = 0;
    this.stats.bytes = 0;
  }

  /**
   * Removes entries whose serve-stale window has ended. Lookups already drop such entries
   * when they meet them; this frees the ones nobody asks for again. A full scan: call it
   * from a timer (e.g. every minute), never per query.
   */
  sweep(nowMs: number): number {
    let removed = 0;
    for (const entry of this.entries.values()) {
      if (nowMs >= entry.staleUntilMs) {
        this.remove(entry);
        this.count('expired');
        removed++;
      }
    }
    return removed;
  }

  /** A read-only view of one entry, without touching LRU order or counters. */
  peek(key: string, nowMs: number): CacheEntryInfo | null {
    const entry = this.entries.get(key);
    if (entry === undefined || nowMs >= entry.staleUntilMs) return null;
    const elapsedSeconds =
      nowMs > entry.storedAtMs ? Math.floor((nowMs - entry.storedAtMs) / 1000) : 0;
    const fresh = nowMs < entry.expiresAtMs;
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
    const bytes = response.length + key.length + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.config.maxBytes) return 'too-large';
    const stored = this.prepare(response);
    if (stored === null) return 'unparseable';

    const previous = this.entries.get(key);
    if (previous !== undefined) this.remove(previous);
    this.makeRoom(bytes);
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
      hits: 0,
      prefetchSignalled: false,
      touchedAt: ++this.recency,
    };
    this.entries.set(key, entry);
    this.stats.entries++;
    this.stats.bytes += bytes;
    if (negative) this.negativeKeys.add(key);
    for (const upstream of entry.upstreams) {
      let keys = this.byUpstream.get(upstream);
      if (keys === undefined) {
        keys = new Set();
        this.byUpstream.set(upstream, keys);
      }
      keys.add(key);
    }
    this.count('store');
    return null;
  }

  /** Popular (minHits in this lifetime) and within thresholdPercent of the TTL from expiry, once. */
  private shouldPrefetch(entry: Entry, nowMs: number): boolean {
    const p = this.config.prefetch;
    if (!p.enabled || entry.prefetchSignalled || entry.hits < p.minHits) return false;
    return (entry.expiresAtMs - nowMs) * 100 <= p.thresholdPercent * entry.ttlSeconds * 1000;
  }

  private makeRoom(bytes: number): void {
    const { maxEntries, maxBytes } = this.config;
    while (
      this.entries.size > 0 &&
      (this.entries.size >= maxEntries || this.stats.bytes + bytes > maxBytes)
    ) {
      const oldest = this.entries.values().next().value as Entry;
      this.remove(oldest);
      this.count('eviction');
    }
  }

  private expireKeys(keys: ReadonlySet<string>, nowMs: number): number {
    let expired = 0;
    for (const key of keys) {
      const entry = this.entries.get(key);
      if (entry === undefined || entry.expiresAtMs <= nowMs) continue;
      // Same key: Map.set keeps the entry's LRU position; the indexes hold keys, not entries.
      this.entries.set(key, { ...entry, expiresAtMs: nowMs, prefetchSignalled: false });
      expired++;
    }
    return expired;
  }

  private dropKeys(keys: string[]): number {
    let removed = 0;
    for (const key of keys) {
      const entry = this.entries.get(key);
      if (entry === undefined) continue;
      this.remove(entry);
      this.count('dropped');
      removed++;
    }
    return removed;
  }

  private remove(entry: Entry): void {
    this.entries.delete(entry.key);
    this.stats.entries--;
    this.stats.bytes -= entry.bytes;
    if (entry.negative) this.negativeKeys.delete(entry.key);
    for (const upstream of entry.upstreams) {
      const keys = this.byUpstream.get(upstream);
      if (keys === undefined) continue;
      keys.delete(entry.key);
      // Upstream names come and go with config reloads; an empty set must not linger.
      if (keys.size === 0) this.byUpstream.delete(upstream);
    }
  }

  private notStored(reason: NotStoredReason): void {
    this.stats.notStored++;
    if (reason === 'unparseable') this.stats.unparseable++;
    this.emit('not_stored', reason);
  }

  private count(event: CacheEvent): void {
    switch (event) {
      case 'hit':
        this.stats.hits++;
        break;
      case 'miss':
        this.stats.misses++;
        break;
      case 'stale_served':
        this.stats.staleServed++;
        break;
      case 'prefetch':
        this.stats.prefetches++;
        break;
      case 'eviction':
        this.stats.evictions++;
        break;
      case 'expired':
        this.stats.expired++;
        break;
      case 'store':
        this.stats.stores++;
        break;
      case 'dropped':
        this.stats.dropped++;
        break;
      case 'not_stored':
        break;
    }
    this.emit(event, undefined);
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

function dedupe(upstreams: readonly string[]): readonly string[] {
  return upstreams.length < 2 ? upstreams.slice() : [...new Set(upstreams)];
}
