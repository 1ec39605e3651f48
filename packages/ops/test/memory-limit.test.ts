import { describe, expect, it } from 'vitest';
import {
  cgroupLimitFiles,
  containerMemoryLimit,
  explicitHeapFlag,
  heapLimitReport,
  parseLimit,
} from '../src/memory-limit.js';

const MiB = 2 ** 20;

describe('containerMemoryLimit', () => {
  const files = (table: Record<string, string>) => (path: string) => {
    if (!(path in table)) throw new Error('ENOENT');
    return table[path];
  };
  const GiB = 2 ** 30;
  it('takes Node’s constrainedMemory when it has one', () => {
    expect(containerMemoryLimit(() => 256 * MiB, files({}))).toBe(256 * MiB);
  });
  it('Node’s "unlimited" (2^64) is no limit', () => {
    expect(containerMemoryLimit(() => 2 ** 64, files({}))).toBeNull();
  });
  it('without constrainedMemory: cgroup v2 memory.max, then v1 memory.limit_in_bytes', () => {
    expect(containerMemoryLimit(null, files({ '/sys/fs/cgroup/memory.max': '268435456\n' }))).toBe(
      256 * MiB,
    );
    expect(containerMemoryLimit(null, files({ '/sys/fs/cgroup/memory.max': 'max\n' }))).toBeNull();
    expect(
      containerMemoryLimit(
        null,
        files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '134217728\n' }),
      ),
    ).toBe(128 * MiB);
    expect(
      containerMemoryLimit(
        null,
        files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n' }),
      ),
    ).toBeNull();
    expect(containerMemoryLimit(null, files({}))).toBeNull();
  });
  it('a limit at or above the machine’s memory is no limit', () => {
    expect(containerMemoryLimit(() => 16 * GiB, files({}), 16 * GiB)).toBeNull();
    expect(containerMemoryLimit(() => 15 * GiB, files({}), 16 * GiB)).toBe(15 * GiB);
  });
  it('a child group’s own limit counts where Node reads only the root (cgroup v1, no namespace)', () => {
    // What the bench box shows: the root unlimited, the process's group limited, and
    // Node 20's constrainedMemory() reporting the root's "unlimited".
    const read = files({
      '/proc/self/cgroup': '9:systemd:/\n4:memory:/bench/gw\n0::/\n',
      '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n',
      '/sys/fs/cgroup/memory/bench/gw/memory.limit_in_bytes': '268435456\n',
    });
    expect(containerMemoryLimit(() => 2 ** 64, read, 24 * GiB)).toBe(256 * MiB);
  });
  it('a parent group’s limit binds a child without one (a pod above its container); the smallest wins', () => {
    const read = files({
      '/proc/self/cgroup': '0::/kubepods/pod1/ctr\n',
      '/sys/fs/cgroup/kubepods/pod1/ctr/memory.max': 'max\n',
      '/sys/fs/cgroup/kubepods/pod1/memory.max': '536870912\n',
      '/sys/fs/cgroup/kubepods/memory.max': '1073741824\n',
    });
    expect(containerMemoryLimit(null, read, 24 * GiB)).toBe(512 * MiB);
    expect(containerMemoryLimit(() => 300 * MiB, read, 24 * GiB)).toBe(300 * MiB);
  });
});

describe('cgroupLimitFiles', () => {
  it('the own group, its ancestors, then the roots; v2 and v1', () => {
    expect(cgroupLimitFiles('0::/a/b\n')).toEqual([
      '/sys/fs/cgroup/a/b/memory.max',
      '/sys/fs/cgroup/a/memory.max',
      '/sys/fs/cgroup/memory.max',
      '/sys/fs/cgroup/memory/memory.limit_in_bytes',
    ]);
    expect(cgroupLimitFiles('5:cpu,memory:/x\n1:cpu:/y\n')).toEqual([
      '/sys/fs/cgroup/memory/x/memory.limit_in_bytes',
      '/sys/fs/cgroup/memory/memory.limit_in_bytes',
      '/sys/fs/cgroup/memory.max',
    ]);
  });
  it('unreadable or odd /proc/self/cgroup: the root files only', () => {
    const roots = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];
    expect(cgroupLimitFiles(null)).toEqual(roots);
    expect(cgroupLimitFiles('garbage\n\n4:memory:relative\n')).toEqual(roots);
  });
});

describe('parseLimit', () => {
  it('bytes; "max", garbage and cgroup v1’s "unlimited" are null', () => {
    expect(parseLimit('268435456\n')).toBe(256 * MiB);
    expect(parseLimit('max\n')).toBeNull();
    expect(parseLimit('9223372036854771712')).toBeNull();
    expect(parseLimit('12abc')).toBeNull();
    expect(parseLimit('0')).toBeNull();
  });
});

describe('explicitHeapFlag', () => {
  it('finds the flag in argv or NODE_OPTIONS, in either spelling', () => {
    expect(explicitHeapFlag(['--max-old-space-size=100'], '')).toBe('--max-old-space-size=100');
    expect(explicitHeapFlag([], '--enable-source-maps --max_old_space_size=64')).toBe(
      '--max_old_space_size=64',
    );
    expect(explicitHeapFlag([], '--max-old-space-size-percentage=60')).toBe(
      '--max-old-space-size-percentage=60',
    );
    expect(explicitHeapFlag(['--max-semi-space-size=4'], '')).toBeNull();
  });
});

describe('heapLimitReport', () => {
  it('no container limit: nothing to fit', () => {
    expect(
      heapLimitReport({ containerLimitBytes: null, heapSizeLimitBytes: 4096 * MiB, flag: null })
        .advice,
    ).toBeNull();
  });
  it('V8’s machine-sized heap under a 256 MiB limit: advice with both flags', () => {
    const r = heapLimitReport({
      containerLimitBytes: 256 * MiB,
      heapSizeLimitBytes: 259 * MiB,
      flag: null,
      percentage: 60,
    });
    expect(r.advice).toContain('--max-old-space-size-percentage=60');
    expect(r.advice).toContain('--max-old-space-size=153');
  });
  it('on Bun: no heap limit to size, so no V8 advice (Bun ignores those flags)', () => {
    const r = heapLimitReport({
      containerLimitBytes: 256 * MiB,
      heapSizeLimitBytes: 538 * MiB,
      flag: '--max-old-space-size=153',
      runtime: 'bun',
    });
    expect(r.advice).toBeNull();
    expect(r.heapSizeLimitBytes).toBeNull();
    expect(r.containerLimitBytes).toBe(256 * MiB);
  });
  it('a heap sized from the limit (old space + young generation) fits', () => {
    expect(
      heapLimitReport({
        containerLimitBytes: 256 * MiB,
        heapSizeLimitBytes: 157 * MiB,
        flag: '--max-old-space-size-percentage=60',
        percentage: 60,
      }).advice,
    ).toBeNull();
  });
});
