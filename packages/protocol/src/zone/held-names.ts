import type { DnsRecord } from '../message.js';
import { parentName } from '../names.js';
import { OverlayMap } from './overlay-map.js';
import type { IndexLookup } from './record-index.js';

/**
 * The record type that carries a held name in a zone transfer: private use (RFC 6895 3.1,
 * 65280-65534), no RDATA. A held name exists and has no data (its every claimant is held
 * back for health: NODATA); a transfer carries records, and "exists with nothing" has no
 * record to carry, so without a marker a secondary would answer NXDOMAIN for it (and deny
 * every name below it, RFC 8020). Queries never get the marker: a query for this type at a
 * held name is NODATA like any other type.
 */
export const HELD_TYPE = 65432;

/** dns-packet's spelling of the marker's type, as its decoder gives it and its encoder takes it. */
export const HELD_TYPE_NAME = `UNKNOWN_${HELD_TYPE}`;

/** The marker record of one held name (TTL 0: nothing is ever answered from it). */
export function heldMarker(name: string): DnsRecord {
  // dns-packet encodes a type it does not know as `UNKNOWN_<n>` with raw RDATA (RFC 3597).
  return {
    name,
    type: HELD_TYPE_NAME,
    class: 'IN',
    ttl: 0,
    data: Buffer.alloc(0),
  } as unknown as DnsRecord;
}

const EMPTY: IndexLookup = { type: 'empty' };

/**
 * A set of held names (each counted: several objects may hold one name) and what they make
 * exist: the name itself, every name above it (empty non-terminals), and the names a held
 * wildcard `*.x` covers. `lookup` turns an index's NXDOMAIN into NODATA where a held name
 * makes the query name exist, with RFC 4592's closest-encloser rule for held wildcards. The
 * gateway keeps one beside its index (names held for health); a secondary builds one from
 * the transfer's markers.
 */
export class HeldNameSet {
  // OverlayMaps: a secondary's clone per IXFR costs the names changed, not every held name.
  /** Each held name -> how many times it is held. */
  #names = new OverlayMap<string, number>();
  /** Each held name and every ancestor of it -> how many held names make it exist. */
  #exists = new OverlayMap<string, number>();
  /** `x` for each held `*.x` -> how many. */
  #wildcards = new OverlayMap<string, number>();

  /** Distinct held names. */
  get size(): number {
    return this.#names.size;
  }

  /** Every distinct held name (wildcards as their `*.` owner). */
  names(): IterableIterator<string> {
    return this.#names.keys();
  }

  /**
   * An independent copy (a zone secondary changes the copy, never the set it answers from);
   * costs the changes since the maps' last fold (`OverlayMap.clone`).
   */
  clone(): HeldNameSet {
    const copy = new HeldNameSet();
    copy.#names = this.#names.clone();
    copy.#exists = this.#exists.clone();
    copy.#wildcards = this.#wildcards.clone();
    return copy;
  }

  /** Whether `name` itself is held (not merely made to exist by a held name below it). */
  has(name: string): boolean {
    return this.#names.has(name);
  }

  add(name: string): void {
    this.#count(name, 1);
  }

  remove(name: string): void {
    if (this.#names.has(name)) this.#count(name, -1);
  }

  /** `index`'s answer for `qname`, NXDOMAIN turned NODATA where a held name makes it exist. */
  lookup(
    index: (qname: string, zone: string) => IndexLookup,
    qname: string,
    zone: string,
  ): IndexLookup {
    const result = index(qname, zone);
    if (result.type !== 'nxdomain' || this.#names.size === 0) return result;
    if (this.#exists.has(qname)) return EMPTY;
    if (this.#wildcards.size === 0) return result;
    for (let n = qname; n !== zone && n !== ''; ) {
      n = parentName(n);
      if (this.#wildcards.has(n)) return EMPTY;
      // The closest encloser that exists ends the wildcard search (RFC 4592).
      if (this.#exists.has(n) || index(n, zone).type !== 'nxdomain') break;
    }
    return result;
  }

  #count(name: string, delta: number): void {
    add(this.#names, name, delta);
    if (name.startsWith('*.')) add(this.#wildcards, name.slice(2), delta);
    for (let n = name; ; n = parentName(n)) {
      add(this.#exists, n, delta);
      if (n === '') break;
    }
  }
}

function add(m: OverlayMap<string, number>, key: string, delta: number): void {
  const v = (m.get(key) ?? 0) + delta;
  if (v > 0) m.set(key, v);
  else m.delete(key);
}
