import {
  type DnsRecord,
  diffKeyed,
  HELD_TYPE_NAME,
  keyedRecords,
  recordKey,
  type ZoneApex,
  type ZoneDiff,
} from '@mdns/protocol';

/**
 * A zone's records as a name-by-name primary reads them (the gateway): every name's records
 * now, and which names changed since it was last asked, so a commit costs the names a change
 * touched, not the zone.
 */
export interface ZoneNames {
  /**
   * Every owner name that may have records, in the order a full listing has them (a
   * baseline reads them all). A name may come twice; only its first place counts.
   */
  all(): Iterable<string>;
  /**
   * The names whose records may have changed since the last call (of every zone: each zone
   * keeps those at or below its apex). Each call starts a new set.
   */
  changed(): Iterable<string>;
  /** The records no name's change moves (the apex NS set and glue), listed first. */
  fixed(apex: ZoneApex): DnsRecord[];
  /** The records `name` has in `apex`'s zone now; none when the name is not this zone's. */
  records(apex: ZoneApex, name: string): DnsRecord[];
}

const NONE: readonly DnsRecord[] = Object.freeze([]);

/**
 * One zone's records kept per owner name at the committed serial: the "before" of the next
 * commit's diff, read name by name, and the whole list for an AXFR, built when one asks and
 * kept until the next change. Names with data come before the held-name markers, each group
 * in the order its names first had records, as `zoneRecords` lists them.
 */
export class RecordsByName {
  readonly #data = new Map<string, readonly DnsRecord[]>();
  readonly #markers = new Map<string, readonly DnsRecord[]>();
  readonly #fixed: () => DnsRecord[];
  #list: DnsRecord[] | null = null;

  constructor(fixed: () => DnsRecord[]) {
    this.#fixed = fixed;
  }

  /** Forgets every name, then takes each of `names` with `recordsOf` (a baseline). */
  reset(names: Iterable<string>, recordsOf: (name: string) => DnsRecord[]): void {
    this.#data.clear();
    this.#markers.clear();
    this.#list = null;
    for (const name of names) {
      if (this.#data.has(name) || this.#markers.has(name)) continue;
      this.#put(name, recordsOf(name));
    }
  }

  /**
   * Takes each of `names` with its records now (`recordsOf`); returns what changed: per name,
   * the kept records not in the new ones (deleted) and the new ones not kept (added).
   */
  update(names: Iterable<string>, recordsOf: (name: string) => DnsRecord[]): ZoneDiff {
    const deleted: DnsRecord[] = [];
    const added: DnsRecord[] = [];
    for (const name of names) {
      const before = this.#data.get(name) ?? this.#markers.get(name) ?? NONE;
      const after = recordsOf(name);
      if (sameRecords(before, after)) continue;
      const { diff } = diffKeyed(keyedRecords(before), after);
      if (diff.deleted.length === 0 && diff.added.length === 0) continue;
      for (const r of diff.deleted) deleted.push(r);
      for (const r of diff.added) added.push(r);
      this.#put(name, after);
      this.#list = null;
    }
    return { deleted, added };
  }

  /** Every record (SOA excluded): the fixed ones, the names with data, the markers. */
  list(): DnsRecord[] {
    if (this.#list !== null) return this.#list;
    const out = this.#fixed();
    for (const records of this.#data.values()) for (const r of records) out.push(r);
    for (const records of this.#markers.values()) for (const r of records) out.push(r);
    this.#list = out;
    return out;
  }

  /** A name that keeps its group keeps its place (`Map.set`), as in the index. */
  #put(name: string, records: readonly DnsRecord[]): void {
    if (records.length === 0) {
      this.#data.delete(name);
      this.#markers.delete(name);
    } else if (records.length === 1 && records[0].type === (HELD_TYPE_NAME as string)) {
      this.#data.delete(name);
      this.#markers.set(name, records);
    } else {
      this.#markers.delete(name);
      this.#data.set(name, records);
    }
  }
}

/** The same records in the same order: no diff to key (most names a relist touches). */
function sameRecords(x: readonly DnsRecord[], y: readonly DnsRecord[]): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (recordKey(x[i]) !== recordKey(y[i])) return false;
  return true;
}
