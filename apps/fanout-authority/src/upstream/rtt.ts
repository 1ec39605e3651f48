/**
 * Round-trip estimate and the timeout learned from it. srtt and rttvar are the EWMAs of
 * RFC 6298 (alpha 1/8, beta 1/4); the timeout is srtt plus a headroom of
 * max(4 * rttvar, srtt), clamped to [floor, ceiling].
 *
 * Why the srtt term: on a steady link rttvar decays towards 0 (x 3/4 per sample), so
 * srtt + 4 * rttvar alone settles a millisecond above the RTT and a cluster 150 ms away
 * times out on any reply 2 ms slower than usual. RFC 6298 keeps a 1 s minimum for this very
 * reason; a DNS answer cannot wait that long, so the margin grows with the distance instead:
 * a reply up to 2 x srtt is on time. ±20 % jitter needs 1.2 x; the rest absorbs what the
 * path and the hosts add now and then (on a loaded 2-core box a 150 ms link measured up to
 * 300 ms, and 1.5 x still gave SERVFAILs), and costs only while a far cluster is dying. A
 * near cluster (srtt up to half the floor, 25 ms by default) stays at the floor, which
 * keeps what a dead near cluster costs unchanged.
 *
 * Before the first sample: while a probe of this upstream is in flight the query waits as
 * long as the probe does (the probe's answer is the first sample; the first answers of a far
 * cluster must not be failed by a guess), else the initial timeout applies, without back-off.
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
/** The smallest headroom, as a share of srtt: a reply up to 2 x srtt is on time. */
export const HEADROOM_OF_SRTT = 1;

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

/**
 * How long to wait for this upstream's next reply, in whole ms. `probeLeftMs`: how long the
 * probe in flight for an upstream without a sample still waits (null: none in flight).
 */
export function timeoutMs(
  state: RttState,
  limits: RttLimits,
  probeLeftMs: number | null = null,
): number {
  if (state.srtt === null && probeLeftMs !== null) {
    return Math.round(Math.min(limits.ceilingMs, Math.max(limits.initialMs, probeLeftMs)));
  }
  // No back-off without a sample: it scales a learned RTT, and a guess has none (a start-up
  // probe that timed out already waited the ceiling; a late reply teaches the real RTT).
  if (state.srtt === null) return limits.initialMs;
  const base = state.srtt + Math.max(4 * state.rttvar, HEADROOM_OF_SRTT * state.srtt);
  const backedOff = base * 2 ** state.backoff;
  return Math.round(Math.min(limits.ceilingMs, Math.max(limits.floorMs, backedOff)));
}
