import type { DnsRecord } from '@mdns/protocol';

/**
 * The records as we serve them: no TTL above `maxTtl` (`cache.maxTtl`). The cache already
 * expires an entry by then, but the bytes carry the upstream's TTLs to the client and to every
 * resolver behind it, so one upstream reply (or a forged one) with a TTL of weeks would be
 * kept downstream for weeks. Returns `records` itself when nothing is over the cap.
 */
export function capTtls(records: DnsRecord[], maxTtl: number): DnsRecord[] {
  if (!records.some((rr) => ttlOf(rr) > maxTtl)) return records;
  return records.map((rr) => (ttlOf(rr) > maxTtl ? ({ ...rr, ttl: maxTtl } as DnsRecord) : rr));
}

function ttlOf(rr: DnsRecord): number {
  return (rr as { ttl?: number }).ttl ?? 0;
}
