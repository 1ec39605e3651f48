import type { DnsRecord } from '@mdns/protocol';
import { describe, expect, it } from 'vitest';
import { capTtls } from '../src/fanout/ttl-cap.js';

const a = (ttl: number): DnsRecord => ({ name: 'svc.z', type: 'A', ttl, data: '10.0.0.1' });

describe('served TTLs are capped at cache.maxTtl', () => {
  it.each([
    [[60], 300, [60]],
    [[300], 300, [300]],
    [[604800], 300, [300]],
    [[30, 604800], 300, [30, 300]],
    [[], 300, []],
  ])('%j with max %i -> %j', (ttls, max, expected) => {
    expect(capTtls(ttls.map(a), max).map((r) => (r as { ttl: number }).ttl)).toEqual(expected);
  });
  it('returns the same array when nothing is over the cap', () => {
    const records = [a(60)];
    expect(capTtls(records, 300)).toBe(records);
  });
});
