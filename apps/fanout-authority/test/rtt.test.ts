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
    expect(s.rttvar).toBeCloseTo(0);
  });
  it('timeouts back off (doubling, capped) and a reply resets the back-off', () => {
    let s = initialRtt();
    for (let i = 0; i < 50; i++) s = addSample(s, 20);
    const base = timeoutMs(s, limits);
    s = addTimeout(s);
    expect(timeoutMs(s, limits)).toBe(Math.max(50, Math.round((s.srtt ?? 0) * 2 * 2)));
    for (let i = 0; i < 10; i++) s = addTimeout(s);
    expect(timeoutMs(s, limits)).toBeLessThanOrEqual(1000);
    expect(timeoutMs(addSample(s, 20), limits)).toBe(base);
  });
});

// The learned timeout keeps headroom proportional to the RTT (max(4 rttvar, srtt)): a
// healthy cluster far away is never timed out by its own steady RTT or its jitter, while a
// near cluster stays at the floor (what a dead near cluster costs is unchanged).
const defaults = { floorMs: 50, ceilingMs: 1000, initialMs: 200 };

function steady(rttMs: number, samples = 200) {
  let s = initialRtt();
  for (let i = 0; i < samples; i++) s = addSample(s, rttMs);
  return s;
}

describe('timeout headroom grows with the distance', () => {
  it.each([
    // [steady RTT, timeout]: 2 x RTT within [floor, ceiling]
    [1, 50],
    [25, 50],
    [50, 100],
    [150, 300],
    [300, 600],
    [450, 900],
    [600, 1000],
    [1000, 1000],
  ])('steady %i ms -> %i ms', (rtt, expected) => {
    expect(timeoutMs(steady(rtt), defaults)).toBe(expected);
  });

  it.each([50, 150, 300])(
    '±20 %% jitter around %i ms: every reply is within the timeout',
    (rtt) => {
      // Deterministic spread over [0.8, 1.2] x RTT, the worst cases included.
      const spread = [0.8, 1.2, 1, 1.2, 0.8, 0.9, 1.1, 1.2, 1.2, 0.8];
      let s = steady(rtt, 20);
      for (let i = 0; i < 300; i++) {
        const sample = rtt * spread[i % spread.length];
        expect(timeoutMs(s, defaults)).toBeGreaterThanOrEqual(sample);
        s = addSample(s, sample);
      }
    },
  );

  it('a steady RTT up to the ceiling is always within the timeout', () => {
    for (let rtt = 1; rtt <= defaults.ceilingMs; rtt += 7) {
      expect(timeoutMs(steady(rtt), defaults)).toBeGreaterThanOrEqual(rtt);
    }
  });

  it('a dead near cluster costs at most the floor per query until the 3rd failure', () => {
    let s = steady(1);
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      waits.push(timeoutMs(s, defaults));
      s = addTimeout(s);
    }
    expect(waits).toEqual([50, 50, 50]);
  });
});

describe('timeout before the first sample', () => {
  it.each([
    ['no probe in flight: the initial timeout', null, 200],
    ['a probe in flight: as long as the probe still waits', 700, 700],
    ['a probe about to give up: never below the initial timeout', 30, 200],
    ['never above the ceiling', 5000, 1000],
  ] as const)('%s', (_row, probeLeftMs, expected) => {
    expect(timeoutMs(initialRtt(), defaults, probeLeftMs)).toBe(expected);
  });
  it('timeouts without a sample do not back the initial timeout off', () => {
    // The start-up probe of a dead cluster timed out: its first client queries still wait
    // the initial timeout, not twice it (the blackhole row's first seconds).
    expect(timeoutMs(addTimeout(addTimeout(initialRtt())), defaults)).toBe(200);
  });
  it('once a sample exists the probe in flight does not matter', () => {
    expect(timeoutMs(steady(150), defaults, 900)).toBe(300);
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
