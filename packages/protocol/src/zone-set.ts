import { labelBoundary, normalizeName } from './names.js';

/**
 * The zones a server is authoritative for, answering "which served zone owns this name?"
 * (the most specific one, label aligned). One Map lookup per label of the name, so the cost
 * does not grow with the number of zones.
 */
export class ZoneSet {
  readonly zones: readonly string[];
  readonly #set: Set<string>;

  constructor(zones: Iterable<string>) {
    this.#set = new Set([...zones].map(normalizeName));
    // Most specific first: the order a reader expects when listing them.
    this.zones = [...this.#set].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  }

  /**
   * The most specific zone at or above `name` (normalized), or `undefined` when none serves it.
   * Splits on label boundaries only: `svc\.prod.example.tld` (first label `svc.prod`) is under
   * `example.tld`, never under `prod.example.tld`.
   */
  match(name: string): string | undefined {
    const set = this.#set;
    let n = name;
    for (;;) {
      if (set.has(n)) return n;
      if (n === '') return undefined;
      const dot = labelBoundary(n);
      n = dot < 0 ? '' : n.slice(dot + 1);
    }
  }

  has(zone: string): boolean {
    return this.#set.has(zone);
  }

  get size(): number {
    return this.#set.size;
  }
}
