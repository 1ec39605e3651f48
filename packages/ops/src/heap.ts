import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

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
