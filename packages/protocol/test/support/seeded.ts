/** mulberry32: small, seeded, good enough to pick operations (a failing seed repeats). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
