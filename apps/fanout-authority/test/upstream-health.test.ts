import { describe, expect, it } from 'vitest';
import { UpstreamHealth } from '../src/upstream/health.js';
import { lagAwareTimeoutMs, timeoutIsInconclusive } from '../src/upstream/loop-lag.js';

const limits = { floorMs: 50, ceilingMs: 1000, initialMs: 200, failureThreshold: 3 };

describe('a reply that arrives after its query timed out', () => {
  it('is an RTT sample and clears the failures: the cluster is slow, not dead', () => {
    const h = new UpstreamHealth();
    h.onNoReply('timeout', 'timeout after 200 ms', limits, 1);
    h.onNoReply('timeout', 'timeout after 400 ms', limits, 2);
    expect(h.circuit.consecutiveFailures).toBe(2);
    h.onLateReply(260, true, limits, 3);
    expect(h.circuit.consecutiveFailures).toBe(0);
    expect(h.rtt).toMatchObject({ srtt: 260, backoff: 0 });
    expect(h.timeoutMs(limits)).toBe(780);
    expect(h.stats.lateReplies).toBe(1);
  });

  it('closes an open circuit, like a passed probe', () => {
    const h = new UpstreamHealth();
    for (let i = 0; i < 3; i++) h.onNoReply('timeout', 'timeout', limits, i);
    expect(h.healthy).toBe(false);
    h.onLateReply(120, true, limits, 10);
    expect(h.healthy).toBe(true);
  });

  it('is ignored for health when later than the ceiling or not a usable answer', () => {
    const h = new UpstreamHealth();
    for (let i = 0; i < 3; i++) h.onNoReply('timeout', 'timeout', limits, i);
    h.onLateReply(1500, true, limits, 10);
    h.onLateReply(100, false, limits, 11);
    expect(h.healthy).toBe(false);
    expect(h.rtt.srtt).toBeNull();
    expect(h.stats.lateReplies).toBe(2);
  });
});

describe('our own event-loop stalls', () => {
  it('are added to the timeout bound, within the ceiling', () => {
    expect(lagAwareTimeoutMs(50, 0, 1000)).toBe(50);
    expect(lagAwareTimeoutMs(50, 30.4, 1000)).toBe(80);
    expect(lagAwareTimeoutMs(900, 500, 1000)).toBe(1000);
    // An override above the ceiling (probes use the ceiling itself) is never cut.
    expect(lagAwareTimeoutMs(1000, 0, 500)).toBe(1000);
  });

  it('make a timeout inconclusive only when we stalled for the whole wait', () => {
    expect(timeoutIsInconclusive(10, 50)).toBe(false);
    expect(timeoutIsInconclusive(60, 50)).toBe(true);
  });

  it('an inconclusive timeout is counted but does not open the circuit', () => {
    const h = new UpstreamHealth();
    for (let i = 0; i < 5; i++) h.onNoReply('timeout', 'timeout after 50 ms', limits, i, true);
    expect(h.healthy).toBe(true);
    expect(h.stats.failures.get('timeout')).toBe(5);
    expect(h.stats.inconclusiveTimeouts).toBe(5);
    expect(h.lastError).toContain('not counted toward the circuit');
    expect(h.rtt.backoff).toBeGreaterThan(0);
  });
});

describe('the failure threshold', () => {
  it('threshold - 1 failures leave the circuit closed; the threshold-th opens it', () => {
    for (const failureThreshold of [1, 2, 3, 5]) {
      const h = new UpstreamHealth();
      const l = { ...limits, failureThreshold };
      for (let i = 0; i < failureThreshold - 1; i++) {
        expect(h.onNoReply('timeout', 'timeout', l, i)).toBe(false);
      }
      expect(h.healthy, `threshold ${failureThreshold}`).toBe(true);
      expect(h.onNoReply('timeout', 'timeout', l, failureThreshold)).toBe(true);
      expect(h.healthy, `threshold ${failureThreshold}`).toBe(false);
    }
  });
});
