import { sourcePrefix } from '@mdns/transport';

/**
 * Per-source rate limit of cache misses. A miss is a fan-out to every upstream of the zone,
 * the most expensive thing a query can make us do, and a random-name flood is nothing but
 * misses: without a limit one client spends the upstreams' and our CPU for everyone. A token
 * bucket per source (`missesPerSecond`, `burst`); hits and local answers never take a token.
 * The table is bounded (`maxSources`, least recently seen evicted), so a flood from many
 * (spoofed) addresses costs memory up to that bound and no more.
 */

export interface Bucket {
  tokens: number;
  atMs: number;
}

export interface MissLimits {
  /** Tokens added per second per source; 0 disables the limit. */
  missesPerSecond: number;
  /** Bucket size: misses a quiet source may send at once. */
  burst: number;
  /** Sources tracked; the least recently seen is forgotten beyond this. */
  maxSources: number;
}

/** Pure (mutates `bucket`): refills by elapsed time, then takes one token if there is one. */
export function takeToken(bucket: Bucket, nowMs: number, limits: MissLimits): boolean {
  const elapsedMs = nowMs - bucket.atMs;
  if (elapsedMs > 0) {
    bucket.tokens = Math.min(
      limits.burst,
      bucket.tokens + (elapsedMs * limits.missesPerSecond) / 1000,
    );
    bucket.atMs = nowMs;
  }
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

/**
 * The client a bucket belongs to: an IPv4 address (IPv4-mapped IPv6 included) as is, an IPv6
 * address by its /64 — one host normally owns a whole /64, so per-address buckets there
 * would be one per query for an attacker. The same prefix rule as the transport's
 * per-source TCP cap (`sourcePrefix`).
 */
export function sourceKey(address: string): string {
  return sourcePrefix(address, 32, 64);
}

/** The bucket table: a Map in recency order (touch = delete + set), bounded by `maxSources`. */
export class MissLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /**
   * May this source cause one more fan-out now? UDP and TCP have separate buckets: a spoofed
   * UDP flood in a victim's name must not use up the bucket of the victim's TCP retries.
   */
  allow(address: string, transport: 'udp' | 'tcp', nowMs: number, limits: MissLimits): boolean {
    if (limits.missesPerSecond === 0) return true;
    const key = transport === 'udp' ? sourceKey(address) : `tcp ${sourceKey(address)}`;
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: limits.burst, atMs: nowMs };
      while (this.buckets.size >= limits.maxSources) {
        this.buckets.delete(this.buckets.keys().next().value as string);
      }
    } else {
      this.buckets.delete(key);
    }
    this.buckets.set(key, bucket);
    return takeToken(bucket, nowMs, limits);
  }

  get size(): number {
    return this.buckets.size;
  }
}
