import { RCODE } from '@mdns/protocol';
import type { TransferResult } from '@mdns/transport';
import { describe, expect, it } from 'vitest';
import {
  BEFORE_FIRST_COPY,
  isExpired,
  nextCheckDelayMs,
  replicaTimers,
} from '../src/replica/timers.js';
import { axfrAfterIxfr, judgeTransfer, notifyWantsPull } from '../src/replica/verdict.js';

// The replica's decisions as pure functions (RFC 1035 3.3.13 timers, RFC 1982 serials,
// RFC 1996 NOTIFY): each row of "Replication (secondary)" in the README.

const SOA = { refresh: 3600, retry: 600, expire: 86400 };

describe('refresh, retry and expire timers', () => {
  it('come from the primary SOA, each override winning, never below one second', () => {
    expect(replicaTimers(SOA, {})).toEqual({
      refreshMs: 3_600_000,
      retryMs: 600_000,
      expireMs: 86_400_000,
    });
    expect(replicaTimers(SOA, { refreshSeconds: 60, expireSeconds: 120 })).toEqual({
      refreshMs: 60_000,
      retryMs: 600_000,
      expireMs: 120_000,
    });
    expect(replicaTimers({ refresh: 0, retry: 0, expire: 0 }, {}).refreshMs).toBe(1000);
  });

  it('before the first copy: the short before-copy defaults (the primary may be starting)', () => {
    expect(replicaTimers(null, {})).toEqual({
      refreshMs: BEFORE_FIRST_COPY.refresh * 1000,
      retryMs: BEFORE_FIRST_COPY.retry * 1000,
      expireMs: BEFORE_FIRST_COPY.expire * 1000,
    });
  });

  it('after a good check: refresh; after failures: retry doubled per failure, capped at refresh', () => {
    const t = { refreshMs: 10_000, retryMs: 1000, expireMs: 60_000 };
    expect(nextCheckDelayMs(t, 0)).toBe(10_000);
    expect([1, 2, 3, 4, 5, 6, 50].map((n) => nextCheckDelayMs(t, n))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000, 10_000,
    ]);
    // A retry longer than refresh is still honoured (the cap never shortens it).
    expect(nextCheckDelayMs({ refreshMs: 1000, retryMs: 5000, expireMs: 9000 }, 3)).toBe(5000);
  });

  it('a copy expires `expire` after the primary last confirmed it; never confirmed = expired', () => {
    expect(isExpired(null, 1000, 0)).toBe(true);
    expect(isExpired(10_000, 1000, 10_999)).toBe(false);
    expect(isExpired(10_000, 1000, 11_000)).toBe(true);
  });
});

const soa = (serial: number) =>
  ({
    name: 'z.test',
    type: 'SOA',
    class: 'IN',
    ttl: 60,
    data: { mname: 'ns', rname: 'h', serial, refresh: 1, retry: 1, expire: 1, minimum: 1 },
  }) as const;
const ok = (kind: 'axfr' | 'ixfr', serial: number): TransferResult => ({
  ok: true,
  kind,
  soa: soa(serial),
  serial,
  records: [],
  messages: 1,
  bytes: 100,
});
const failed = (failure: string, rcode?: number): TransferResult =>
  ({
    ok: false,
    failure,
    detail: `said ${failure}`,
    ...(rcode === undefined ? {} : { rcode }),
  }) as TransferResult;

describe('accepting or rejecting a transfer', () => {
  it('a complete transfer is applied, an up-to-date answer confirms the copy', () => {
    expect(judgeTransfer(ok('axfr', 5), null)).toMatchObject({
      kind: 'apply',
      via: 'axfr',
      serial: 5,
    });
    expect(judgeTransfer(ok('ixfr', 6), 5)).toMatchObject({
      kind: 'apply',
      via: 'ixfr',
      serial: 6,
    });
    expect(
      judgeTransfer(
        { ok: true, kind: 'up-to-date', soa: soa(5), serial: 5, messages: 1, bytes: 50 },
        5,
      ),
    ).toEqual({ kind: 'up-to-date', serial: 5 });
  });

  it.each([
    'cut',
    'tsig',
    'soa-mismatch',
    'out-of-zone',
    'serial-backwards',
    'too-large',
    'connect',
  ])('a failed pull (%s) is rejected with its reason as the label', (failure) => {
    expect(judgeTransfer(failed(failure), 5)).toEqual({
      kind: 'reject',
      reason: failure,
      detail: `said ${failure}`,
    });
  });

  it('a serial exactly 2^31 away is not newer (RFC 1982 leaves it undefined): rejected', () => {
    expect(judgeTransfer(ok('axfr', 5 + 2 ** 31), 5)).toMatchObject({
      kind: 'reject',
      reason: 'serial-backwards',
    });
    // Wrapping forwards past 2^32 is newer.
    expect(judgeTransfer(ok('axfr', 3), 2 ** 32 - 10)).toMatchObject({ kind: 'apply' });
  });
});

describe('IXFR falls back to AXFR only when a diff cannot be had', () => {
  it.each([
    [failed('ixfr-mismatch'), true],
    [failed('malformed'), true],
    [failed('rcode', RCODE.NOTIMP), true],
    [failed('rcode', RCODE.FORMERR), true],
    [failed('rcode', RCODE.REFUSED), false],
    [failed('rcode', RCODE.NOTAUTH), false],
    [failed('connect'), false],
    [failed('timeout'), false],
    [failed('tsig'), false],
    [ok('ixfr', 2), false],
  ])('%j -> %s', (result, expected) => {
    expect(axfrAfterIxfr(result)).toBe(expected);
  });
});

describe('a NOTIFY asks for a pull unless it announces what we hold', () => {
  it.each([
    [null, 7, true],
    [5, undefined, true],
    [5, 6, true],
    [5, 5, false],
    [5, 4, false],
    [2 ** 32 - 1, 0, true],
  ])('held %s, announced %s -> pull %s', (held, announced, expected) => {
    expect(notifyWantsPull(held, announced)).toBe(expected);
  });
});
