import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decideNotify, NotifyThrottle } from '../src/notify/throttle.js';

describe('decideNotify', () => {
  it('the first NOTIFY of an upstream invalidates at once', () => {
    expect(decideNotify(undefined, 5000, 1000)).toEqual({ kind: 'now' });
  });
  it('one after the interval invalidates at once', () => {
    expect(decideNotify({ lastAtMs: 1000, trailingAtMs: null }, 2000, 1000)).toEqual({
      kind: 'now',
    });
  });
  it('one inside the interval schedules one trailing invalidation at its end', () => {
    expect(decideNotify({ lastAtMs: 1000, trailingAtMs: null }, 1300, 1000)).toEqual({
      kind: 'schedule',
      atMs: 2000,
    });
  });
  it('further ones are coalesced into the scheduled one', () => {
    expect(decideNotify({ lastAtMs: 1000, trailingAtMs: 2000 }, 1900, 1000)).toEqual({
      kind: 'coalesced',
    });
  });
  it('a clock that stepped back waits at most one interval', () => {
    expect(decideNotify({ lastAtMs: 9000, trailingAtMs: null }, 1000, 1000)).toEqual({
      kind: 'schedule',
      atMs: 2000,
    });
  });
  it('interval 0: every NOTIFY invalidates', () => {
    expect(decideNotify({ lastAtMs: 1000, trailingAtMs: null }, 1000, 0)).toEqual({ kind: 'now' });
  });
});

describe('NotifyThrottle', () => {
  beforeEach(() => vi.useFakeTimers({ now: 100_000 }));
  afterEach(() => vi.useRealTimers());

  it('10 000 NOTIFYs in a second: one invalidation now, one trailing, per upstream; none lost', () => {
    const done: string[] = [];
    const counts = { immediate: 0, trailing: 0, coalesced: 0 };
    const t = new NotifyThrottle(
      counts,
      () => 1000,
      (u) => done.push(u),
    );
    for (let i = 0; i < 10_000; i++) {
      t.notify('x');
      if (i % 10 === 0) t.notify('y');
      vi.advanceTimersByTime(0.05);
    }
    expect(done).toEqual(['x', 'y']);
    vi.advanceTimersByTime(1000);
    expect(done.sort()).toEqual(['x', 'x', 'y', 'y']);
    expect(counts).toEqual({ immediate: 2, trailing: 2, coalesced: 10_998 });
    // Quiet since the trailing one: the next NOTIFY after an interval acts at once again.
    vi.advanceTimersByTime(1000);
    t.notify('x');
    expect(done.filter((u) => u === 'x')).toHaveLength(3);
  });
});
