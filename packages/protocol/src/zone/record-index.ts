import { labelBoundary, parentName } from '../names.js';
import { OverlayMap } from './overlay-map.js';
import {
  type Claim,
  type Claimant,
  mergeClaims,
  type NameRecords,
  originOf,
  sameRecords,
} from './records.js';

/**
 * Who owns a name that claimants of several origins claim: the claimants that stay
 * (`owners`), the refused ones, and the first (the owner named in a contest). Pure; the
 * gateway's first-claimant is one. Without a rule every claimant stays (one merge).
 */
export type OwnerRule<K extends string = string> = (claimants: readonly Claimant<K>[]) => {
  owners: readonly Claimant<K>[];
  refused: readonly Claimant<K>[];
  first: Claimant<K>;
};

/** A name whose claimants from other origins were refused by the owner rule. */
export interface ContestedName {
  name: string;
  /** The winning claimant (`kind key`) and its namespace. */
  owner: string;
  namespace: string;
  /** `kind key` of each refused claimant. */
  refused: string[];
}

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
interface NameEntry<K extends string> {
  readonly claimants: Claimant<K>[];
  records: NameRecords<K> | null;
  /**
   * Cached lookup result so a hit allocates nothing; made at the name's first hit, not with
   * its records (a 20k-name zone copy holds 20k names nobody may ask for: ~1 MB).
   */
  hit: IndexLookup | null;
  /** The same for a wildcard name, answering a query it covers; null for other names. */
  wildHit: IndexLookup | null;
  /** Keys of the claimants refused by first-claimant, joined; absent when none is. */
  refused?: string;
}

/**
 * An in-memory zone index: claims of source objects (by kind and key) merged per name, read
 * by the answer function. The gateway feeds it from Kubernetes, `fromRecords` from a plain
 * record list. Updates are incremental (cost grows with the names an object touches, never
 * with the index size) and a lookup costs one Map probe per label of the query name.
 *
 * Names with records are kept in `#names`; `#descendants` counts, for every ancestor of such a
 * name, how many names with records lie below it, which is what makes an empty non-terminal
 * (`ns.zone` when only `svc.ns.zone` exists) answer NODATA and not NXDOMAIN.
 */
export class RecordIndex<K extends string = string> {
  readonly #rank: Map<K, number>;
  // The per-name maps are OverlayMaps: plain Maps until cloned, then a clone costs the
  // names changed since the last fold, not the zone (a secondary clones per IXFR).
  readonly #objects = new Map<K, OverlayMap<string, Claim[]>>();
  #names = new OverlayMap<string, NameEntry<K>>();
  #descendants = new OverlayMap<string, number>();
  /** Wildcard entries keyed by the wildcard's parent (`apps.zone` for `*.apps.zone`). */
  #wildcards = new OverlayMap<string, NameEntry<K>>();
  /** The parent name last made per length (`#parentOf`). */
  readonly #parents = new Map<number, string>();
  readonly #namesPerKind = new Map<K, number>();
  readonly #listsPerKind = new Map<K, number>();
  readonly #listeners: Array<(generation: number) => void> = [];
  readonly #contestListeners: Array<(contest: ContestedName) => void> = [];
  readonly #owners: OwnerRule<K> | null;
  #generation = 0;
  #withRecords = 0;
  #contested = 0;
  /**
   * After `clone()`: the entries this index made or copied itself. Every other entry is
   * shared with the index it was cloned from (which may be answering queries) and is copied
   * before its first change here. null: every entry is this index's own.
   */
  #own: Set<NameEntry<K>> | null = null;
  /** Names whose records changed since the last `takeChangedNames` (`trackChangedNames`). */
  #changedNames: Set<string> | null = null;

  /**
   * `kindOrder`: kind precedence; of the kinds claiming a name, the first in this order wins
   * it (a kind not listed ranks after every listed one). `owners`: who owns a name claimed
   * from several origins; `null` merges every claimant.
   */
  constructor(kindOrder: readonly K[] = [], owners: OwnerRule<K> | null = null) {
    this.#owners = owners;
    this.#rank = new Map();
    for (const kind of kindOrder) {
      if (!this.#rank.has(kind)) this.#rank.set(kind, this.#rank.size);
    }
  }

  /**
   * A new index answering exactly as this one, sharing its per-name entries: changing it
   * never changes this one (a name's entry is copied on its first change there). Costs the
   * names changed since the maps' last fold (`OverlayMap.clone`, ~sqrt(2n) at most), not a
   * copy per name: a zone secondary applies an IXFR to the clone of the copy it answers
   * from. Listeners are not carried over. This index is not changed after it is cloned (the
   * entries are shared).
   */
  clone(): RecordIndex<K> {
    const copy = new RecordIndex<K>([], this.#owners);
    for (const [kind, rank] of this.#rank) copy.#rank.set(kind, rank);
    for (const [kind, objects] of this.#objects) copy.#objects.set(kind, objects.clone());
    copy.#names = this.#names.clone();
    copy.#descendants = this.#descendants.clone();
    copy.#wildcards = this.#wildcards.clone();
    for (const [kind, n] of this.#namesPerKind) copy.#namesPerKind.set(kind, n);
    for (const [kind, n] of this.#listsPerKind) copy.#listsPerKind.set(kind, n);
    copy.#generation = this.#generation;
    copy.#withRecords = this.#withRecords;
    copy.#contested = this.#contested;
    copy.#own = new Set();
    return copy;
  }

  /**
   * From now on, note every name whose records change (added, removed, merged anew: a
   * claimant replaced, a kind relisted, a conflict won by another object), wildcards as
   * their `*.` name: a zone primary's commit then costs the names changed, not the zone.
   */
  trackChangedNames(): void {
    this.#changedNames ??= new Set();
  }

  /** The names whose records changed since the last call (`trackChangedNames` first). */
  takeChangedNames(): Set<string> {
    const names = this.#changedNames ?? new Set<string>();
    if (this.#changedNames !== null) this.#changedNames = new Set();
    return names;
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

  /** Replace every claim of one object; `[]` removes the object. */
  replaceObject(kind: K, key: string, claims: Claim[]): void {
    if (this.#applyObject(kind, key, claims)) this.#changed();
  }

  /** After a (re)list: objects not in `objects` are dropped, all in one synchronous step. */
  replaceKind(kind: K, objects: ReadonlyMap<string, Claim[]>): void {
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

  /** Distinct names each kind claims (won or not), for the index-size metric. */
  namesPerKind(): ReadonlyMap<K, number> {
    return this.#namesPerKind;
  }

  /**
   * Full lists applied per kind: 1 after the first sync, +1 per re-list (410 Gone, a watch
   * that could not resume). A steady climb means the watch never settles.
   */
  listsPerKind(kind: K): number {
    return this.#listsPerKind.get(kind) ?? 0;
  }

  /** Objects each kind has in the index. */
  objectsPerKind(kind: K): number {
    return this.#objects.get(kind)?.size ?? 0;
  }

  /** Every name with records of its own (wildcards not included), for the reverse map. */
  *namesWithRecords(): IterableIterator<[string, NameRecords<K>]> {
    for (const [name, entry] of this.#names) if (entry.records) yield [name, entry.records];
  }

  /** The records a name has of its own (no wildcard), e.g. A/AAAA at a zone apex. */
  recordsAt(name: string): NameRecords<K> | null {
    return this.#names.get(name)?.records ?? null;
  }

  /**
   * Looks `qname` up inside `zone` (both normalized, `qname` at or below `zone`). The zone apex
   * always exists (it has SOA/NS), so it is never NXDOMAIN and is the last closest encloser.
   */
  lookup(qname: string, zone: string): IndexLookup {
    const entry = this.#names.get(qname);
    if (entry !== undefined && entry.records !== null) {
      // Cached on the entry even when a clone shares it: the records it wraps are the same.
      entry.hit ??= { type: 'records', records: entry.records, wildcard: false };
      return entry.hit;
    }
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
  #applyObject(kind: K, key: string, claims: Claim[]): boolean {
    let perKind = this.#objects.get(kind);
    const old = perKind?.get(key);
    if (!old && claims.length === 0) return false;
    if (!perKind) {
      perKind = new OverlayMap();
      this.#objects.set(kind, perKind);
    }
    if (claims.length === 0) perKind.delete(key);
    else perKind.set(key, claims);

    // Nearly every object claims one name, before and after: no Set of names to build (a
    // zone transfer's load runs this for every name).
    const only = (claims[0] ?? (old as Claim[])[0]).name;
    if (allOn(claims, only) && (old === undefined || allOn(old, only))) {
      return this.#setContribution(only, kind, key, claims);
    }
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

  #setContribution(name: string, kind: K, key: string, claims: Claim[]): boolean {
    let entry = this.#names.get(name);
    if (entry && this.#own !== null && !this.#own.has(entry)) entry = this.#ownEntry(name, entry);
    if (!entry) {
      if (claims.length === 0) return false;
      // Created holding its first claimant: an empty array grown by push has room for 17.
      entry = { claimants: [{ kind, key, claims }], records: null, hit: null, wildHit: null };
      this.#own?.add(entry);
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

  /** A clone's own copy of an entry shared with the index it was cloned from (`clone`). */
  #ownEntry(name: string, shared: NameEntry<K>): NameEntry<K> {
    const entry: NameEntry<K> = {
      claimants: shared.claimants.map((c) => ({ ...c })),
      records: shared.records,
      hit: shared.hit,
      wildHit: shared.wildHit,
      ...(shared.refused === undefined ? {} : { refused: shared.refused }),
    };
    this.#own?.add(entry);
    this.#names.set(name, entry);
    if (name.startsWith('*.') && this.#wildcards.get(name.slice(2)) === shared) {
      this.#wildcards.set(name.slice(2), entry);
    }
    return entry;
  }

  /** Merges the name's claimants again; true when what it answers changed. */
  #settle(name: string, entry: NameEntry<K>): boolean {
    const before = entry.records;
    const after = this.#resolve(name, entry);
    if (entry.claimants.length === 0) {
      this.#names.delete(name);
      this.#own?.delete(entry);
    }
    if (sameRecords(before, after)) return false;
    this.#setRecords(name, entry, after);
    return true;
  }

  /** The owning origin's claimants (the owner rule), then the first kind in precedence order with a mergeable claim. */
  #resolve(name: string, entry: NameEntry<K>): NameRecords<K> | null {
    let list: readonly Claimant<K>[] = entry.claimants;
    if (list.length <= 1) {
      if (entry.refused !== undefined) {
        entry.refused = undefined;
        this.#contested--;
      }
      return list.length === 1 ? mergeClaims(list[0].kind, list[0].claims) : null;
    }
    if (this.#owners !== null) {
      const { owners, refused, first } = this.#owners(list);
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
  #setRefused(
    name: string,
    entry: NameEntry<K>,
    first: Claimant<K>,
    refused: readonly Claimant<K>[],
  ): void {
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

  #setRecords(name: string, entry: NameEntry<K>, records: NameRecords<K> | null): void {
    const had = entry.records !== null;
    entry.records = records;
    this.#changedNames?.add(name);
    const isWildcard = name.startsWith('*.');
    entry.hit = null;
    entry.wildHit = records && isWildcard ? { type: 'records', records, wildcard: true } : null;
    if (isWildcard) {
      const parent = name.slice(2);
      if (records) this.#wildcards.set(parent, entry);
      else this.#wildcards.delete(parent);
    }
    if (had === (records !== null)) return;
    this.#withRecords += records ? 1 : -1;
    const delta = records ? 1 : -1;
    for (let n = this.#parentOf(name); ; n = this.#parentOf(n)) {
      const count = (this.#descendants.get(n) ?? 0) + delta;
      if (count > 0) this.#descendants.set(n, count);
      else this.#descendants.delete(n);
      if (n === '') break;
    }
  }

  /**
   * `parentName`, without a new string when the parent is one seen last at that length (the
   * names of a zone share a few parents): loading 20k names made 40k throwaway substrings.
   */
  #parentOf(name: string): string {
    const dot = labelBoundary(name);
    if (dot < 0) return '';
    const length = name.length - dot - 1;
    const seen = this.#parents.get(length);
    if (seen !== undefined && name.endsWith(seen)) return seen;
    const parent = name.slice(dot + 1);
    this.#parents.set(length, parent);
    return parent;
  }

  #countKindName(kind: K, delta: number): void {
    this.#namesPerKind.set(kind, (this.#namesPerKind.get(kind) ?? 0) + delta);
  }
}

/** Every claim is on `name`. */
function allOn(claims: readonly Claim[], name: string): boolean {
  for (const claim of claims) if (claim.name !== name) return false;
  return true;
}
