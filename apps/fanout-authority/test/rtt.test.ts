import { describe, expect, it } from 'vitest';
import { closedCircuit, recordFailure, recordSuccess } from '../src/upstream/circuit.js';
import { addSample, addTimeout, initialRtt, timeoutMs } from '../src/upstream/rtt.js';

const limits = { floorMs: 50, ceilingMs: 1000, initialMs: 500 };

describe('upstream timeout learned from RTT (RFC 6298)', () => {
  it('uses the initial timeout before any sample', () => {
    expect(timeoutMs(initialRtt(), limits)).toBe(500);
  });
  it('first sample: srtt = R, rttvar = R/2, timeout = 3R', () => {
    const s = addSample(initialRtt(), 100);
    expect(s).toMatchObject({ srtt: 100, rttvar: 50 });
    expect(timeoutMs(s, limits)).toBe(300);
  });
  it('later samples move srtt by 1/8 and rttvar by 1/4', () => {
    const s = addSample(addSample(initialRtt(), 100), 200);
    expect(s.rttvar).toBeCloseTo(0.75 * 50 + 0.25 * 100);
    expect(s.srtt).toBeCloseTo(0.875 * 100 + 0.125 * 200);
  });
  it('is clamped to the floor for a fast upstream and to the ceiling for a wild one', () => {
    let s = initialRtt();
    for (let i = 0; i < 50; i++) s = addSample(s, 1);
    expect(timeoutMs(s, limits)).toBe(50);
    expect(timeoutMs(addSample(initialRtt(), 5000), limits)).toBe(1000);
  });
  it('converges towards a steady RTT', () => {
    let s = initialRtt();
    for (let i = 0; i < 200; i++) s = addSample(s, 80);
    expect(s.srtt).toBeCloseTo(80);
    expect(timeoutMs(s, limits)).toBe(80);
  });
  it('timeouts back off (doubling, capped) and a reply resets the back-off', () => {
    let s = initialRtt();
    for (let i = 0; i < 50; i++) s = addSample(s, 20);
    const base = timeoutMs(s, limits);
    s = addTimeout(s);
    expect(timeoutMs(s, limits)).toBe(Math.max(50, Math.round((s.srtt ?? 0) * 2)));
    for (let i = 0; i < 10; i++) s = addTimeout(s);
    expect(timeoutMs(s, limits)).toBeLessThanOrEqual(1000);
    expect(timeoutMs(addSample(s, 20), limits)).toBe(base);
  });
});

describe('circuit breaker', () => {
  it('opens on the Nth consecutive failure', () => {
    let c = closedCircuit();
    c = recordFailure(c, 3, 1);
    c = recordFailure(c, 3, 2);
    expect(c.open).toBe(false);
    c = recordFailure(c, 3, 3);
    expect(c).toMatchObject({ open: true, openedAtMs: 3 });
  });
  it('a success in between resets the count', () => {
    let c = recordFailure(recordFailure(closedCircuit(), 3, 1), 3, 2);
    c = recordSuccess(c);
    c = recordFailure(c, 3, 3);
    expect(c.open).toBe(false);
  });
  it('a success closes an open circuit', () => {
    let c = closedCircuit();
    for (let i = 0; i < 3; i++) c = recordFailure(c, 3, i);
    expect(recordSuccess(c)).toEqual(closedCircuit());
  });
});
