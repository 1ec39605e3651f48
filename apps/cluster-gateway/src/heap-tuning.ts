import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/**
 * V8 young generation ("new space") sizing, which is most of the difference between a
 * gateway at ~125 MB and one at ~160 MB of RSS with 20k objects.
 *
 * V8 doubles the young generation (up to 2 x 16 MiB on 64-bit) once enough objects survive
 * scavenges, which a list of 20k objects does in a second, and keeps that size for the life
 * of the process. The steady state does not need it: the answer path allocates little more
 * than each reply. But a young generation held at its initial 1 MiB semi-space made every
 * query ~10-20 % dearer (scavenges 16x as often). So:
 *
 * - on import (main.ts imports this module first, before anything else allocates), growth
 *   is switched off: start-up and the first full list run with the initial size;
 * - after the first full sync, `allowYoungGrowth` lets it grow again, and a 100 ms check
 *   switches growth off for good once it has reached half of `maxNewSpaceBytes` (default
 *   8 MiB, so it settles at 4 MiB, or 8 MiB if it doubled again between two checks).
 *
 * `--max-semi-space-size` would be simpler but is read at start-up only (command line or
 * NODE_OPTIONS, which neither the image's CMD nor `node dist/main.js` sets); the growth
 * factor is read each time V8 considers growing.
 */
setFlagsFromString('--semi-space-growth-factor=1');

/** Often enough to see each doubling (the first queries after a sync double it in ~0.5 s). */
const NEW_SPACE_CHECK_MS = 100;

function newSpaceBytes(): number {
  for (const s of getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_size;
  return 0;
}

/** Lets the young generation grow up to about `maxNewSpaceBytes`, then holds it there. */
export function allowYoungGrowth(maxNewSpaceBytes = 8 * 1024 * 1024): void {
  if (newSpaceBytes() >= maxNewSpaceBytes) return;
  setFlagsFromString('--semi-space-growth-factor=2');
  const check = setInterval(() => {
    if (newSpaceBytes() < maxNewSpaceBytes / 2) return;
    // One more doubling would reach the cap: stop here, or at the cap if it already did.
    setFlagsFromString('--semi-space-growth-factor=1');
    clearInterval(check);
  }, NEW_SPACE_CHECK_MS);
  check.unref();
}
