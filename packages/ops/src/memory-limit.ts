import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';
import { registerCollected } from './metrics/collected.js';

// V8's heap limit and the container's memory limit.
//
// V8 sizes its heap from the machine, not from the cgroup: under a 256 MiB limit Node 20
// and Node 24 both keep a ~259 MiB heap limit, so the heap may grow past the container and
// the kernel kills the process (exit 137) before V8 ever collects hard. The limit can only
// be set when Node starts (`--max-old-space-size`); at run time it cannot change. Node 24
// (the images) reads the cgroup limit itself with `--max-old-space-size-percentage=P`, which
// NODE_OPTIONS may carry, so the manifests set that and a changed `resources.limits.memory`
// needs no other edit. The app checks at start and says what it got.

/**
 * Old space as a share of the container limit. The rest is for what is not old space: an
 * idle gateway on Node 24 had 99 MB of RSS with a 28 MB V8 heap, ~70 MB outside it (the
 * Node binary's pages, code, native memory), plus the young generation (8–32 MiB, heap.ts).
 * At 256 MiB: 154 MiB old space + ≤ 32 + ~70 ≈ the limit (BENCHMARKS.md "Under a container
 * memory limit").
 */
export const OLD_SPACE_PERCENTAGE = 60;

/** Values at or above this are "no limit" (cgroup v1 writes ~2^63, constrainedMemory 2^64). */
const UNLIMITED = 2 ** 60;

/**
 * The container's memory limit in bytes, or null without one: `process.constrainedMemory()`
 * (Node ≥ 19.6), else the cgroup v2 `memory.max` or the v1 `memory.limit_in_bytes`.
 */
export function containerMemoryLimit(
  constrained: (() => number | undefined) | null = (
    process as { constrainedMemory?: () => number | undefined }
  ).constrainedMemory?.bind(process) ?? null,
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): number | null {
  const fromNode = constrained?.();
  if (fromNode !== undefined && fromNode > 0) return fromNode < UNLIMITED ? fromNode : null;
  for (const path of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const text = read(path).trim();
      if (text === 'max') return null;
      const n = Number(text);
      if (Number.isFinite(n) && n > 0) return n < UNLIMITED ? n : null;
    } catch {
      // not this cgroup version
    }
  }
  return null;
}

/** The heap-size flag this process was started with (argv or NODE_OPTIONS), or null. */
export function explicitHeapFlag(execArgv: readonly string[], nodeOptions: string): string | null {
  const all = [...execArgv, ...nodeOptions.split(/\s+/)];
  return all.find((a) => /^--max[-_]old[-_]space[-_]size/.test(a)) ?? null;
}

export interface HeapLimitReport {
  containerLimitBytes: number | null;
  /** V8's fixed heap limit; null on Bun (JavaScriptCore has none: the heap grows until RAM). */
  heapSizeLimitBytes: number | null;
  /** The flag given, if any. */
  flag: string | null;
  /** Set when the heap may outgrow the container: what to put in NODE_OPTIONS. */
  advice: string | null;
}

/**
 * Pure: is the heap limit sized for the container? Without a container limit there is
 * nothing to fit. With one, a heap limit above `percentage` % of it (10 % tolerance: the
 * heap limit includes the young generation) is reported with the flag that fixes it.
 * On Bun there is no heap limit to size: Bun's `heap_size_limit` is an estimate that grows
 * with the heap (233 MiB idle, 1.7 GiB after allocating 1.5 GiB), and it ignores the V8 heap
 * flags, so advising them would be wrong; the report says null and gives no advice.
 */
export function heapLimitReport(input: {
  containerLimitBytes: number | null;
  heapSizeLimitBytes: number;
  flag: string | null;
  percentage?: number;
  runtime?: 'node' | 'bun';
}): HeapLimitReport {
  const percentage = input.percentage ?? OLD_SPACE_PERCENTAGE;
  const { containerLimitBytes: limit, flag } = input;
  if (input.runtime === 'bun') {
    return { containerLimitBytes: limit, heapSizeLimitBytes: null, flag, advice: null };
  }
  const heap = input.heapSizeLimitBytes;
  let advice: string | null = null;
  if (limit !== null && heap > (limit * percentage * 1.1) / 100) {
    const mib = Math.floor((limit * percentage) / 100 / 2 ** 20);
    advice =
      `V8 heap limit ${Math.round(heap / 2 ** 20)} MiB exceeds ${percentage} % of the ` +
      `${Math.round(limit / 2 ** 20)} MiB container limit: set NODE_OPTIONS=` +
      `--max-old-space-size-percentage=${percentage} (Node >= 24) or --max-old-space-size=${mib}`;
  }
  return { containerLimitBytes: limit, heapSizeLimitBytes: heap, flag, advice };
}

/**
 * At start: log the container limit and V8's heap limit (a warning with the fix when they
 * do not fit), and export both as gauges `<prefix>memory_limit_bytes` (0 = none) and
 * `<prefix>heap_size_limit_bytes`.
 */
export function checkHeapLimit(logger: Logger, registry?: Registry, prefix = ''): HeapLimitReport {
  const report = heapLimitReport({
    containerLimitBytes: containerMemoryLimit(),
    heapSizeLimitBytes: getHeapStatistics().heap_size_limit,
    flag: explicitHeapFlag(process.execArgv, process.env.NODE_OPTIONS ?? ''),
    runtime: typeof process.versions.bun === 'string' ? 'bun' : 'node',
  });
  const fields = {
    containerLimitBytes: report.containerLimitBytes,
    heapSizeLimitBytes: report.heapSizeLimitBytes,
    flag: report.flag,
  };
  if (report.advice) logger.warn(fields, report.advice);
  else logger.info(fields, 'heap limit');
  if (registry) {
    registerCollected(registry, {
      name: `${prefix}memory_limit_bytes`,
      help: 'The container (cgroup) memory limit this process runs under; 0 = none.',
      type: 'gauge',
      aggregator: 'max',
      values: () => [{ value: report.containerLimitBytes ?? 0 }],
    });
    registerCollected(registry, {
      name: `${prefix}heap_size_limit_bytes`,
      help: "V8's heap size limit (old + young space), fixed when Node started; 0 = none (Bun).",
      type: 'gauge',
      aggregator: 'max',
      values: () => [{ value: report.heapSizeLimitBytes ?? 0 }],
    });
  }
  return report;
}
