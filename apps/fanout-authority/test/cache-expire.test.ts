import { RCODE } from '@mdns/protocol';
import { describe, expect, it } from 'vitest';
import { cache, k, nxdomain, positive, reply, soa, T0 } from './cache-fixtures.js';

// NOTIFY invalidation that keeps serve-stale working (found by reliability/ fuzzing: deleting
// the entries let a NOTIFY flood empty the cache) and costs O(1) (a generation stamp checked
// on lookup, not a walk over the entries). See test/e2e-notify-flood.test.ts.
describe('expireUpstream / expireNegative', () => {
  it("makes that upstream's entries stale, keeps the others fresh, frees nothing", () => {
    const c = cache();
    c.store(k(c, 'x-only'), positive('x-only', 60), ['x'], T0);
    c.store(k(c, 'y-only'), positive('y-only', 60), ['y'], T0);
    c.store(k(c, 'merged'), positive('merged', 60), ['x', 'y'], T0);
    c.expireUpstream('x');
    expect(c.lookup(k(c, 'x-only'), T0 + 1000)?.state).toBe('stale');
    expect(c.lookup(k(c, 'merged'), T0 + 1000)?.state).toBe('stale');
    expect(c.lookup(k(c, 'y-only'), T0 + 1000)?.state).toBe('fresh');
    expect(c.peek(k(c, 'x-only'), T0 + 1000)?.state).toBe('stale');
    expect(c.stats.entries).toBe(3);
    // Stays stale (an invalidation is not undone by later NOTIFYs for other upstreams).
    c.expireUpstream('y');
    expect(c.lookup(k(c, 'x-only'), T0 + 2000)?.state).toBe('stale');
    // A refresh stores a fresh entry again, even though x's stamp is older than nothing else.
    c.store(k(c, 'x-only'), positive('x-only', 60), ['x'], T0 + 2000);
    expect(c.lookup(k(c, 'x-only'), T0 + 2000)?.state).toBe('fresh');
    expect(c.peek(k(c, 'x-only'), T0 + 2000)?.state).toBe('fresh');
  });

  it('keeps the stale window of the original expiry', () => {
    const c = cache({ maxStaleSeconds: 10 });
    c.store(k(c, 'p'), positive('p', 60), ['x'], T0);
    c.expireUpstream('x');
    expect(c.lookup(k(c, 'p'), T0 + 65_000)?.state).toBe('stale');
    expect(c.lookup(k(c, 'p'), T0 + 70_000)).toBeNull();
  });

  it('expires every negative entry and no positive one', () => {
    const c = cache();
    c.store(k(c, 'n1'), nxdomain('n1'), ['x'], T0);
    c.store(k(c, 'n2'), reply('n2', RCODE.NOERROR, [], [soa(60, 60)]), ['y'], T0);
    c.store(k(c, 'p'), positive('p', 60), ['x'], T0);
    c.expireNegative();
    expect(c.lookup(k(c, 'n1'), T0)?.state).toBe('stale');
    expect(c.lookup(k(c, 'n2'), T0)?.state).toBe('stale');
    expect(c.lookup(k(c, 'p'), T0)?.state).toBe('fresh');
    // A negative stored after the NOTIFY is fresh.
    c.store(k(c, 'n3'), nxdomain('n3'), ['x'], T0);
    expect(c.lookup(k(c, 'n3'), T0)?.state).toBe('fresh');
  });

  it('touches no entry: the work is one stamp however many entries an upstream supplied', () => {
    const c = cache();
    for (let i = 0; i < 1000; i++) c.store(k(c, `p${i}`), positive(`p${i}`, 60), ['x'], T0);
    for (let i = 0; i < 1000; i++) c.store(k(c, `n${i}`), nxdomain(`n${i}`), ['x'], T0);
    // Every access to the entry maps counted: a walk (or a get/set per key) shows up here.
    let touched = 0;
    const segments = c as unknown as Record<'positives' | 'negatives', Map<string, object>>;
    for (const segment of [segments.positives, segments.negatives]) {
      for (const method of [
        'get',
        'set',
        'delete',
        'has',
        'values',
        'keys',
        'entries',
        'forEach',
      ]) {
        const m = segment as unknown as Record<string, (...a: unknown[]) => unknown>;
        const original = m[method].bind(segment);
        m[method] = (...a: unknown[]) => {
          touched++;
          return original(...a);
        };
      }
    }
    c.expireUpstream('x');
    c.expireNegative();
    expect(touched).toBe(0);
    // ...and yet every one of them is stale on its next lookup.
    expect(c.lookup(k(c, 'p999'), T0)?.state).toBe('stale');
    expect(c.lookup(k(c, 'n0'), T0)?.state).toBe('stale');
  });
});
