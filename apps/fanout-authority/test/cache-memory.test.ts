import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { cache, k, nxdomain, positive, T0 } from './cache-fixtures.js';

// `maxBytes` is only a memory bound if the accounting matches what the entries really cost.
// Real = JS heap + external + ArrayBuffer memory after a full GC, before and after storing N
// entries into a cache large enough to keep them all.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function used(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

const N = 20_000;
const name = (i: number) => `r${i}-0123456789abcdef.prod.example.tld`;

describe('cache byte accounting against the real heap', () => {
  const shapes: Array<[string, (n: string) => Uint8Array]> = [
    ['a 1-record answer', (n) => positive(n, 300, 1)],
    ['a 20-record answer', (n) => positive(n, 300, 20)],
    ['an NXDOMAIN', (n) => nxdomain(n)],
  ];
  for (const [label, make] of shapes) {
    it(`${label}: accounted bytes are within 25 % of the real cost`, () => {
      const replies = Array.from({ length: N }, (_, i) => make(name(i)));
      const c = cache({ maxBytes: 2 ** 31 - 1, negativeMaxBytes: 2 ** 31 - 1, maxEntries: 1e7 });
      const before = used();
      for (let i = 0; i < N; i++) c.store(k(c, name(i)), replies[i], ['x', 'y'], T0);
      const real = used() - before;
      expect(c.stats.entries).toBe(N);
      const ratio = c.stats.bytes / real;
      expect(ratio, `accounted ${c.stats.bytes} vs real ${real}`).toBeGreaterThan(0.75);
      expect(ratio, `accounted ${c.stats.bytes} vs real ${real}`).toBeLessThan(1.25);
    });
  }
});
