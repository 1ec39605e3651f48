import type { KindState, SourceKind } from '../sources/types.js';

/** Phases in which a kind no longer holds the server back (contract: "cluster-gateway internals"). */
const SETTLED = new Set<KindState['phase']>(['synced', 'absent', 'forbidden']);

/**
 * True once every enabled kind has finished its first list (or is known to be missing or
 * forbidden). A kind that never reported a state is not settled.
 */
export function allKindsSettled(
  kinds: readonly SourceKind[],
  states: ReadonlyMap<SourceKind, KindState>,
): boolean {
  for (const kind of kinds) {
    const state = states.get(kind);
    if (!state || !SETTLED.has(state.phase)) return false;
  }
  return true;
}

export interface KindDetail {
  phase: KindState['phase'] | 'pending';
  objects: number;
  names: number;
  /** How stale this kind's part of the index may be; null before any event. */
  secondsSinceLastEvent: number | null;
  message?: string;
}

/** The `/ready` body's detail: per kind state, object and name counts, staleness. */
export function readinessDetail(
  kinds: readonly SourceKind[],
  states: ReadonlyMap<SourceKind, KindState>,
  namesPerKind: ReadonlyMap<SourceKind, number>,
  nowMs: number,
): Record<string, KindDetail> {
  const out: Record<string, KindDetail> = {};
  for (const kind of kinds) {
    const state = states.get(kind);
    const detail: KindDetail = {
      phase: state?.phase ?? 'pending',
      objects: state?.objects ?? 0,
      names: namesPerKind.get(kind) ?? 0,
      secondsSinceLastEvent: secondsSince(state?.lastEventAt ?? null, nowMs),
    };
    if (state?.message) detail.message = state.message;
    out[kind] = detail;
  }
  return out;
}

export function secondsSince(atMs: number | null, nowMs: number): number | null {
  return atMs === null ? null : Math.max(0, Math.round((nowMs - atMs) / 100) / 10);
}

/**
 * Readiness that latches: once the first full sync is done the server answers from the index
 * for the rest of its life, even when a kind later re-lists or loses the API (spec: "after it:
 * always answer from the index"). `/ready` follows the latch too, so a pod is not pulled out
 * of service because its API server blinked.
 */
export class SyncLatch {
  #synced = false;
  #onSynced: (() => void) | null;

  constructor(
    private readonly kinds: readonly SourceKind[],
    private readonly states: () => ReadonlyMap<SourceKind, KindState>,
    onSynced?: () => void,
  ) {
    this.#onSynced = onSynced ?? null;
  }

  /** Cheap after the latch closes: one boolean read on the hot path. */
  synced(): boolean {
    if (this.#synced) return true;
    if (!allKindsSettled(this.kinds, this.states())) return false;
    this.#synced = true;
    this.#onSynced?.();
    this.#onSynced = null;
    return true;
  }
}
