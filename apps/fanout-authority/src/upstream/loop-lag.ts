import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * How late our own event loop has been lately. When it stalls (GC, a burst of queries, a
 * starved CPU) every upstream looks slower than it is, so the lag is added to the timeout
 * bound, and a timeout longer than the whole wait's worth of stall does not count toward
 * opening the circuit. A libuv timer at 10 ms resolution feeds the histogram; it is read
 * four times a second, so a query only reads a number.
 */
const SLICE_MS = 250;
const SLICES = 4;

let watching = false;
const slices = new Float64Array(SLICES);
let slice = 0;
let recentMs = 0;

function start(): void {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  setInterval(() => {
    // The histogram's delay includes its own 10 ms period: subtract it.
    slices[slice] = Math.max(0, h.max / 1e6 - 10);
    slice = (slice + 1) % SLICES;
    h.reset();
    let max = 0;
    for (const v of slices) if (v > max) max = v;
    recentMs = max;
  }, SLICE_MS).unref();
}

/** Starts the measurement (idempotent); call before the first query. */
export function watchLoopLag(): void {
  if (watching) return;
  watching = true;
  start();
}

/** The worst event-loop stall of roughly the last second, in ms (0 before it is watched). */
export function recentLoopLagMs(): number {
  return recentMs;
}

/** Pure: the learned timeout plus our own recent stall, within the ceiling. */
export function lagAwareTimeoutMs(learnedMs: number, lagMs: number, ceilingMs: number): number {
  return Math.max(learnedMs, Math.min(ceilingMs, Math.round(learnedMs + lagMs)));
}

/** Pure: was the loop stalled so long that a timeout of `timeoutMs` proves nothing? */
export function timeoutIsInconclusive(lagMs: number, timeoutMs: number): boolean {
  return lagMs >= timeoutMs;
}
