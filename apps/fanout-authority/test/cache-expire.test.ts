import { RCODE } from '@mdns/protocol';
import { describe, expect, it } from 'vitest';
import { cache, k, nxdomain, positive, reply, soa, T0 } from './cache-fixtures.js';

// NOTIFY invalidation that keeps serve-stale working (found by reliability/ fuzzing: deleting
// the entries let a NOTIFY flood empty the cache). See test/e2e-notify-flood.test.ts.
describe('expireUpstream / expireNegative', () => {
  it("makes that upstream's entries stale now, keeps the others fresh, frees nothing", () => {
    const c = cache();
    c.store(k(c, 'x-only'), positive('x-only', 60), ['x'], T0);
    c.store(k(c, 'y-only'), positive('y-only', 60), ['y'], T0);
    c.store(k(c, 'merged'), positive('merged', 60), ['x', 'y'], T0);
    expect(c.expireUpstream('x', T0 + 1000)).toBe(2);
    expect(c.expireUpstream('x', T0 + 1000)).toBe(0); // already expired
    expect(c.lookup(k(c, 'x-only'), T0 + 1000)?.state).toBe('stale');
    expect(c.lookup(k(c, 'merged'), T0 + 1000)?.state).toBe('stale');
    expect(c.lookup(k(c, 'y-only'), T0 + 1000)?.state).toBe('fresh');
    expect(c.stats.entries).toBe(3);
    // A refresh stores a fresh entry again.
    c.store(k(c, 'x-only'), positive('x-only', 60), ['x'], T0 + 2000);
    expect(c.lookup(k(c, 'x-only'), T0 + 2000)?.state).toBe('fresh');
  });

  it('expires every negative entry and no positive one', () => {
    const c = cache();
    c.store(k(c, 'n1'), nxdomain('n1'), ['x'], T0);
    c.store(k(c, 'n2'), reply('n2', RCODE.NOERROR, [], [soa(60, 60)]), ['y'], T0);
    c.store(k(c, 'p'), positive('p', 60), ['x'], T0);
    expect(c.expireNegative(T0)).toBe(2);
    expect(c.lookup(k(c, 'n1'), T0)?.state).toBe('stale');
    expect(c.lookup(k(c, 'n2'), T0)?.state).toBe('stale');
    expect(c.lookup(k(c, 'p'), T0)?.state).toBe('fresh');
  });
});
