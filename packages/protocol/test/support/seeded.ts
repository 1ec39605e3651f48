// The kit's generator by path: the kit depends on this package, so turbo refuses it as a
// devDependency here (the cycle), as for transport's tests.
export { seededRandom as rng } from '../../../testkit/src/seeded.js';

/** Every name of 0..maxDepth labels from `labels` below `zone`. */
export function namesUpTo(zone: string, labels: readonly string[], maxDepth: number): string[] {
  let level = [zone];
  const all = [zone];
  for (let d = 0; d < maxDepth; d++) {
    level = level.flatMap((n) => labels.map((l) => `${l}.${n}`));
    all.push(...level);
  }
  return all;
}
