import type { StoredAnswer } from '../cache/index.js';
import type { ZoneRuntime } from '../config/runtime.js';
import type { ReplicaCopy } from './copy.js';
import type { Replica } from './replica.js';

/**
 * A merged answer of a zone whose every upstream is replicated, kept as wire bytes
 * (@mdns/protocol `StoredAnswer`, the cache's own form) and served with `patchStored`: one
 * copy plus the query's ID, question case and OPT, as a cache hit is served.
 */
export interface ReplicaStoredAnswer {
  readonly stored: StoredAnswer;
  /** The decision it came from, counted per answer as a fan-out's would be. */
  readonly kind: 'positive' | 'nodata' | 'nxdomain';
  /** The replicas whose copies were consulted for it: each counts one answer per query. */
  readonly consulted: readonly Replica[];
}

/**
 * Most answers kept per zone. A flood of random names must not grow memory without bound:
 * past it the store starts again empty (the hot names come back at their next query, each
 * at the cost of one synchronous merge).
 */
export const MAX_STORED_PER_ZONE = 20_000;

/** The stored answers of one zone, valid for one generation of its copies. */
export class ZoneStoredAnswers {
  /** The copy of each member these answers were made from (config order). */
  readonly #copies: Array<ReplicaCopy | null>;
  readonly #answers = new Map<string, ReplicaStoredAnswer>();
  /** Bumped whenever a copy of the zone is swapped (and the answers dropped). */
  generation = 0;

  constructor(
    readonly zone: ZoneRuntime,
    private readonly maxEntries: number,
  ) {
    this.#copies = zone.members.map(() => null);
  }

  /**
   * True when every member has a fresh copy; drops every stored answer when any copy is not
   * the one they were made from (a pull, an IXFR, a follower's adopted copy: all swap the
   * reference). No allocation: it runs for every query of the zone.
   */
  current(nowMs: number): boolean {
    const members = this.zone.members;
    let swapped = false;
    for (let i = 0; i < members.length; i++) {
      const copy = members[i].replica?.fresh(nowMs) ?? null;
      if (copy === null) return false;
      if (copy !== this.#copies[i]) {
        this.#copies[i] = copy;
        swapped = true;
      }
    }
    if (swapped) {
      this.#answers.clear();
      this.generation++;
    }
    return true;
  }

  get(key: string): ReplicaStoredAnswer | undefined {
    return this.#answers.get(key);
  }

  set(key: string, answer: ReplicaStoredAnswer): void {
    if (this.#answers.size >= this.maxEntries) this.#answers.clear();
    this.#answers.set(key, answer);
  }

  get size(): number {
    return this.#answers.size;
  }
}

/**
 * The stored answers of every zone, per runtime zone object: a reload builds new zone objects
 * (maybe another policy, maxTtl, member list), so its answers start empty and the old ones go
 * with the old runtime.
 */
export class ReplicaAnswers {
  /** null: a zone with an upstream asked per query (fixed for a zone object: never a store). */
  readonly #zones = new WeakMap<ZoneRuntime, ZoneStoredAnswers | null>();

  constructor(private readonly maxPerZone = MAX_STORED_PER_ZONE) {}

  /** The zone's store when every member has a fresh copy (invalidated on a swap), else null. */
  of(zone: ZoneRuntime, nowMs: number): ZoneStoredAnswers | null {
    let store = this.#zones.get(zone);
    if (store === undefined) {
      const whole = zone.members.length > 0 && zone.members.every((m) => m.replica !== null);
      store = whole ? new ZoneStoredAnswers(zone, this.maxPerZone) : null;
      this.#zones.set(zone, store);
    }
    return store?.current(nowMs) ? store : null;
  }
}
