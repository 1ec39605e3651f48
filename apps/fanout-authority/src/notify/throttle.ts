/**
 * How often a NOTIFY may invalidate the cache, per upstream. NOTIFY is accepted by source
 * address over UDP, so anyone who can spoof a gateway's address can send thousands a second;
 * each invalidation costs every client a fan-out for that upstream's names. At most one
 * invalidation per `intervalMs` per upstream: the first NOTIFY acts at once, the ones inside
 * the interval are coalesced into one trailing invalidation at its end. None is lost: a
 * change announced inside the interval is asked for at most `intervalMs` later.
 */

/** Per-upstream state: when it last invalidated, and when a trailing one is due (if any). */
export interface ThrottleState {
  lastAtMs: number;
  trailingAtMs: number | null;
}

export type ThrottleDecision =
  | { kind: 'now' }
  | { kind: 'schedule'; atMs: number }
  /** A trailing invalidation is already scheduled; it covers this NOTIFY too. */
  | { kind: 'coalesced' };

/** Pure: what to do with a NOTIFY at `nowMs` given the upstream's state (undefined = none yet). */
export function decideNotify(
  state: ThrottleState | undefined,
  nowMs: number,
  intervalMs: number,
): ThrottleDecision {
  if (state === undefined) return { kind: 'now' };
  if (state.trailingAtMs !== null) return { kind: 'coalesced' };
  if (nowMs - state.lastAtMs >= intervalMs) return { kind: 'now' };
  // A clock that stepped back must not push the trailing invalidation further than one interval.
  return { kind: 'schedule', atMs: Math.min(state.lastAtMs, nowMs) + intervalMs };
}

/** Counts for metrics: invalidations done at once, trailing ones done, NOTIFYs coalesced. */
export interface ThrottleCounts {
  immediate: number;
  trailing: number;
  coalesced: number;
}

/**
 * The timers around `decideNotify`. `invalidate(upstream, trailing)` is the real work (expire
 * that upstream's entries and the negatives, here and in the sibling workers). State is per upstream name;
 * names come from the config, so the map is bounded by it.
 */
export class NotifyThrottle {
  private readonly states = new Map<string, ThrottleState>();

  constructor(
    private readonly counts: ThrottleCounts,
    private readonly intervalMs: () => number,
    /** `trailing`: the coalesced invalidation at the end of an interval (no NOTIFY waits on it). */
    private readonly invalidate: (upstream: string, trailing: boolean) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** A NOTIFY accepted for `upstream`; true when it invalidated at once (not coalesced). */
  notify(upstream: string): boolean {
    const nowMs = this.now();
    const state = this.states.get(upstream);
    const decision = decideNotify(state, nowMs, this.intervalMs());
    if (decision.kind === 'now') {
      this.states.set(upstream, { lastAtMs: nowMs, trailingAtMs: null });
      this.counts.immediate++;
      this.invalidate(upstream, false);
      return true;
    }
    if (decision.kind === 'coalesced') {
      this.counts.coalesced++;
    } else if (state !== undefined) {
      state.trailingAtMs = decision.atMs;
      this.counts.coalesced++;
      // unref: a pending invalidation must not hold a shutting-down process open.
      setTimeout(() => {
        state.lastAtMs = this.now();
        state.trailingAtMs = null;
        this.counts.trailing++;
        this.invalidate(upstream, true);
      }, decision.atMs - nowMs).unref();
    }
    return false;
  }
}
