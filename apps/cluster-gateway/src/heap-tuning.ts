import { allowYoungGrowth, holdYoungGeneration } from '@mdns/ops';

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

export function allowSteadyYoungGrowth(): void {
  allowYoungGrowth(8 * 1024 * 1024);
}
