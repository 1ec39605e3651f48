import { describe, expect, it } from 'vitest';
import { MissLimiter, sourceKey, takeToken } from '../src/dns/miss-limit.js';

const limits = { missesPerSecond: 10, burst: 5, maxSources: 3 };

describe('takeToken', () => {
  it('a full bucket allows `burst` misses at once, then refills at the rate', () => {
    const b = { tokens: 5, atMs: 0 };
    expect(Array.from({ length: 6 }, () => takeToken(b, 0, limits))).toEqual([
      true,
      true,
      true,
      true,
      true,
      false,
    ]);
    expect(takeToken(b, 50, limits)).toBe(false); // half a token
    expect(takeToken(b, 100, limits)).toBe(true); // one token after 100 ms at 10/s
    expect(takeToken(b, 100, limits)).toBe(false);
  });

  it('never holds more than `burst`, and a clock stepping back adds nothing', () => {
    const b = { tokens: 0, atMs: 1000 };
    takeToken(b, 1_000_000, limits);
    expect(b.tokens).toBe(4);
    expect(takeToken({ tokens: 0, atMs: 1000 }, 0, limits)).toBe(false);
  });
});

describe('sourceKey', () => {
  it('IPv4 and IPv4-mapped as is, IPv6 by its /64', () => {
    expect(sourceKey('::ffff:192.0.2.7')).toBe(sourceKey('192.0.2.7'));
    expect(sourceKey('192.0.2.8')).not.toBe(sourceKey('192.0.2.7'));
    expect(sourceKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe(sourceKey('2001:db8:1:2:aaaa::1'));
    expect(sourceKey('2001:db8:1:3::1')).not.toBe(sourceKey('2001:db8:1:2:aaaa::1'));
    expect(sourceKey('2001:db8::1')).toBe(sourceKey('2001:db8:0:0:ffff::9'));
    expect(sourceKey('::1')).toBe(sourceKey('::2'));
  });
});

describe('MissLimiter', () => {
  it('limits each source on its own, UDP and TCP apart', () => {
    const m = new MissLimiter();
    for (let i = 0; i < 5; i++) expect(m.allow('192.0.2.1', 'udp', 0, limits)).toBe(true);
    expect(m.allow('192.0.2.1', 'udp', 0, limits)).toBe(false);
    expect(m.allow('192.0.2.2', 'udp', 0, limits)).toBe(true); // another client is unaffected
    expect(m.allow('192.0.2.1', 'tcp', 0, limits)).toBe(true); // its TCP retries are too
  });

  it('tracks at most maxSources, forgetting the least recently seen', () => {
    const m = new MissLimiter();
    for (let i = 0; i < 5; i++) m.allow('192.0.2.1', 'udp', 0, limits);
    for (let i = 0; i < 1000; i++) m.allow(`198.51.100.${i % 250}`, 'udp', 0, limits);
    expect(m.size).toBe(3);
    // 192.0.2.1 was forgotten: it starts again with a full bucket.
    expect(m.allow('192.0.2.1', 'udp', 0, limits)).toBe(true);
  });

  it('missesPerSecond 0 disables the limit and tracks nobody', () => {
    const m = new MissLimiter();
    const off = { ...limits, missesPerSecond: 0 };
    for (let i = 0; i < 100; i++) expect(m.allow('192.0.2.1', 'udp', 0, off)).toBe(true);
    expect(m.size).toBe(0);
  });
});
