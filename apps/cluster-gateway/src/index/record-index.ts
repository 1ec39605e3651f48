import { parentName } from '@mdns/protocol';
import type { Claim, IndexSink, KindState, SourceKind } from '../sources/types.js';
import {
  type Claimant,
  type ConflictPolicy,
  type ContestedName,
  firstClaimant,
  originOf,
} from './first-claimant.js';
import { DEFAULT_KIND_ORDER, mergeClaims, type NameRecords, sameRecords } from './name-records.js';

export type { ConflictPolicy, ContestedName } from './first-claimant.js';

/** What the index knows about a query name inside one zone (RFC 4592 wildcard rules applied). */
export type IndexLookup =
  /** The name (or the wildcard that covers it) has records. */
  | { readonly type: 'records'; readonly records: NameRecords; readonly wildcard: boolean }
  /** The name exists but has no records of its own: an empty non-terminal (RFC 8020: NODATA). */
  | { readonly type: 'empty' }
  /** Nothing at or below the name. */
  | { readonly type: 'nxdomain' };

const EMPTY: IndexLookup = { type: 'empty' };
const NXDOMAIN: IndexLookup = { type: 'nxdomain' };

/**
 * Every claim made on one name, and the merged winner. Claimants are a plain array, not
 * Maps by kind and key: nearly every name has one claimant, and two Maps per name cost
 * ~500 bytes (10 MB at 20k names). Updating a name is O(its claimants) either way, since
 * the winner is merged again from all of them.
 */
interface NameEntry {
  readonly claimants: Claimant[];
  records: NameRecords | null;
  /** Cached lookup result so a hit allocates nothing. */
  hit: IndexLookup | null;
  /** The same for a wildcard name, answering a query it covers; null for other names. */
  wildHit: IndexLookup | null;
  /** Keys of the claimants refused by first-claimant, joined; absent when none is. */
  refused?: string;
}

/**
 * The gateway's in-memory name index, fed by the sources through `IndexSink` and read by the
 * DNS handler. Updates are incremental (cost grows with the names an object touches, never
 * with the index size) and a lookup costs one Map probe per label of the query name.
 *
 * Names with records are kept in `#names`; `#descendants` counts, for every ancestor of such a
 * name, how many names with records lie below it, which is what makes an empty non-terminal
 * (`ns.zone` when only `svc.ns.zone` exists) answer NODATA and not NXDOMAIN.
 */
export class RecordIndex implements IndexSink {
  readonly #rank: Map<SourceKind, number>;
  readonly #objects = new Map<SourceKind, Map<string, Claim[]>>();
  readonly #names = new Map<string, NameEntry>();
  readonly #descendants = new Map<string, number>();
  /** Wildcard entries keyed by the wildcard's parent (`apps.zone` for `*.apps.zone`). */
  readonly #wildcards = new Map<string, NameEntry>();
  readonly #namesPerKind = new Map<SourceKind, number>();
  readonly #listsPerKind = new Map<SourceKind, number>();
  readonly #states = new Map<SourceKind, KindState>();
  readonly #listeners: Array<(generation: number) => void> = [];
  readonly #stateListeners: Array<(kind: SourceKind, state: KindState) => void> = [];
  readonly #contestListeners: Array<(contest: ContestedName) => void> = [];
  readonly #firstClaimant: boolean;
  #generation = 0;
  #withRecords = 0;
  #contested = 0;

  /**
   * `kindOrder`: the configured `resources` order; the first kind claiming a name wins it.
   * `conflicts`: `sources.ownership.conflicts` (claims from different namespaces).
   */
  constructor(
    kindOrder: readonly SourceKind[] = DEFAULT_KIND_ORDER,
    conflicts: ConflictPolicy = 'first-claimant',
  ) {
    this.#firstClaimant = conflicts === 'first-claimant';
    this.#rank = new Map();
    for (const kind of [...kindOrder, ...DEFAULT_KIND_ORDER]) {
      if (!this.#rank.has(kind)) this.#rank.set(kind, this.#rank.size);
    }
  }

  /** Moves on every change of what any name answers; response caches key on it. */
  get generation(): number {
    return this.#generation;
  }

  /** Names where first-claimant currently refuses another namespace's claim. */
  get contested(): number {
    return this.#contested;
  }

  /** Called when the claimants first-claimant refuses on a name change (new conflict, or a different one). */
  onContest(listener: (contest: ContestedName) => void): void {
    this.#contestListeners.push(listener);
  }

  /** Number of names that currently answer with records. */
  get size(): number {
    return this.#withRecords;
  }

  /** Called after each change (once per `replaceKind`), with the new generation. */
  onChange(listener: (generation: number) => void): void {
    this.#listeners.push(listener);
  }

  replaceObject(kind: SourceKind, key: string, claims: Claim[]): void {
    if (this.#applyObject(kind, key, claims)) this.#changed();
  }

  /** After a (re)list: objects not in `objects` are dropped, all in one synchronous step. */
  replaceKind(kind: SourceKind, objects: Map<string, Claim[]>): void {
    this.#listsPerKind.set(kind, (this.#listsPerKind.get(kind) ?? 0) + 1);
    let changed = false;
    const current = this.#objects.get(kind);
    if (current) {
      for (const key of [...current.keys()]) {
        if (!objects.has(key) && this.#applyObject(kind, key, [])) changed = true;
      }
    }
    for (const [key, claims] of objects) {
      if (this.#applyObject(kind, key, claims)) changed = true;
    }
    if (changed) this.#changed();
  }

  setKindState(kind: SourceKind, state: KindState): void {
    this.#states.set(kind, state);
    for (const listener of this.#stateListeners) listener(kind, state);
  }

  /** Called after each `setKindState` (readiness, logs). */
  onKindState(listener: (kind: SourceKind, state: KindState) => void): void {
    this.#stateListeners.push(listener);
  }

  kindState(kind: SourceKind): KindState | undefined {
    return this.#states.get(kind);
  }

  kindStates(): ReadonlyMap<SourceKind, KindState> {
    return this.#states;
  }

  /** Distinct names each kind claims (won or not), for the index-size metric. */
  namesPerKind(): ReadonlyMap<SourceKind, number> {
    return this.#namesPerKind;
  }

  /**
   * Full lists applied per kind: 1 after the first sync, +1 per re-list (410 Gone, a watch
   * that could not resume). A steady climb means the watch never settles.
   */
  listsPerKind(kind: SourceKind): number {
    return this.#listsPerKind.get(kind) ?? 0;
  }

  /** Objects each kind has in the index. */
  objectsPerKind(kind: SourceKind): number {
    return this.#objects.get(kind)?.size ?? 0;
  }

  /** Every name with records of its own (wildcards not included), for the reverse map. */
  *namesWithRecords(): IterableIterator<[string, NameRecords]> {
    for (const [name, entry] of this.#names) if (entry.records) yield [name, entry.records];
  }

  /** The records a name has of its own (no wildcard), e.g. A/AAAA at a zone apex. */
  recordsAt(name: string): NameRecords | null {
    return this.#names.get(name)?.records ?? null;
  }

  /**
   * Looks `qname` up inside `zone` (both normalized, `qname` at or below `zone`). The zone apex
   * always exists (it has SOA/NS), so it is never NXDOMAIN and is the last closest encloser.
   */
  lookup(qname: string, zone: string): IndexLookup {
    const entry = this.#names.get(qname);
    if (entry?.hit) return entry.hit;
    if (qname === zone || this.#descendants.has(qname)) return EMPTY;
    // RFC 4592: find the closest encloser, then the source of synthesis `*.<encloser>`.
    let n = qname;
    while (n !== zone && n !== '') {
      n = parentName(n);
      if (n === zone || this.#names.get(n)?.records || this.#descendants.has(n)) break;
    }
    const wild = this.#wildcards.get(n);
    return wild?.wildHit ?? NXDOMAIN;
  }

  #changed(): void {
    this.#generation++;
    for (const listener of this.#listeners) listener(this.#generation);
  }

  /** Applies one object's claims; true when any name's answer changed. */
  #applyObject(kind: SourceKind, key: string, claims: Claim[]): boolean {
    let perKind = this.#objects.get(kind);
    const old = perKind?.get(key);
    if (!old && claims.length === 0) return false;
    if (!perKind) {
      perKind = new Map();
      this.#objects.set(kind, perKind);
    }
    if (claims.length === 0) perKind.delete(key);
    else perKind.set(key, claims);

    const touched = new Set<string>();
    if (old) for (const claim of old) touched.add(claim.name);
    for (const claim of claims) touched.add(claim.name);

    let changed = false;
    for (const name of touched) {
      // An object nearly always claims one name: share its array rather than copy it.
      const mine = claims.every((c) => c.name === name)
        ? claims
        : claims.filter((c) => c.name === name);
      if (this.#setContribution(name, kind, key, mine)) changed = true;
    }
    return changed;
  }

  #setContribution(name: string, kind: SourceKind, key: string, claims: Claim[]): boolean {
    let entry = this.#names.get(name);
    if (!entry) {
      if (claims.length === 0) return false;
      // Created holding its first claimant: an empty array grown by push has room for 17.
      entry = { claimants: [{ kind, key, claims }], records: null, hit: null, wildHit: null };
      this.#names.set(name, entry);
      this.#countKindName(kind, 1);
      return this.#settle(name, entry);
    }
    const list = entry.claimants;
    let at = -1;
    let kindClaimants = 0;
    for (let i = 0; i < list.length; i++) {
      if (list[i].kind !== kind) continue;
      kindClaimants++;
      if (list[i].key === key) at = i;
    }
    if (claims.length > 0) {
      if (at >= 0) list[at].claims = claims;
      else {
        list.push({ kind, key, claims });
        if (kindClaimants === 0) this.#countKindName(kind, 1);
      }
    } else if (at >= 0) {
      list.splice(at, 1);
      if (kindClaimants === 1) this.#countKindName(kind, -1);
    }

    return this.#settle(name, entry);
  }

  /** Merges the name's claimants again; true when what it answers changed. */
  #settle(name: string, entry: NameEntry): boolean {
    const before = entry.records;
    const after = this.#resolve(name, entry);
    if (entry.claimants.length === 0) this.#names.delete(name);
    if (sameRecords(before, after)) return false;
    this.#setRecords(name, entry, after);
    return true;
  }

  /** The owning namespace's claimants (first-claimant), then the first kind in configured order with a mergeable claim. */
  #resolve(name: string, entry: NameEntry): NameRecords | null {
    let list: readonly Claimant[] = entry.claimants;
    if (list.length <= 1) {
      if (entry.refused !== undefined) {
        entry.refused = undefined;
        this.#contested--;
      }
      return list.length === 1 ? mergeClaims(list[0].kind, list[0].claims) : null;
    }
    if (this.#firstClaimant) {
      const { owners, refused, first } = firstClaimant(list);
      this.#setRefused(name, entry, first, refused);
      list = owners;
      if (list.length === 1) return mergeClaims(list[0].kind, list[0].claims);
    }
    const kinds = [...new Set(list.map((c) => c.kind))].sort(
      (x, y) =>
        (this.#rank.get(x) ?? Number.MAX_SAFE_INTEGER) -
        (this.#rank.get(y) ?? Number.MAX_SAFE_INTEGER),
    );
    for (const kind of kinds) {
      const claims = list.filter((c) => c.kind === kind).flatMap((c) => c.claims);
      const merged = mergeClaims(kind, claims);
      if (merged) return merged;
    }
    return null;
  }

  /** Keeps the contested count and tells the listeners when the refused set changes. */
  #setRefused(name: string, entry: NameEntry, first: Claimant, refused: readonly Claimant[]): void {
    const keys = refused.map((c) => `${c.kind} ${c.key}`);
    const joined = keys.length > 0 ? keys.join('\n') : undefined;
    if (joined === entry.refused) return;
    if (entry.refused === undefined) this.#contested++;
    else if (joined === undefined) this.#contested--;
    entry.refused = joined;
    if (joined === undefined) return;
    const contest: ContestedName = {
      name,
      owner: `${first.kind} ${first.key}`,
      namespace: originOf(first).namespace,
      refused: keys,
    };
    for (const listener of this.#contestListeners) listener(contest);
  }

  #setRecords(name: string, entry: NameEntry, records: NameRecords | null): void {
    const had = entry.records !== null;
    entry.records = records;
    const isWildcard = name.startsWith('*.');
    entry.hit = records ? { type: 'records', records, wildcard: false } : null;
    entry.wildHit = records && isWildcard ? { type: 'records', records, wildcard: true } : null;
    if (isWildcard) {
      const parent = name.slice(2);
      if (records) this.#wildcards.set(parent, entry);
      else this.#wildcards.delete(parent);
    }
    if (had === (records !== null)) return;
    this.#withRecords += records ? 1 : -1;
    const delta = records ? 1 : -1;
    for (let n = parentName(name); ; n = parentName(n)) {
      const count = (this.#descendants.get(n) ?? 0) + delta;
      if (count > 0) this.#descendants.set(n, count);
      else this.#descendants.delete(n);
      if (n === '') break;
    }
  }

  #countKindName(kind: SourceKind, delta: number): void {
    this.#namesPerKind.set(kind, (this.#namesPerKind.get(kind) ?? 0) + delta);
  }
}
