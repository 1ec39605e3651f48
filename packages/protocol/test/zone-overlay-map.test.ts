import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldAt, OverlayMap } from '../src/index.js';

// OverlayMap is what a zone secondary's copies are built from (the index's per-name maps,
// the records by name, the held names): every copy must read exactly as a plain Map given
// the same writes, and a copy must never see a write made to another one (queries keep
// answering from the previous copy while the next one is built from its clone).

/** One step: a write to one of the live versions, or a clone of one of them. */
type Step =
  | { op: 'set'; of: number; key: number; value: number }
  | { op: 'delete'; of: number; key: number }
  | { op: 'clone'; of: number };

const step = (keys: number): fc.Arbitrary<Step> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        op: fc.constant('set' as const),
        of: fc.nat(),
        key: fc.nat({ max: keys - 1 }),
        value: fc.integer(),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('delete' as const),
        of: fc.nat(),
        key: fc.nat({ max: keys - 1 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('clone' as const), of: fc.nat() }) },
  );

function sameAsModel(map: OverlayMap<number, number>, model: Map<number, number>): void {
  expect(map.size).toBe(model.size);
  const sorted = (entries: Iterable<[number, number]>) => [...entries].sort((a, b) => a[0] - b[0]);
  expect(sorted(map.entries())).toEqual(sorted(model.entries()));
  expect(sorted(map)).toEqual(sorted(model));
  expect([...map.keys()].sort((a, b) => a - b)).toEqual([...model.keys()].sort((a, b) => a - b));
  expect([...map.values()].length).toBe(model.size);
  // One expect for every key (fast): what `get`/`has` say where they disagree with the model.
  const wrong = [...model].filter(([key, value]) => map.get(key) !== value || !map.has(key));
  expect(wrong).toEqual([]);
}

/** Runs `steps` over versions (a map and its model each), starting from `initial` keys. */
function run(initial: number, steps: readonly Step[], keys: number): void {
  const base = new Map<number, number>();
  for (let k = 0; k < initial; k++) base.set(k, -k);
  const versions = [{ map: new OverlayMap(new Map(base)), model: new Map(base) }];
  for (const s of steps) {
    const v = versions[s.of % versions.length];
    if (s.op === 'clone') versions.push({ map: v.map.clone(), model: new Map(v.model) });
    else if (s.op === 'set') {
      v.map.set(s.key, s.value);
      v.model.set(s.key, s.value);
    } else {
      expect(v.map.delete(s.key)).toBe(v.model.delete(s.key));
    }
    // Every version, not only the one written: a write must never show through a clone.
    for (const other of versions) {
      expect(other.map.size).toBe(other.model.size);
      const probe = s.op === 'clone' ? 0 : s.key;
      expect(other.map.get(probe)).toBe(other.model.get(probe));
    }
  }
  for (const { map, model } of versions) {
    sameAsModel(map, model);
    for (let k = 0; k < keys; k++) if (!model.has(k)) expect(map.has(k)).toBe(false);
  }
}

describe('OverlayMap', () => {
  it('reads as a plain Map in every version across random writes and clones (small maps)', () => {
    fc.assert(
      fc.property(fc.array(step(40), { maxLength: 200 }), (steps) => run(0, steps, 40)),
      { numRuns: 300 },
    );
  });

  it('the same past the fold threshold: deltas folded into fresh bases while clones share the old', () => {
    fc.assert(
      fc.property(fc.nat({ max: 400 }), fc.array(step(500), { maxLength: 600 }), (n, steps) =>
        run(n, steps, 500),
      ),
      { numRuns: 60 },
    );
  });

  it('a chain of clones, one write each (an IXFR per change), leaves every earlier copy as it was', () => {
    const n = 600;
    const first = new OverlayMap(new Map(Array.from({ length: n }, (_, k) => [k, 0])));
    const chain = [first];
    for (let c = 1; c <= 300; c++) {
      const next = chain[c - 1].clone();
      next.set(c % 50, c);
      if (c % 7 === 0) next.delete(200 + c);
      chain.push(next);
      // The delta never grows past the fold threshold: a clone costs at most that much.
      expect(next.deltaSize).toBeLessThanOrEqual(foldAt(next.size));
    }
    for (let c = 0; c <= 300; c++) {
      const model = new Map(Array.from({ length: n }, (_, k) => [k, 0]));
      for (let w = 1; w <= c; w++) {
        model.set(w % 50, w);
        if (w % 7 === 0) model.delete(200 + w);
      }
      sameAsModel(chain[c], model);
    }
  });

  it('folds a large delta into a base of its own, then writes in place', () => {
    const map = new OverlayMap(new Map(Array.from({ length: 1000 }, (_, k) => [k, k])));
    expect(map.deltaSize).toBe(0);
    const copy = map.clone();
    for (let k = 0; k < foldAt(1000); k++) copy.set(k, -1);
    expect(copy.deltaSize).toBe(foldAt(1000));
    copy.set(999, -1);
    expect(copy.deltaSize).toBe(0);
    copy.set(5000, 1);
    expect(copy.deltaSize).toBe(0);
    expect(copy.size).toBe(1001);
    expect(map.get(0)).toBe(0);
    expect(map.get(999)).toBe(999);
    expect(map.has(5000)).toBe(false);
    expect(map.size).toBe(1000);
  });

  it('never cloned: a plain Map underneath, in insertion order', () => {
    const map = new OverlayMap<string, number>();
    map.set('b', 1).set('a', 2).set('c', 3);
    map.delete('a');
    map.set('a', 4);
    expect([...map.keys()]).toEqual(['b', 'c', 'a']);
    expect(map.deltaSize).toBe(0);
    const seen: string[] = [];
    map.forEach((value, key) => {
      seen.push(`${key}=${value}`);
    });
    expect(seen).toEqual(['b=1', 'c=3', 'a=4']);
  });

  it('a deleted base key is gone from the clone only, and can come back', () => {
    const map = new OverlayMap(new Map([['x', 1]]));
    const copy = map.clone();
    expect(copy.delete('x')).toBe(true);
    expect(copy.delete('x')).toBe(false);
    expect(copy.has('x')).toBe(false);
    expect([...copy]).toEqual([]);
    expect(map.get('x')).toBe(1);
    copy.set('x', 2);
    expect(copy.get('x')).toBe(2);
    expect(copy.size).toBe(1);
    expect(map.get('x')).toBe(1);
  });
});
