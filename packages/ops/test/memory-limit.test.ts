import { describe, expect, it } from 'vitest';
import { containerMemoryLimit, explicitHeapFlag, heapLimitReport } from '../src/memory-limit.js';

const MiB = 2 ** 20;

describe('containerMemoryLimit', () => {
  const files = (table: Record<string, string>) => (path: string) => {
    if (!(path in table)) throw new Error('ENOENT');
    return table[path];
  };
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
