/** A deleted key in a delta: the base still holds it, this map does not. */
const GONE: unique symbol = Symbol('gone');
type Slot<V> = V | typeof GONE;

/** Smallest delta that is ever folded into a new base (tiny maps just keep a delta). */
const MIN_DELTA = 8;

/**
 * A Map with a cheap persistent copy, for a zone secondary's copies (RecordIndex, the
 * records by name, the held names): an IXFR builds the next copy from the served one, and
 * copying every map of a 20k-name zone per change cost tens of MB of garbage and ~50 ms on
 * Bun (JavaScriptCore collects it late: RSS climbed ~10 MB per change).
 *
 * `clone()` shares a frozen base and copies only the small delta of changes made since that
 * base was built; each side then writes to its own delta and never to the base, so neither
 * copy can change the other. A lookup probes the delta, then the base. When the delta
 * passes ~sqrt(2 × size) entries it is folded into a fresh base of this map's own: a clone
 * costs at most that many entries and the fold (the whole map) comes once per that many
 * changed keys, which balances the two for one-name IXFRs. Until it is first cloned (a
 * gateway's index, a zone loaded once) it is a plain Map: writes go to the base, in place.
 *
 * Iteration order: the plain Map's while never cloned; after a clone, the delta's entries
 * first, then the base's (nothing here depends on the order of a cloned map). `undefined`
 * is not a value it can hold (`get` could not tell it from a missing key).
 */
export class OverlayMap<K, V> implements ReadonlyMap<K, V> {
  #base: Map<K, V>;
  /** null: the base is this map's alone (never shared by a clone): writes go to it. */
  #delta: Map<K, Slot<V>> | null = null;
  #size: number;

  /** Takes `base` as it is (no copy): the caller hands it over and never changes it again. */
  constructor(base: Map<K, V> = new Map()) {
    this.#base = base;
    this.#size = base.size;
  }

  /** A copy that shares everything but the delta: costs the delta, not the map. */
  clone(): OverlayMap<K, V> {
    // From now on the base is shared: this map writes to a delta too.
    this.#delta ??= new Map();
    const copy = new OverlayMap<K, V>(this.#base);
    copy.#delta = new Map(this.#delta);
    copy.#size = this.#size;
    return copy;
  }

  get size(): number {
    return this.#size;
  }

  /** Entries held apart from the base (0 while never cloned or right after a fold). */
  get deltaSize(): number {
    return this.#delta?.size ?? 0;
  }

  get(key: K): V | undefined {
    const delta = this.#delta;
    if (delta !== null && delta.size > 0) {
      const slot = delta.get(key);
      if (slot !== undefined) return slot === GONE ? undefined : slot;
    }
    return this.#base.get(key);
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  set(key: K, value: V): this {
    const delta = this.#delta;
    if (delta === null) {
      this.#base.set(key, value);
      this.#size = this.#base.size;
      return this;
    }
    if (this.get(key) === undefined) this.#size++;
    delta.set(key, value);
    this.#foldIfLarge(delta);
    return this;
  }

  delete(key: K): boolean {
    const delta = this.#delta;
    if (delta === null) {
      const had = this.#base.delete(key);
      this.#size = this.#base.size;
      return had;
    }
    if (this.get(key) === undefined) return false;
    this.#size--;
    if (this.#base.has(key)) delta.set(key, GONE);
    else delta.delete(key);
    this.#foldIfLarge(delta);
    return true;
  }

  *entries(): MapIterator<[K, V]> {
    const delta = this.#delta;
    if (delta === null || delta.size === 0) {
      yield* this.#base.entries();
      return;
    }
    for (const [key, slot] of delta) if (slot !== GONE) yield [key, slot];
    for (const entry of this.#base) if (!delta.has(entry[0])) yield entry;
  }

  *keys(): MapIterator<K> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  }

  /** Folds the delta into a new base of this map's own once it is worth a copy of the whole. */
  #foldIfLarge(delta: Map<K, Slot<V>>): void {
    if (delta.size <= foldAt(this.#size)) return;
    const base = new Map<K, V>();
    for (const [key, value] of this.#base) {
      if (!delta.has(key)) base.set(key, value);
    }
    for (const [key, slot] of delta) if (slot !== GONE) base.set(key, slot);
    this.#base = base;
    this.#delta = null;
  }
}

/** The delta size past which `OverlayMap` folds: ~sqrt(2n), what balances clones and folds. */
export function foldAt(size: number): number {
  return Math.max(MIN_DELTA, Math.ceil(Math.sqrt(2 * size)));
}
