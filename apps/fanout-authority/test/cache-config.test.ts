import { describe, expect, it } from 'vitest';
import { cacheConfigSchema, defaultCacheConfig } from '../src/cache/index.js';

describe('cacheConfigSchema', () => {
  it('an empty object gives the documented defaults', () => {
    expect(cacheConfigSchema.parse({})).toEqual({
      enabled: true,
      maxEntries: 100_000,
      maxBytes: 67_108_864,
      negativeMaxBytes: 16_777_216,
      minTtl: 0,
      maxTtl: 86_400,
      negativeMaxTtl: 3_600,
      staleAnswerTtl: 30,
      maxStaleSeconds: 86_400,
      prefetch: { enabled: true, minHits: 3, thresholdPercent: 10 },
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
    ];
    for (const [input, path] of cases) {
      const r = cacheConfigSchema.safeParse(input);
      expect(r.success, JSON.stringify(input)).toBe(false);
      expect(r.error?.issues[0].path[0]).toBe(path);
    }
  });
});
