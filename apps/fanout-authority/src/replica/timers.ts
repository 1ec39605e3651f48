import type { SoaFields } from '@mdns/protocol';

/**
 * When a secondary asks its primary again (RFC 1035 3.3.13, RFC 1996): every `refresh` after
 * a good check, every `retry` after a failed one (doubled per failure in a row, never beyond
 * `refresh`, so a dead primary is not asked in a tight loop), and the copy stops being served
 * `expire` after the last good check. Pure: times in, times out.
 */

/** Config overrides of the primary's SOA timers, in seconds. */
export interface TimerOverrides {
  refreshSeconds?: number;
  retrySeconds?: number;
  expireSeconds?: number;
}

export interface ReplicaTimers {
  refreshMs: number;
  retryMs: number;
  expireMs: number;
}

/**
 * Before the first copy there is no SOA to read: ask again soon (the primary may still be
 * starting), backing off to `refresh`. Five minutes is short enough for a gateway that was
 * down at our start, long enough not to hammer one that refuses us.
 */
export const BEFORE_FIRST_COPY: Readonly<Pick<SoaFields, 'refresh' | 'retry' | 'expire'>> = {
  refresh: 300,
  retry: 2,
  expire: 300,
};

/** The timers in force: each override, else the SOA's own value, else the before-copy default. */
export function replicaTimers(
  soa: Pick<SoaFields, 'refresh' | 'retry' | 'expire'> | null,
  overrides: TimerOverrides,
): ReplicaTimers {
  const from = soa ?? BEFORE_FIRST_COPY;
  // A SOA of 0 s would mean "ask continuously": at least one second each.
  const seconds = (override: number | undefined, value: number) =>
    Math.max(1, override ?? value) * 1000;
  return {
    refreshMs: seconds(overrides.refreshSeconds, from.refresh),
    retryMs: seconds(overrides.retrySeconds, from.retry),
    expireMs: seconds(overrides.expireSeconds, from.expire),
  };
}

/** Delay before the next check, after `failures` failed checks in a row (0: the last one was good). */
export function nextCheckDelayMs(timers: ReplicaTimers, failures: number): number {
  if (failures <= 0) return timers.refreshMs;
  const backoff = timers.retryMs * 2 ** Math.min(failures - 1, 20);
  return Math.min(backoff, Math.max(timers.retryMs, timers.refreshMs));
}

/**
 * Is the copy too old to serve? `checkedAtMs`: when the primary last confirmed it (a transfer
 * or an up-to-date answer); null: never. RFC 1035: a secondary stops answering for the zone
 * `expire` seconds after its last successful refresh.
 */
export function isExpired(checkedAtMs: number | null, expireMs: number, nowMs: number): boolean {
  return checkedAtMs === null || nowMs - checkedAtMs >= expireMs;
}
