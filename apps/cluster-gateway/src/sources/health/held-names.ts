import { HeldNameSet, type IndexLookup } from '@mdns/protocol';
import type { Claim, IndexSink, KindState, SourceKind } from '../types.js';

/** A claim with nothing to answer: what the ledger sends for an object held back for health. */
export function isHeld(claim: Claim): boolean {
  return (
    claim.a.length === 0 &&
    claim.aaaa.length === 0 &&
    claim.cname === undefined &&
    claim.txt.length === 0 &&
    (claim.extra?.length ?? 0) === 0
  );
}

/**
 * The names claimed by objects held back for health (no ready endpoint). The index merges
 * only claims with data, so a name whose every claimant is held back would be NXDOMAIN;
 * the name exists, it has no healthy address: NODATA. `lookup` turns the index's NXDOMAIN
 * into NODATA for such a name, below it an empty non-terminal above it, and under a held
 * wildcard (protocol's `HeldNameSet`). It sits between the sources and the index (`sink`),
 * and between the index and the answer (`lookup`), so the index itself stays a plain merge
 * of data. Zone transfers carry the held names as markers (`names()`, `heldMarker`).
 */
export class HeldNames {
  /** `${kind} ${key}` -> the names its held claims hold. */
  private readonly objects = new Map<string, string[]>();
  private readonly held = new HeldNameSet();
  /** Bumped on every change of the held names: part of the answer cache's generation. */
  generation = 0;
  /** Names held or let go since the last `takeChangedNames` (`trackChangedNames`). */
  private changedNames: Set<string> | null = null;

  constructor(
    /** The index's own lookup. */
    private readonly index: (qname: string, zone: string) => IndexLookup,
    private readonly changed: () => void = () => {},
  ) {}

  get size(): number {
    return this.objects.size;
  }

  /** Every distinct held name, for the zone's transfer markers. */
  names(): IterableIterator<string> {
    return this.held.names();
  }

  /** Whether `name` itself is held (it gets a marker in a zone transfer). */
  isHeld(name: string): boolean {
    return this.held.has(name);
  }

  /** From now on, note the names held or let go (a name-by-name zone commit reads them). */
  trackChangedNames(): void {
    this.changedNames ??= new Set();
  }

  /** The names held or let go since the last call (`trackChangedNames` first). */
  takeChangedNames(): Set<string> {
    const names = this.changedNames ?? new Set<string>();
    if (this.changedNames !== null) this.changedNames = new Set();
    return names;
  }

  /** `inner` (the index), with every object's held claims noted on the way. */
  sink(inner: IndexSink): IndexSink {
    return {
      replaceObject: (kind: SourceKind, key: string, claims: Claim[]) => {
        inner.replaceObject(kind, key, claims);
        if (this.set(kind, key, claims)) this.bump();
      },
      replaceKind: (kind: SourceKind, objects: Map<string, Claim[]>) => {
        inner.replaceKind(kind, objects);
        let changed = false;
        const prefix = `${kind} `;
        for (const id of [...this.objects.keys()]) {
          if (id.startsWith(prefix) && !objects.has(id.slice(prefix.length))) {
            changed = this.set(kind, id.slice(prefix.length), []) || changed;
          }
        }
        for (const [key, claims] of objects) changed = this.set(kind, key, claims) || changed;
        if (changed) this.bump();
      },
      setKindState: (kind: SourceKind, state: KindState) => inner.setKindState(kind, state),
    };
  }

  /** The index's answer for `qname`, with NXDOMAIN turned NODATA where a held name exists. */
  lookup(qname: string, zone: string): IndexLookup {
    return this.held.lookup(this.index, qname, zone);
  }

  /** true when the object's held names changed. */
  private set(kind: SourceKind, key: string, claims: readonly Claim[]): boolean {
    const id = `${kind} ${key}`;
    const names = claims.filter(isHeld).map((c) => c.name);
    const old = this.objects.get(id);
    if (!old && names.length === 0) return false;
    if (old && old.length === names.length && old.every((n, i) => n === names[i])) return false;
    for (const name of old ?? []) {
      this.held.remove(name);
      this.changedNames?.add(name);
    }
    for (const name of names) {
      this.held.add(name);
      this.changedNames?.add(name);
    }
    if (names.length > 0) this.objects.set(id, names);
    else this.objects.delete(id);
    return true;
  }

  private bump(): void {
    this.generation++;
    this.changed();
  }
}
