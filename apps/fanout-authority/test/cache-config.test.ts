import { containerMemoryLimit } from '@mdns/ops';
import { describe, expect, it } from 'vitest';
import { cacheBudget, cacheConfigSchema, defaultCacheConfig } from '../src/cache/index.js';

describe('cacheConfigSchema', () => {
  it('an empty object gives the documented defaults', () => {
    expect(cacheConfigSchema.parse({})).toEqual({
      enabled: true,
      maxEntries: 100_000,
      // 64 MiB without a container memory limit (this machine), an eighth of it with one.
      maxBytes: cacheBudget(containerMemoryLimit()),
      negativeMaxBytes: Math.floor(cacheBudget(containerMemoryLimit()) / 4),
      minTtl: 0,
      maxTtl: 86_400,
      negativeMaxTtl: 3_600,
      staleAnswerTtl: 30,
      maxStaleSeconds: 86_400,
      prefetch: { enabled: true, minHits: 3, thresholdPercent: 10 },
      notifyIntervalMs: 1000,
    });
    expect(defaultCacheConfig).toEqual(cacheConfigSchema.parse({}));
  });

  it('a partial prefetch block keeps the other prefetch defaults', () => {
    expect(cacheConfigSchema.parse({ prefetch: { minHits: 5 } }).prefetch).toEqual({
      enabled: true,
      minHits: 5,
      thresholdPercent: 10,
    });
  });

  it('rejects unknown keys, naming them', () => {
    const r = cacheConfigSchema.safeParse({ maxEntires: 10 });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('maxEntires');
    const nested = cacheConfigSchema.safeParse({ prefetch: { treshold: 1 } });
    expect(nested.success).toBe(false);
  });

  it('rejects bad values with the field path', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ maxEntries: 0 }, 'maxEntries'],
      [{ maxTtl: -1 }, 'maxTtl'],
      [{ minTtl: 1.5 }, 'minTtl'],
      [{ minTtl: 100, maxTtl: 10 }, 'minTtl'],
      [{ prefetch: { thresholdPercent: 150 } }, 'prefetch'],
      [{ enabled: 'yes' }, 'enabled'],
      [{ maxBytes: 100_000, negativeMaxBytes: 200_000 }, 'negativeMaxBytes'],
      [{ negativeMaxBytes: 100 }, 'negativeMaxBytes'],
      [{ notifyIntervalMs: -1 }, 'notifyIntervalMs'],
    ];
    for (const [input, path] of cases) {
      const r = cacheConfigSchema.safeParse(input);
      expect(r.success, JSON.stringify(input)).toBe(false);
      expect(r.error?.issues[0].path[0]).toBe(path);
    }
  });
});

describe('maxBytes default from the container memory limit', () => {
  it('an eighth of the limit, 64 MiB without one', () => {
    expect(cacheBudget(256 * 1024 * 1024)).toBe(32 * 1024 * 1024);
    expect(cacheBudget(100 * 1024 * 1024)).toBe(12.5 * 1024 * 1024);
    expect(cacheBudget(null)).toBe(64 * 1024 * 1024);
  });

  it('negativeMaxBytes defaults to a quarter of an explicit maxBytes', () => {
    expect(cacheConfigSchema.parse({ maxBytes: 4_000_000 }).negativeMaxBytes).toBe(1_000_000);
    expect(cacheConfigSchema.parse({ maxBytes: 8192 }).negativeMaxBytes).toBe(4096);
  });
});
