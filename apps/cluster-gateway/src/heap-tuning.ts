import {
  allowYoungGrowth,
  compactHeap,
  holdYoungGeneration,
  type Logger,
  limitOldGenerationGrowth,
  restoreOldGenerationGrowth,
} from '@mdns/ops';

/**
 * The gateway's young generation ("new space", see @mdns/ops heap.ts), which is most of
 * the difference between a gateway at ~125 MB and one at ~160 MB of RSS with 20k objects:
 * a list of 20k objects makes V8 double it within a second, and it would keep that size
 * although the steady state (the answer path allocates little more than each reply) does
 * not need it. So:
 *
 * - on import (before the sources allocate), growth is switched off: start-up and the
 *   first full list run with the initial size;
 * - after the first full sync, `allowSteadyYoungGrowth` lets it grow to about 4-8 MiB.
 */
holdYoungGeneration();

/**
 * The old generation during start-up: grown by at most 30 % between full collections, so
 * the dead list pages are collected on the way rather than piling up to the peak (Node 24,
 * 20k objects and 20k EndpointSlices: ~211 -> ~172 MB of peak RSS for ~10 % more CPU until
 * synced; 15 % gave ~173 MB for ~25 % more; BENCHMARKS.md). V8's own growth is restored
 * when start-up is over (`compactAfterStartup`).
 */
limitOldGenerationGrowth(30);

export function allowSteadyYoungGrowth(): void {
  allowYoungGrowth(8 * 1024 * 1024);
}

const MB = 1e6;

/**
 * One compacting collection once start-up is over: returns the function each of `parts`
 * calls when it is done (the index's first full sync; with Kubernetes, every watched kind's
 * first list, EndpointSlices included, which readiness does not wait for).
 *
 * Why: start-up is the gateway's one burst of allocation (every list page parsed, trimmed,
 * slimmed and dropped), and with the young generation held small most of it is promoted
 * and dies old. V8 collects the old generation when it reaches a limit set at the last
 * collection, not when a burst ends: Node 24 then sat with ~40 MB of dead pages in RSS
 * (20k objects and 20k EndpointSlices; BENCHMARKS.md). The collection holds the event loop
 * once, for tens to hundreds of ms (logged as `ms`); queries that arrive meanwhile wait in
 * the socket buffer.
 */
export function compactAfterStartup(
  parts: readonly string[],
  logger: Pick<Logger, 'info' | 'warn'>,
  options: { deadlineMs?: number; compact?: (logger: Pick<Logger, 'info'>) => void } = {},
): (part: string) => void {
  const run = options.compact ?? compact;
  const deadlineMs = options.deadlineMs ?? STARTUP_DEADLINE_MS;
  const waiting = new Set(parts);
  // A part that never reports (an API server that never lets a kind be listed) must not keep
  // the start-up growth limit for the life of the process: at the deadline, start-up is over.
  const deadline = setTimeout(() => {
    if (waiting.size === 0) return;
    logger.warn(
      { waitingFor: [...waiting], deadlineSeconds: Math.round(deadlineMs / 1000) },
      'start-up not done by its deadline: heap growth restored and compacted anyway',
    );
    waiting.clear();
    run(logger);
  }, deadlineMs);
  deadline.unref();
  return (part) => {
    if (!waiting.delete(part) || waiting.size > 0) return;
    clearTimeout(deadline);
    // Not from inside the caller: a part reports from deep in its own stack, where the last
    // list's objects are still referenced and would survive the collection.
    setImmediate(run, logger);
  };
}

/** How long start-up may take before the heap is put in its steady state regardless. */
const STARTUP_DEADLINE_MS = 5 * 60_000;

function compact(logger: Pick<Logger, 'info'>): void {
  // Restored first: the limit the compaction sets is then V8's own, for the steady state.
  restoreOldGenerationGrowth();
  const c = compactHeap();
  logger.info(
    {
      ms: Math.round(c.ms),
      flavor: c.flavor,
      heapUsedMbBefore: Math.round(c.heapUsedBefore / MB),
      heapUsedMbAfter: Math.round(c.heapUsedAfter / MB),
      heapTotalMbBefore: Math.round(c.heapTotalBefore / MB),
      heapTotalMbAfter: Math.round(c.heapTotalAfter / MB),
    },
    'start-up done: heap compacted',
  );
  // A memory-reducing collection also shrinks the young generation: let it grow back to
  // the steady-state size (the answer path is dearer with a tiny one).
  allowSteadyYoungGrowth();
}
