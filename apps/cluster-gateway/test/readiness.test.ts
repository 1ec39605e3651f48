import { describe, expect, it } from 'vitest';
import { allKindsSettled, readinessDetail, SyncLatch } from '../src/index/readiness.js';
import type { KindState, SourceKind } from '../src/sources/types.js';

const state = (phase: KindState['phase'], lastEventAt: number | null = null): KindState => ({
  phase,
  objects: 2,
  lastEventAt,
});

describe('readiness: every enabled kind settled', () => {
  it.each<[string, [SourceKind, KindState['phase']][], boolean]>([
    [
      'all synced',
      [
        ['Ingress', 'synced'],
        ['Service', 'synced'],
      ],
      true,
    ],
    [
      'a missing CRD does not hold it back',
      [
        ['Ingress', 'synced'],
        ['Service', 'absent'],
      ],
      true,
    ],
    [
      'nor a forbidden kind',
      [
        ['Ingress', 'synced'],
        ['Service', 'forbidden'],
      ],
      true,
    ],
    [
      'one still syncing',
      [
        ['Ingress', 'synced'],
        ['Service', 'syncing'],
      ],
      false,
    ],
    [
      'one in error before its first list',
      [
        ['Ingress', 'synced'],
        ['Service', 'error'],
      ],
      false,
    ],
    ['one never reported', [['Ingress', 'synced']], false],
  ])('%s -> %s', (_label, entries, expected) => {
    const states = new Map(entries.map(([k, p]) => [k, state(p)]));
    expect(allKindsSettled(['Ingress', 'Service'], states)).toBe(expected);
  });

  it('the latch stays closed after the first full sync, whatever comes later', () => {
    const states = new Map<SourceKind, KindState>([['Ingress', state('syncing')]]);
    let calls = 0;
    const latch = new SyncLatch(
      ['Ingress'],
      () => states,
      () => calls++,
    );
    expect(latch.synced()).toBe(false);
    states.set('Ingress', state('synced'));
    expect(latch.synced()).toBe(true);
    states.set('Ingress', state('error'));
    expect(latch.synced()).toBe(true);
    expect(calls).toBe(1);
  });

  it('no kinds to wait for: ready at once', () => {
    expect(new SyncLatch([], () => new Map()).synced()).toBe(true);
  });
});

describe('readiness detail', () => {
  it('lists each kind: phase, counts, seconds since the last event', () => {
    const states = new Map<SourceKind, KindState>([
      ['Ingress', state('synced', 10_000)],
      [
        'DNSEndpoint',
        { phase: 'absent', objects: 0, lastEventAt: null, message: 'CRD not installed' },
      ],
    ]);
    const detail = readinessDetail(
      ['Ingress', 'DNSEndpoint', 'Service'],
      states,
      new Map([['Ingress', 3]]),
      12_500,
    );
    expect(detail).toEqual({
      Ingress: { phase: 'synced', objects: 2, names: 3, secondsSinceLastEvent: 2.5 },
      DNSEndpoint: {
        phase: 'absent',
        objects: 0,
        names: 0,
        secondsSinceLastEvent: null,
        message: 'CRD not installed',
      },
      Service: { phase: 'pending', objects: 0, names: 0, secondsSinceLastEvent: null },
    });
  });
});
