import { CLASS, decode, encode, patchStored, QTYPE, RCODE, scan } from '@mdns/protocol';
import { describe, expect, it } from 'vitest';
import type { AnswerCache } from '../src/cache/index.js';
import { cache, k, nxdomain, positive, reply, T0, ZONE } from './cache-fixtures.js';

describe('serving a hit with protocol patchStored', () => {
  function query(name: string, id: number): Uint8Array {
    return encode({
      id,
      type: 'query',
      flags: 0x0100,
      questions: [{ name, type: 'A', class: 'IN' }],
    });
  }

  function serve(
    c: AnswerCache,
    name: string,
    nowMs: number,
  ): { ttls: number[]; id: number; qname: string } {
    const qbytes = query(name, 4242);
    const scanned = scan(qbytes);
    if (!scanned.ok) throw new Error(scanned.error);
    const hit = c.lookup(
      c.key(scanned.query.qname, scanned.query.qtype, scanned.query.qclass, false),
      nowMs,
    );
    if (hit === null) throw new Error('expected a hit');
    const out = patchStored(hit.stored, scanned.query, qbytes, {
      elapsedSeconds: hit.elapsedSeconds,
      ttlOverride: hit.ttlOverride,
      maxSize: 512,
    });
    const decoded = decode(out);
    if (!decoded.ok) throw new Error(decoded.error);
    const m = decoded.message;
    return {
      ttls: [...(m.answers ?? []), ...(m.authorities ?? [])].map((r) => (r as { ttl: number }).ttl),
      id: m.id ?? -1,
      qname: m.questions?.[0]?.name ?? '',
    };
  }

  it('a fresh hit is served with aged TTLs, the new ID and the client case', () => {
    const c = cache();
    const name = `svc.${ZONE}`;
    c.store(
      c.key(name, QTYPE.A, CLASS.IN, false),
      reply(
        name,
        RCODE.NOERROR,
        [
          { name, type: 'A', ttl: 300, data: '10.0.0.1' },
          { name, type: 'A', ttl: 60, data: '10.0.0.2' },
        ],
        [],
      ),
      ['x'],
      T0,
    );
    expect(serve(c, 'SVC.prod.example.tld', T0 + 20_000)).toEqual({
      ttls: [280, 40],
      id: 4242,
      qname: 'SVC.prod.example.tld',
    });
  });

  it('a stale hit is served with staleAnswerTtl', () => {
    const c = cache({ staleAnswerTtl: 30 });
    const name = `gone.${ZONE}`;
    c.store(c.key(name, QTYPE.A, CLASS.IN, false), nxdomain(name, 600, 60), ['x'], T0);
    expect(serve(c, name, T0 + 3_600_000).ttls).toEqual([30]);
  });
});

describe('ageing and serve-stale (RFC 8767)', () => {
  it('TTLs age with the clock, in whole seconds', () => {
    const c = cache();
    c.store(k(c, 'a'), positive('a', 60), [], T0);
    expect(c.lookup(k(c, 'a'), T0 + 10_500)).toMatchObject({
      state: 'fresh',
      elapsedSeconds: 10,
      remainingSeconds: 50,
    });
    expect(c.lookup(k(c, 'a'), T0 + 59_999)).toMatchObject({
      state: 'fresh',
      elapsedSeconds: 59,
      remainingSeconds: 1,
    });
  });

  it('a clock that steps back never raises a TTL above the original', () => {
    const c = cache();
    c.store(k(c, 'a'), positive('a', 60), [], T0);
    expect(c.lookup(k(c, 'a'), T0 - 5_000)).toMatchObject({
      elapsedSeconds: 0,
      remainingSeconds: 60,
    });
  });

  it('after expiry the entry is stale, with staleAnswerTtl, and counts as a miss', () => {
    const c = cache({ staleAnswerTtl: 30 });
    c.store(k(c, 'a'), positive('a', 60), [], T0);
    const hit = c.lookup(k(c, 'a'), T0 + 60_000);
    expect(hit).toMatchObject({
      state: 'stale',
      remainingSeconds: 0,
      elapsedSeconds: 60,
      ttlOverride: 30,
      prefetch: false,
    });
    expect(c.stats).toMatchObject({ hits: 0, misses: 1, staleServed: 0 });
    c.recordStaleServed();
    expect(c.stats.staleServed).toBe(1);
  });

  it('the stale window ends after maxStaleSeconds and the entry is gone', () => {
    const c = cache({ maxStaleSeconds: 100 });
    c.store(k(c, 'a'), positive('a', 60), [], T0);
    expect(c.lookup(k(c, 'a'), T0 + 159_999)?.state).toBe('stale');
    expect(c.lookup(k(c, 'a'), T0 + 160_000)).toBeNull();
    expect(c.stats).toMatchObject({ entries: 0, bytes: 0, expired: 1 });
  });

  it('maxStaleSeconds 0 disables serve-stale', () => {
    const c = cache({ maxStaleSeconds: 0 });
    c.store(k(c, 'a'), positive('a', 60), [], T0);
    expect(c.lookup(k(c, 'a'), T0 + 60_000)).toBeNull();
  });

  it('sweep frees entries past their stale window without a lookup', () => {
    const c = cache({ maxStaleSeconds: 10 });
    c.store(k(c, 'short'), positive('short', 5), [], T0);
    c.store(k(c, 'long'), positive('long', 500), [], T0);
    expect(c.sweep(T0 + 14_999)).toBe(0);
    expect(c.sweep(T0 + 15_000)).toBe(1);
    expect(c.stats.entries).toBe(1);
    expect(c.peek(k(c, 'long'), T0 + 15_000)).toMatchObject({
      state: 'fresh',
      remainingSeconds: 485,
    });
  });
});

describe('prefetch', () => {
  it('fires once, for an entry with minHits hits within thresholdPercent of expiry', () => {
    const c = cache({ prefetch: { minHits: 3, thresholdPercent: 10 } });
    c.store(k(c, 'a'), positive('a', 100), [], T0);
    // Popular, but far from expiry.
    for (let s = 0; s < 3; s++) expect(c.lookup(k(c, 'a'), T0 + s * 1000)?.prefetch).toBe(false);
    expect(c.lookup(k(c, 'a'), T0 + 89_000)?.prefetch).toBe(false); // 11 s left
    expect(c.lookup(k(c, 'a'), T0 + 90_000)?.prefetch).toBe(true); // 10 s left
    expect(c.lookup(k(c, 'a'), T0 + 91_000)?.prefetch).toBe(false);
    expect(c.lookup(k(c, 'a'), T0 + 99_000)?.prefetch).toBe(false);
    expect(c.stats.prefetches).toBe(1);
    // The refreshed entry is a new lifetime: it may fire again.
    c.store(k(c, 'a'), positive('a', 100), [], T0 + 95_000);
    for (let s = 0; s < 2; s++) c.lookup(k(c, 'a'), T0 + 96_000);
    expect(c.lookup(k(c, 'a'), T0 + 186_000)?.prefetch).toBe(true);
  });

  it('does not fire before minHits, however close to expiry', () => {
    const c = cache({ prefetch: { minHits: 3 } });
    c.store(k(c, 'a'), positive('a', 100), [], T0);
    expect(c.lookup(k(c, 'a'), T0 + 95_000)?.prefetch).toBe(false);
    expect(c.lookup(k(c, 'a'), T0 + 96_000)?.prefetch).toBe(false);
    expect(c.lookup(k(c, 'a'), T0 + 97_000)?.prefetch).toBe(true);
  });

  it('never fires when disabled, nor for a stale entry', () => {
    const off = cache({ prefetch: { enabled: false, minHits: 1 } });
    off.store(k(off, 'a'), positive('a', 100), [], T0);
    expect(off.lookup(k(off, 'a'), T0 + 99_000)?.prefetch).toBe(false);
    const on = cache({ prefetch: { minHits: 1 } });
    on.store(k(on, 'a'), positive('a', 100), [], T0);
    expect(on.lookup(k(on, 'a'), T0 + 100_000)).toMatchObject({ state: 'stale', prefetch: false });
  });
});
