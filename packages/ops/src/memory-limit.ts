import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
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

/** Where the cgroup file systems are mounted (v2 unified; v1's memory controller). */
const CGROUP_V2_ROOT = '/sys/fs/cgroup';
const CGROUP_V1_MEMORY_ROOT = '/sys/fs/cgroup/memory';

/**
 * Pure: the limit files that bind this process, most specific first, from the text of
 * `/proc/self/cgroup` (null when it could not be read: the mount's root files only). A
 * group's own file and every ancestor's up to the mount's root: a limit set on a parent
 * (a Kubernetes pod's group above the container's, or a systemd slice) binds too. Inside a
 * container with its own cgroup namespace the path is `/` and only the root files remain.
 *
 * `process.constrainedMemory()` (Node 20 and 24, Bun) reads the process's own group only
 * (checked in a v1 child group: all three report its limit); the files add the ancestors
 * and work where the runtime has no such call.
 */
export function cgroupLimitFiles(procSelfCgroup: string | null): string[] {
  const v2: string[] = [];
  const v1: string[] = [];
  for (const line of (procSelfCgroup ?? '').split('\n')) {
    const [id, controllers, path] = line.split(':', 3) as [string, string?, string?];
    if (path === undefined || !path.startsWith('/')) continue;
    if (id === '0' && controllers === '') v2.push(...ancestors(path));
    else if (controllers?.split(',').includes('memory')) v1.push(...ancestors(path));
  }
  const files = [
    ...v2.map((p) => `${CGROUP_V2_ROOT}${p}memory.max`),
    ...v1.map((p) => `${CGROUP_V1_MEMORY_ROOT}${p}memory.limit_in_bytes`),
    `${CGROUP_V2_ROOT}/memory.max`,
    `${CGROUP_V1_MEMORY_ROOT}/memory.limit_in_bytes`,
  ];
  return [...new Set(files)];
}

/** Pure: `/a/b` → `/a/b/`, `/a/`, `/` (each with a trailing slash, ready for a file name). */
function ancestors(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  const out: string[] = [];
  for (let n = parts.length; n >= 0; n--) {
    out.push(n === 0 ? '/' : `/${parts.slice(0, n).join('/')}/`);
  }
  return out;
}

/** Pure: a limit file's text as bytes, or null for "max", garbage or "unlimited" (~2^63). */
export function parseLimit(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === 'max' || !/^\d+$/.test(trimmed)) return null;
  const n = Number(trimmed);
  return n > 0 && n < UNLIMITED ? n : null;
}

/**
 * The memory limit this process runs under in bytes, or null without one: the smallest of
 * `process.constrainedMemory()` (Node ≥ 19.6; Bun) and the cgroup limit files that bind the
 * process (`cgroupLimitFiles`), v2 `memory.max` or v1 `memory.limit_in_bytes`. A limit at or
 * above the machine's memory is no limit either (nothing to size for). The one place both
 * apps ask (heap check, the authority's cache budget).
 */
export function containerMemoryLimit(
  constrained: (() => number | undefined) | null = (
    process as { constrainedMemory?: () => number | undefined }
  ).constrainedMemory?.bind(process) ?? null,
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
  machineBytes: number = totalmem(),
): number | null {
  const limits: number[] = [];
  const fromRuntime = constrained?.();
  if (fromRuntime !== undefined && fromRuntime > 0 && fromRuntime < UNLIMITED) {
    limits.push(fromRuntime);
  }
  let procSelfCgroup: string | null = null;
  try {
    procSelfCgroup = read('/proc/self/cgroup');
  } catch {
    // not Linux, or no /proc: the root files only
  }
  for (const file of cgroupLimitFiles(procSelfCgroup)) {
    try {
      const limit = parseLimit(read(file));
      if (limit !== null) limits.push(limit);
    } catch {
      // not this cgroup version, or not this group's mount
    }
  }
  if (limits.length === 0) return null;
  const limit = Math.min(...limits);
  return limit < machineBytes ? limit : null;
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
