import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The young-generation cap in real processes (V8 flags are process-wide: not in vitest's).
const FIXTURE = fileURLToPath(new URL('./fixtures/young-growth.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const COMPACT = fileURLToPath(new URL('./fixtures/compact-heap.mjs', import.meta.url));
const MiB = 1024 * 1024;

const newSpaceAfterLoad = (cap: number) =>
  Number(execFileSync(process.execPath, [FIXTURE, String(cap), DIST], { encoding: 'utf8' }));

describe('allowYoungGrowth', () => {
  it('holds the young generation near the cap where V8 alone grows it further', () => {
    // turbo builds before testing; a missing dist is a broken pipeline, not a skip.
    expect(existsSync(DIST), `${DIST} is built`).toBe(true);
    const free = newSpaceAfterLoad(0);
    const capped = newSpaceAfterLoad(8 * MiB);
    // V8's own growth passes 16 MiB under this load (32 MiB on Node 20, 128 on Node 24).
    expect(free).toBeGreaterThan(16 * MiB);
    // Checked after collections, so one more doubling than half the cap can slip through.
    expect(capped).toBeLessThanOrEqual(16 * MiB);
    expect(capped).toBeGreaterThanOrEqual(4 * MiB);
  });
});

describe('compactHeap', () => {
  const run = (flags: string[] = []) =>
    JSON.parse(execFileSync(process.execPath, [...flags, COMPACT, DIST], { encoding: 'utf8' }));

  it('collects without --expose-gc and leaves no gc behind, in globalThis or a later context', () => {
    const out = run();
    // Node 22+ (V8 12+) gets the memory-reducing collection, Node 20 the plain one.
    const v8Major = Number(process.versions.v8.split('.')[0]);
    expect(out.result.flavor).toBe(v8Major >= 12 ? 'last-resort' : 'regular');
    expect(out.twice).toBe(out.result.flavor);
    expect(out.result.ms).toBeGreaterThanOrEqual(0);
    for (const k of ['heapUsedBefore', 'heapUsedAfter', 'heapTotalBefore', 'heapTotalAfter'])
      expect(out.result[k], k).toBeGreaterThan(0);
    expect(out).toMatchObject({
      hadGc: 'undefined',
      globalGc: 'undefined',
      contextGc: 'undefined',
    });
  });

  it('uses the gc of a process started with --expose-gc and leaves it there', () => {
    const out = run(['--expose-gc']);
    expect(out).toMatchObject({ hadGc: 'function', globalGc: 'function' });
  });
});
