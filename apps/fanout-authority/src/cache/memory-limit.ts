import { totalmem } from 'node:os';

/**
 * The memory limit this process runs under (a container's cgroup limit, v1 or v2), or
 * undefined when there is none. `process.constrainedMemory()` (Node >= 19.6) reads the cgroup;
 * without a limit it reports 2^64 or 0 depending on the Node version, and a limit at or above
 * the machine's memory is no limit either.
 */
export function containerMemoryLimit(): number | undefined {
  return effectiveLimit(process.constrainedMemory?.(), totalmem());
}

/** Pure: a reported cgroup limit -> a real one or undefined. */
export function effectiveLimit(
  reported: number | undefined,
  machineBytes: number,
): number | undefined {
  if (reported === undefined || !Number.isFinite(reported) || reported <= 0) return undefined;
  return reported < machineBytes ? reported : undefined;
}
