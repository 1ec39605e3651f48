/**
 * Round-trip estimate and the timeout learned from it, as TCP does (RFC 6298):
 * srtt and rttvar are EWMAs (alpha 1/8, beta 1/4) and the timeout is srtt + 4 * rttvar,
 * clamped to [floor, ceiling]. Before the first sample the initial timeout applies.
 * Each consecutive timeout doubles the next one (RFC 6298 5.5 back-off, capped at the
 * ceiling) so a cluster that merely got slower is caught on the next try instead of
 * timing out until its circuit opens; any reply resets the back-off. Timeouts are not
 * samples (Karn): we never learn an RTT from a reply we did not wait for.
 */
export interface RttLimits {
  floorMs: number;
  ceilingMs: number;
  initialMs: number;
}

export interface RttState {
  /** Smoothed RTT in ms; null before the first sample. */
  srtt: number | null;
  rttvar: number;
  /** Consecutive timeouts since the last reply (back-off exponent). */
  backoff: number;
}

const ALPHA = 1 / 8;
const BETA = 1 / 4;
const MAX_BACKOFF = 4;

export function initialRtt(): RttState {
  return { srtt: null, rttvar: 0, backoff: 0 };
}

/** The state after a reply that took `sampleMs`. */
export function addSample(state: RttState, sampleMs: number): RttState {
  const r = Math.max(0, sampleMs);
  if (state.srtt === null) return { srtt: r, rttvar: r / 2, backoff: 0 };
  const rttvar = (1 - BETA) * state.rttvar + BETA * Math.abs(state.srtt - r);
  const srtt = (1 - ALPHA) * state.srtt + ALPHA * r;
  return { srtt, rttvar, backoff: 0 };
}

/** The state after a query that got no reply in time. */
export function addTimeout(state: RttState): RttState {
  return { ...state, backoff: Math.min(state.backoff + 1, MAX_BACKOFF) };
}

/** How long to wait for this upstream's next reply, in whole ms. */
export function timeoutMs(state: RttState, limits: RttLimits): number {
  const base = state.srtt === null ? limits.initialMs : state.srtt + 4 * state.rttvar;
  const backedOff = base * 2 ** state.backoff;
  return Math.round(Math.min(limits.ceilingMs, Math.max(limits.floorMs, backedOff)));
}
