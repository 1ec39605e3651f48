import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// V8 young generation ("new space") sizing, shared by both apps.
//
// V8 doubles the young generation once enough objects survive scavenges and keeps that
// size for the life of the process. How far it may grow depends on the runtime: Node 20
// stops at 32 MiB of new space on 64-bit, Node 24 (the images) went to 128 MiB on the
// bench box, which cost the authority ≈120 MB of RSS for no measurable CPU (BENCHMARKS.md).
// `--max-semi-space-size` would bound it but is read at start-up only (command line or
// NODE_OPTIONS, which neither the image's CMD nor `node dist/main.js` sets); the growth
// factor is read each time V8 considers growing, so it can be switched at run time.

function newSpaceBytes(): number {
  for (const s of getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_size;
  return 0;
}

/** Stops the young generation from growing until `allowYoungGrowth` (call before allocating). */
export function holdYoungGeneration(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

/**
 * Lets the young generation grow (a young generation held at its initial 1 MiB makes every
 * query ~10-20 % dearer: scavenges 16x as often) up to about `maxNewSpaceBytes`, then holds
 * it there. The size is checked after garbage collections (V8 grows it only at one) and
 * growth is switched off once it reached half the cap. GC reports arrive between event-loop
 * turns, so a turn that allocates a lot can pass one more doubling: the young generation
 * settles between half the cap and twice it (measured: 8 MiB on Node 20, 16 MiB on
 * Node 24 for an 8 MiB cap; test/heap.test.ts).
 */
export function allowYoungGrowth(maxNewSpaceBytes: number): void {
  if (newSpaceBytes() >= maxNewSpaceBytes / 2) {
    holdYoungGeneration();
    return;
  }
  setFlagsFromString('--semi-space-growth-factor=2');
  const observer = new PerformanceObserver(() => {
    if (newSpaceBytes() < maxNewSpaceBytes / 2) return;
    holdYoungGeneration();
    observer.disconnect();
  });
  observer.observe({ entryTypes: ['gc'] });
}

// Old generation growth. After each full collection V8 lets the old generation grow by a
// factor it picks from the collection's speed and the allocation rate before it collects
// again; during a burst of allocation of mostly short-lived objects (a Kubernetes list
// parsed page by page) that factor lets dead pages pile up: the gateway on Node 24 peaked
// at ~210 MB of RSS during its first list with 20k objects and 20k EndpointSlices, for
// ~145 MB once collected. `--heap-growing-percent` (default 0: V8's own factor) replaces
// that factor and, like the young generation's growth factor, is read at each collection.

/**
 * Lets the old generation grow by at most `percent` % between full collections (more
 * frequent full collections, a lower peak) until `restoreOldGenerationGrowth`.
 */
export function limitOldGenerationGrowth(percent: number): void {
  setFlagsFromString(`--heap-growing-percent=${Math.max(1, Math.round(percent))}`);
}

/** V8's own old-generation growth again. */
export function restoreOldGenerationGrowth(): void {
  setFlagsFromString('--heap-growing-percent=0');
}

// A compacting collection on request. V8 collects its old generation when the heap reaches a
// limit it sets from the last collection, not when a burst of allocation ends: after the
// gateway's first full list (every page parsed, trimmed and dropped) Node 24 sat for
// seconds with ~40 MB of dead pages counted in RSS, just under that limit.

type GcFunction = (options?: { type: string; execution: string; flavor?: string }) => void;

/**
 * V8's `gc()` without `--expose-gc` on the command line: the flag is read when a context is
 * created, so it is set for one new context only and cleared again (no `gc` appears on
 * globalThis, nor in any later context).
 */
function gcFunction(): GcFunction {
  const exposed = (globalThis as { gc?: GcFunction }).gc;
  if (typeof exposed === 'function') return exposed;
  // Bun (JavaScriptCore) has no V8 flags to expose `gc`; `Bun.gc(true)` is its synchronous
  // full collection (without it the gateway died with "gc is not defined" after its first sync).
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  if (bun !== undefined) return () => bun.gc(true);
  setFlagsFromString('--expose-gc');
  try {
    return runInNewContext('gc') as GcFunction;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

export interface HeapCompaction {
  /** How long the collection held the event loop. */
  ms: number;
  /** `last-resort`: V8's memory-reducing collection; `regular`: one full collection. */
  flavor: 'last-resort' | 'regular';
  heapUsedBefore: number;
  heapUsedAfter: number;
  heapTotalBefore: number;
  heapTotalAfter: number;
}

/**
 * One full, synchronous, compacting collection; blocks the event loop while it runs (tens to
 * hundreds of ms for a heap of ~100 MB), so call it once, after a burst, not on a timer.
 *
 * V8 12 and later (Node 22+) take `flavor: 'last-resort'`: the collection V8 runs before it
 * gives up on an allocation, which repeats until nothing more is freed, evacuates fragmented
 * pages and returns freed pages to the system (measured on Node 24: RSS 229 -> 152 MB, against
 * 228 -> 209 MB for a regular one). V8 11 (Node 20) has no such option, and given an options
 * object its `gc` left the dead old generation in place (measured), so it gets the plain
 * `gc()`: one full mark-compact.
 */
export function compactHeap(): HeapCompaction {
  const gc = gcFunction();
  const before = process.memoryUsage();
  const onV8 = process.versions.bun === undefined;
  const flavor =
    onV8 && Number(process.versions.v8.split('.')[0]) >= 12 ? 'last-resort' : 'regular';
  const t0 = performance.now();
  if (flavor === 'last-resort') gc({ type: 'major', execution: 'sync', flavor });
  else gc();
  const ms = performance.now() - t0;
  const after = process.memoryUsage();
  return {
    ms,
    flavor,
    heapUsedBefore: before.heapUsed,
    heapUsedAfter: after.heapUsed,
    heapTotalBefore: before.heapTotal,
    heapTotalAfter: after.heapTotal,
  };
}
