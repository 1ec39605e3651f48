import { CLASS, encode, QTYPE, RCODE } from '@mdns/protocol';
import { describe, expect, it } from 'vitest';
import {
  AnswerCache,
  cacheConfigSchema,
  ENTRY_OVERHEAD_BYTES,
  RECORD_OVERHEAD_BYTES,
  type StoredAnswer,
} from '../src/cache/index.js';
import { cache, k, nxdomain, positive, reply, soa, T0, ZONE } from './cache-fixtures.js';

/** The documented accounting model: reply + key + per-entry + per-record overhead. */
const accounted = (key: string, bytes: Uint8Array, records: number) =>
  bytes.length + key.length + ENTRY_OVERHEAD_BYTES + RECORD_OVERHEAD_BYTES * records;

describe('store and lookup', () => {
  it('a stored positive reply is a fresh hit with TTL = min RR TTL', () => {
    const c = cache();
    const key = k(c, `svc.${ZONE}`);
    c.store(
      key,
      reply(
        `svc.${ZONE}`,
        RCODE.NOERROR,
        [
          { name: `svc.${ZONE}`, type: 'A', ttl: 300, data: '10.0.0.1' },
          { name: `svc.${ZONE}`, type: 'A', ttl: 60, data: '10.0.0.2' },
        ],
        [],
      ),
      ['x'],
      T0,
    );
    const hit = c.lookup(key, T0);
    expect(hit).toMatchObject({
      state: 'fresh',
      elapsedSeconds: 0,
      remainingSeconds: 60,
      prefetch: false,
      negative: false,
    });
    expect(hit?.ttlOverride).toBeUndefined();
    expect(c.stats).toMatchObject({ entries: 1, hits: 1, misses: 0, stores: 1 });
  });

  it('a miss is counted', () => {
    const c = cache();
    expect(c.lookup(k(c, `nope.${ZONE}`), T0)).toBeNull();
    expect(c.stats.misses).toBe(1);
  });

  it('the stored answer comes from prepare(reply bytes)', () => {
    const seen: Uint8Array[] = [];
    // Opaque to the cache: whatever prepare returns is what a hit hands back.
    // (It reads the sizes it accounts for: the bytes and the number of TTL fields.)
    const prepared = {
      prepared: true,
      bytes: Buffer.alloc(40),
      ttlOffsets: new Uint32Array(1),
    } as unknown as StoredAnswer;
    const c = new AnswerCache(cacheConfigSchema.parse({}), undefined, {
      prepare: (bytes) => {
        seen.push(bytes);
        return prepared;
      },
    });
    const bytes = positive(`svc.${ZONE}`, 60);
    c.store(k(c, `svc.${ZONE}`), bytes, [], T0);
    expect(seen).toEqual([bytes]);
    expect(c.lookup(k(c, `svc.${ZONE}`), T0)?.stored).toBe(prepared);
  });

  it('a negative reply uses min(SOA TTL, SOA minimum) and is flagged negative', () => {
    const c = cache();
    const key = k(c, `gone.${ZONE}`);
    c.store(key, nxdomain(`gone.${ZONE}`, 3600, 120), ['x'], T0);
    expect(c.lookup(key, T0)).toMatchObject({
      state: 'fresh',
      remainingSeconds: 120,
      negative: true,
    });
    const nodata = k(c, `empty.${ZONE}`);
    c.store(nodata, reply(`empty.${ZONE}`, RCODE.NOERROR, [], [soa(45, 900)]), ['x'], T0);
    expect(c.lookup(nodata, T0)).toMatchObject({ remainingSeconds: 45, negative: true });
  });

  it('replacing an entry keeps the byte and entry accounting exact', () => {
    const c = cache();
    const key = k(c, `svc.${ZONE}`);
    const small = positive(`svc.${ZONE}`, 60, 1);
    const large = positive(`svc.${ZONE}`, 60, 20);
    c.store(key, small, ['x'], T0);
    c.store(key, large, ['y'], T0);
    expect(c.stats.entries).toBe(1);
    expect(c.stats.bytes).toBe(accounted(key, large, 20));
    expect(c.dropUpstream('x')).toBe(0);
    expect(c.dropUpstream('y')).toBe(1);
    expect(c.stats).toMatchObject({ entries: 0, bytes: 0 });
  });
});

describe('TTL clamps', () => {
  it('minTtl raises, maxTtl lowers', () => {
    const c = cache({ minTtl: 100, maxTtl: 1000 });
    c.store(k(c, 'a'), positive('a', 5), [], T0);
    c.store(k(c, 'b'), positive('b', 50_000), [], T0);
    expect(c.lookup(k(c, 'a'), T0)?.remainingSeconds).toBe(100);
    expect(c.lookup(k(c, 'b'), T0)?.remainingSeconds).toBe(1000);
  });

  it('negativeMaxTtl caps negative entries only', () => {
    const c = cache({ negativeMaxTtl: 60 });
    c.store(k(c, 'neg'), nxdomain('neg', 3600, 3600), [], T0);
    c.store(k(c, 'pos'), positive('pos', 3600), [], T0);
    expect(c.lookup(k(c, 'neg'), T0)?.remainingSeconds).toBe(60);
    expect(c.lookup(k(c, 'pos'), T0)?.remainingSeconds).toBe(3600);
  });

  it('a TTL of 0 is not stored', () => {
    const events: string[] = [];
    const c = cache({}, events);
    c.store(k(c, 'z'), positive('z', 0), [], T0);
    expect(c.stats.entries).toBe(0);
    expect(events).toContain('not_stored:zero-ttl');
  });
});

describe('replies that are never stored', () => {
  it.each([
    ['SERVFAIL', reply('a', RCODE.SERVFAIL, [], []), 'rcode'],
    ['REFUSED', reply('a', RCODE.REFUSED, [], []), 'rcode'],
    [
      'TC=1',
      reply('a', RCODE.NOERROR, [{ name: 'a', type: 'A', ttl: 60, data: '10.0.0.1' }], [], true),
      'truncated',
    ],
    ['negative without SOA', reply('a', RCODE.NXDOMAIN, [], []), 'no-soa'],
    ['garbage', Uint8Array.from([1, 2, 3, 4, 5]), 'unparseable'],
    ['a cut reply', positive('a', 60).subarray(0, 30), 'unparseable'],
    [
      'two questions',
      encode({
        id: 1,
        type: 'response',
        flags: 0x0400,
        questions: [
          { name: 'a', type: 'A', class: 'IN' },
          { name: 'b', type: 'A', class: 'IN' },
        ],
        answers: [{ name: 'a', type: 'A', ttl: 60, data: '10.0.0.1' }],
      }),
      'unparseable',
    ],
  ])('%s', (_label, bytes, reason) => {
    const events: string[] = [];
    const c = cache({}, events);
    expect(() => c.store(k(c, 'a'), bytes, ['x'], T0)).not.toThrow();
    expect(c.lookup(k(c, 'a'), T0)).toBeNull();
    expect(c.stats).toMatchObject({ entries: 0, bytes: 0, notStored: 1 });
    expect(c.stats.unparseable).toBe(reason === 'unparseable' ? 1 : 0);
    expect(events).toContain(`not_stored:${reason}`);
  });

  it('a reply larger than maxBytes on its own is not stored', () => {
    const c = cache({ maxBytes: 4096 });
    c.store(k(c, 'big'), positive('big', 60, 400), [], T0);
    expect(c.stats.entries).toBe(0);
  });

  it('a prepare step that throws, or a metrics sink that throws, never reaches the caller', () => {
    const c = new AnswerCache(
      cacheConfigSchema.parse({}),
      {
        inc: () => {
          throw new Error('sink down');
        },
      },
      {
        prepare: () => {
          throw new Error('prepare bug');
        },
      },
    );
    expect(() => c.store(k(c, 'a'), positive('a', 60), [], T0)).not.toThrow();
    expect(c.stats).toMatchObject({ entries: 0, notStored: 1 });
    expect(() => c.lookup(k(c, 'a'), T0)).not.toThrow();
  });

  it('willStore: false when disabled, counted as a refused store (the miss path then builds nothing)', () => {
    const off = cache({ enabled: false });
    expect(off.willStore()).toBe(false);
    expect(off.stats.notStored).toBe(1);
    const on = cache({});
    expect(on.willStore()).toBe(true);
    expect(on.stats.notStored).toBe(0);
  });

  it('nothing is stored or found when disabled', () => {
    const c = cache({ enabled: false });
    c.store(k(c, 'a'), positive('a', 60), [], T0);
    expect(c.lookup(k(c, 'a'), T0)).toBeNull();
    expect(c.stats.entries).toBe(0);
  });
});

describe('LRU bounds', () => {
  it('evicts the least recently used entry beyond maxEntries', () => {
    const c = cache({ maxEntries: 3 });
    for (const n of ['a', 'b', 'c']) c.store(k(c, n), positive(n, 60), [], T0);
    c.lookup(k(c, 'a'), T0); // a is now the most recent; b the oldest
    c.store(k(c, 'd'), positive('d', 60), [], T0);
    expect(c.stats).toMatchObject({ entries: 3, evictions: 1 });
    expect(c.peek(k(c, 'b'), T0)).toBeNull();
    for (const n of ['a', 'c', 'd']) expect(c.peek(k(c, n), T0)).not.toBeNull();
  });

  it('evicts the least recently used entries beyond maxBytes', () => {
    const big = (n: string) => positive(n, 60, 100);
    const size = accounted(k(cache(), 'a'), big('a'), 100);
    const c = cache({ maxBytes: Math.floor(size * 2.5) });
    expect(size * 2.5).toBeGreaterThanOrEqual(4096); // the schema minimum: two fit, a third does not
    c.store(k(c, 'a'), big('a'), [], T0);
    c.store(k(c, 'b'), big('b'), [], T0);
    expect(c.stats).toMatchObject({ entries: 2, bytes: 2 * size });
    c.lookup(k(c, 'a'), T0);
    c.store(k(c, 'c'), big('c'), [], T0);
    expect(c.stats).toMatchObject({ entries: 2, bytes: 2 * size, evictions: 1 });
    expect(c.peek(k(c, 'b'), T0)).toBeNull();
    expect(c.peek(k(c, 'a'), T0)).not.toBeNull();
  });

  it('peek does not refresh recency', () => {
    const c = cache({ maxEntries: 2 });
    c.store(k(c, 'a'), positive('a', 60), [], T0);
    c.store(k(c, 'b'), positive('b', 60), [], T0);
    c.peek(k(c, 'a'), T0);
    c.store(k(c, 'c'), positive('c', 60), [], T0);
    expect(c.peek(k(c, 'a'), T0)).toBeNull();
  });
});

describe('invalidation', () => {
  it('dropNegative removes every negative entry and nothing else', () => {
    const c = cache();
    c.store(k(c, 'n1'), nxdomain('n1'), ['x'], T0);
    c.store(k(c, 'n2'), reply('n2', RCODE.NOERROR, [], [soa(60, 60)]), ['y'], T0);
    c.store(k(c, 'p'), positive('p', 60), ['x'], T0);
    expect(c.dropNegative()).toBe(2);
    expect(c.dropNegative()).toBe(0);
    expect(c.stats).toMatchObject({ entries: 1, dropped: 2 });
    expect(c.peek(k(c, 'p'), T0)).not.toBeNull();
  });

  it("dropUpstream removes that upstream's entries, merged ones included", () => {
    const c = cache();
    c.store(k(c, 'x-only'), positive('x-only', 60), ['x'], T0);
    c.store(k(c, 'y-only'), positive('y-only', 60), ['y'], T0);
    c.store(k(c, 'merged'), positive('merged', 60), ['x', 'y', 'x'], T0);
    c.store(k(c, 'neg'), nxdomain('neg'), ['x', 'y', 'z'], T0);
    expect(c.dropUpstream('x')).toBe(3);
    expect(c.peek(k(c, 'y-only'), T0)).not.toBeNull();
    expect(c.stats.entries).toBe(1);
    expect(c.dropUpstream('x')).toBe(0);
    expect(c.dropUpstream('z')).toBe(0); // its only entry went with x
    expect(c.dropUpstream('y')).toBe(1);
    expect(c.stats).toMatchObject({ entries: 0, bytes: 0 });
  });

  it('clear empties the cache but keeps the counters', () => {
    const c = cache();
    c.store(k(c, 'a'), positive('a', 60), ['x'], T0);
    c.lookup(k(c, 'a'), T0);
    c.clear();
    expect(c.stats).toMatchObject({ entries: 0, bytes: 0, hits: 1, dropped: 1 });
    expect(c.lookup(k(c, 'a'), T0)).toBeNull();
    expect(c.dropUpstream('x')).toBe(0);
  });
});

describe('cache key', () => {
  it('is case-insensitive in the name', () => {
    const c = cache();
    expect(c.key('SVC.Prod.Example.TLD', QTYPE.A, CLASS.IN, false)).toBe(
      c.key(`svc.${ZONE}`, QTYPE.A, CLASS.IN, false),
    );
  });

  it('separates type, class and the DO bit', () => {
    const c = cache();
    const keys = new Set([
      c.key('a', QTYPE.A, CLASS.IN, false),
      c.key('a', QTYPE.AAAA, CLASS.IN, false),
      c.key('a', QTYPE.A, CLASS.ANY, false),
      c.key('a', QTYPE.A, CLASS.IN, true),
    ]);
    expect(keys.size).toBe(4);
    c.store(c.key('a', QTYPE.A, CLASS.IN, false), positive('a', 60), [], T0);
    expect(c.lookup(c.key('a', QTYPE.A, CLASS.IN, true), T0)).toBeNull();
    expect(c.lookup(c.key('a', QTYPE.A, CLASS.ANY, false), T0)).toBeNull();
    expect(c.lookup(c.key('A', QTYPE.A, CLASS.IN, false), T0)).not.toBeNull();
  });
});

describe('negative budget (negativeMaxBytes)', () => {
  const negBytes = (c: ReturnType<typeof cache>, n: string) => accounted(k(c, n), nxdomain(n), 1);

  it('a flood of new negatives evicts negatives only; positives stay', () => {
    const probe = cache();
    const c = cache({ maxBytes: 1_000_000, negativeMaxBytes: negBytes(probe, 'n0000') * 10 });
    for (let i = 0; i < 5; i++) c.store(k(c, `p${i}`), positive(`p${i}`, 60), ['x'], T0);
    for (let i = 0; i < 1000; i++) {
      const n = `n${String(i).padStart(4, '0')}`;
      c.store(k(c, n), nxdomain(n), ['x'], T0);
    }
    expect(c.stats.negativeEntries).toBe(10);
    expect(c.stats.negativeBytes).toBeLessThanOrEqual(negBytes(probe, 'n0000') * 10);
    for (let i = 0; i < 5; i++) expect(c.lookup(k(c, `p${i}`), T0)?.state).toBe('fresh');
    // The newest negatives are the ones kept.
    expect(c.lookup(k(c, 'n0999'), T0)?.negative).toBe(true);
    expect(c.lookup(k(c, 'n0000'), T0)).toBeNull();
  });

  it('maxBytes still bounds both together, evicting the least recently used of either', () => {
    const probe = cache();
    const size = negBytes(probe, 'n0');
    const c = cache({ maxBytes: Math.max(4096, size * 4), negativeMaxBytes: 4096 });
    c.store(k(c, 'n0'), nxdomain('n0'), ['x'], T0);
    for (let i = 0; i < 20; i++) c.store(k(c, `p${i}`), positive(`p${i}`, 60), ['x'], T0);
    expect(c.stats.bytes).toBeLessThanOrEqual(Math.max(4096, size * 4));
    expect(c.lookup(k(c, 'n0'), T0)).toBeNull(); // the oldest, though a negative
    expect(c.stats.negativeBytes).toBe(0);
  });

  it('a negative larger than negativeMaxBytes on its own is not stored', () => {
    const events: string[] = [];
    const c = cache({ negativeMaxBytes: 4096 }, events);
    const big = reply(
      'big',
      RCODE.NXDOMAIN,
      [],
      Array.from({ length: 80 }, () => soa(60, 60)),
    );
    c.store(k(c, 'big'), big, ['x'], T0);
    // (maxBytes, 64 MiB, would take it: the negative budget refused it.)
    expect(events).toEqual(['not_stored:too-large']);
  });
});
