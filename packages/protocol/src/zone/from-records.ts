import { typeNumber } from '../constants.js';
import type { DnsRecord } from '../message.js';
import { isAtOrBelow, normalizeName } from '../names.js';
import { recordKey } from '../xfr/diff.js';
import { HELD_TYPE, HeldNameSet } from './held-names.js';
import { OverlayMap } from './overlay-map.js';
import { type IndexLookup, RecordIndex } from './record-index.js';
import { type Claim, type ExtraRecord, extraRecord } from './records.js';

/** A record `indexFromRecords` did not index, with where it was and why. */
export interface SkippedRecord {
  /** Position in the input list. */
  readonly at: number;
  readonly name: string;
  readonly type: string;
  readonly reason: string;
}

export interface LoadedZone {
  readonly index: RecordIndex<'zone'>;
  /** The held names the transfer marked (`heldMarker`): they exist without data. */
  readonly held: HeldNameSet;
  /** The index's lookup with the held names applied: what the primary answers. */
  lookup(qname: string, zone: string): IndexLookup;
  /** The apex SOA/NS records (they build the `ZoneApex`, the index does not hold them). */
  readonly apex: readonly DnsRecord[];
  readonly skipped: readonly SkippedRecord[];
  /**
   * Every record of each owner name (normalized), in transfer order, indexed or not: what
   * `applyZoneDiffs` starts from, and what an IXFR's diffs are checked against
   * (`recordsAt`, the transfer client's `ZoneCopy.recordsAt`), so a copy keeps its records
   * once, not also by key.
   */
  readonly byName: ReadonlyMap<string, readonly DnsRecord[]>;
  /** The records held at `name` (normalized); none: an empty list. */
  recordsAt(name: string): readonly DnsRecord[];
}

/** The one kind of a loaded zone: every record has the same standing. */
const ZONE_KIND = 'zone';

/**
 * Builds a `RecordIndex` for `zone` from plain resource records (dns-packet's answer shape:
 * a zone transfer, a zone file's records). Each RRset becomes its own claim, so each keeps
 * its TTL (the smallest of its records); the index's rules then apply as to any source:
 * RFC 4592 wildcards, empty non-terminals, a CNAME beside addresses loses to them
 * (`chooseCname`). TXT character-strings are joined into one value, as the index stores
 * text, and split again at 255 bytes when answered. Not indexed (listed in `skipped`, or
 * `apex` for the apex SOA/NS): names outside the zone, classes other than IN, and types the
 * index does not serve (NS below the apex: delegation). A held-name marker (`HELD_TYPE`)
 * makes its name exist without data (`held`, applied by `lookup`).
 */
export function indexFromRecords(records: readonly DnsRecord[], zone: string): LoadedZone {
  const apexName = normalizeName(zone);
  const byName = new Map<string, DnsRecord[]>();
  const apex: DnsRecord[] = [];
  const skipped: SkippedRecord[] = [];
  const held = new HeldNameSet();
  for (let at = 0; at < records.length; at++) {
    const record = records[at];
    const name = normalizeName(record.name);
    const place = placeOf(record, name, apexName);
    const list = byName.get(name);
    if (list === undefined) byName.set(name, [record]);
    else list.push(record);
    if (place === 'apex') apex.push(record);
    else if (place === 'held') held.add(name);
    else if (place !== 'index') skipped.push({ at, name, type: record.type, reason: place.skip });
  }
  const index = new RecordIndex<'zone'>([ZONE_KIND]);
  const objects = new Map<string, Claim[]>();
  for (const [name, list] of byName) {
    // A list grown by push keeps room for 17 records; most names have one or two.
    if (list.length > 1) byName.set(name, list.slice());
    const claims = nameClaims(name, list, apexName);
    if (claims.length > 0) objects.set(name, claims);
  }
  index.replaceKind(ZONE_KIND, objects);
  // An OverlayMap: the next IXFR's copy shares it (`applyZoneDiffs`), a plain Map till then.
  return loaded(index, held, apex, skipped, new OverlayMap(byName));
}

/** An IXFR's diff sequences (RFC 1995), applied in order: what `applyZoneDiffs` takes. */
export interface RecordChanges {
  readonly deleted: readonly DnsRecord[];
  readonly added: readonly DnsRecord[];
}

/**
 * The zone `previous` becomes after `diffs` (already checked against the records it was
 * loaded from: the transfer client's `validateTransfer`), built from it in work proportional
 * to the names the diffs touch, not to the zone: the records by name, the index and the held
 * names are clones (`OverlayMap.clone`, `RecordIndex.clone`: the maps share a frozen base,
 * the per-name entries are shared and copied on change), and only the touched names get
 * new lists and claims. `previous` is never changed (a secondary answers from it
 * until the new one is swapped in). Answers exactly as `indexFromRecords` over the records
 * the diffs produce. A skipped record that came by an IXFR has `at` -1.
 */
export function applyZoneDiffs(
  previous: LoadedZone,
  diffs: readonly RecordChanges[],
  zone: string,
): LoadedZone {
  const apexName = normalizeName(zone);
  const byName =
    previous.byName instanceof OverlayMap
      ? (previous.byName.clone() as OverlayMap<string, readonly DnsRecord[]>)
      : new OverlayMap(new Map(previous.byName));
  const held = previous.held.clone();
  let apex = previous.apex;
  let skipped = previous.skipped;
  const touched = new Set<string>();
  /** The names whose list is already this zone's own copy (never the previous one's). */
  const copied = new Set<string>();
  const listOf = (name: string): DnsRecord[] => {
    let list = byName.get(name) as DnsRecord[] | undefined;
    if (list === undefined) list = [];
    else if (!copied.has(name)) list = [...list];
    copied.add(name);
    byName.set(name, list);
    return list;
  };
  for (const diff of diffs) {
    for (const record of diff.deleted) {
      const name = normalizeName(record.name);
      const place = placeOf(record, name, apexName);
      const key = recordKey(record);
      const stays = listOf(name).filter((r) => recordKey(r) !== key);
      byName.set(name, stays);
      if (place === 'apex') apex = apex.filter((r) => recordKey(r) !== key);
      else if (place === 'held') held.remove(name);
      else if (place === 'index') touched.add(name);
      else {
        const at = skipped.findIndex((s) => s.name === name && s.type === record.type);
        if (at >= 0) skipped = [...skipped.slice(0, at), ...skipped.slice(at + 1)];
      }
    }
    for (const record of diff.added) {
      const name = normalizeName(record.name);
      const place = placeOf(record, name, apexName);
      listOf(name).push(record);
      if (place === 'apex') apex = [...apex, record];
      else if (place === 'held') held.add(name);
      else if (place === 'index') touched.add(name);
      else skipped = [...skipped, { at: -1, name, type: record.type, reason: place.skip }];
    }
  }
  for (const name of copied) {
    const list = byName.get(name) ?? [];
    if (list.length === 0) byName.delete(name);
    else byName.set(name, list.slice());
  }
  const index = previous.index.clone();
  for (const name of touched) {
    index.replaceObject(ZONE_KIND, name, nameClaims(name, byName.get(name) ?? [], apexName));
  }
  return loaded(index, held, apex, skipped, byName);
}

function loaded(
  index: RecordIndex<'zone'>,
  held: HeldNameSet,
  apex: readonly DnsRecord[],
  skipped: readonly SkippedRecord[],
  byName: ReadonlyMap<string, readonly DnsRecord[]>,
): LoadedZone {
  const indexLookup = (qname: string, z: string) => index.lookup(qname, z);
  const lookup =
    held.size === 0
      ? indexLookup
      : (qname: string, z: string) => held.lookup(indexLookup, qname, z);
  const recordsAt = (name: string) => byName.get(name) ?? NO_RECORDS;
  return { index, held, lookup, apex, skipped, byName, recordsAt };
}

/** Where one record of a zone goes: the apex SOA/NS, a held name, the index, or skipped (why). */
function placeOf(
  record: DnsRecord,
  name: string,
  apexName: string,
): 'apex' | 'held' | 'index' | { skip: string } {
  const type = record.type;
  const rrClass = (record as { class?: string }).class ?? 'IN';
  if (rrClass !== 'IN') return { skip: `class ${rrClass}: only IN is served` };
  if (!isAtOrBelow(name, apexName)) return { skip: `outside the zone ${apexName}` };
  if (name === apexName && (type === 'SOA' || type === 'NS')) return 'apex';
  if (typeNumber(String(type)) === HELD_TYPE) return 'held';
  if (SERVED.has(type)) return 'index';
  return {
    skip:
      type === 'NS' ? 'NS below the apex (delegation) is not served' : `type ${type} is not served`,
  };
}

const NO_RECORDS: readonly DnsRecord[] = Object.freeze([]);

const SERVED = new Set(['A', 'AAAA', 'CNAME', 'TXT', 'SRV', 'MX', 'CAA', 'PTR']);

/**
 * The claims of one name's served records (`placeOf` 'index'; the name's others are not the
 * index's), one claim per RRset.
 */
function nameClaims(name: string, records: readonly DnsRecord[], apexName: string): Claim[] {
  // A short list searched by type, not a Map, and no closures: this runs for every name of
  // every transfer, and what it allocates beyond the claims kept is garbage.
  const claims: Claim[] = [];
  /** The type of each claim; a list only from the second type on (most names have one). */
  let firstType: string | null = null;
  let types: string[] | null = null;
  for (const record of records) {
    if (placeOf(record, name, apexName) !== 'index') continue;
    const type = record.type;
    const ttl = (record as { ttl?: number }).ttl ?? 0;
    let at = type === firstType ? 0 : types === null ? -1 : types.indexOf(type);
    if (at < 0) {
      at = claims.length;
      if (firstType === null) firstType = type;
      else {
        types ??= [firstType];
        types.push(type);
      }
      claims.push({ name, a: NO_VALUES, aaaa: NO_VALUES, txt: NO_VALUES, ttl });
    }
    const claim = claims[at];
    claim.ttl = Math.min(claim.ttl, ttl);
    const data = (record as { data?: unknown }).data;
    switch (type) {
      case 'A':
        claim.a = withValue(claim.a, String(data));
        break;
      case 'AAAA':
        claim.aaaa = withValue(claim.aaaa, String(data).toLowerCase());
        break;
      case 'CNAME':
        claim.cname = normalizeName(String(data));
        break;
      case 'TXT':
        claim.txt = withValue(claim.txt, txtValue(data));
        break;
      default: {
        const extra = extraOf(type, data, ttl);
        if (extra !== null) {
          claim.extra ??= [];
          claim.extra.push(extra);
        }
      }
    }
  }
  for (const claim of claims) {
    // Kept as long as the zone is: an array grown by push holds room for 17 values (~150
    // bytes); a single value is a literal of one slot already.
    if (claim.a.length > 1) claim.a = claim.a.slice();
    if (claim.aaaa.length > 1) claim.aaaa = claim.aaaa.slice();
    if (claim.txt.length > 1) claim.txt = claim.txt.slice();
    if (claim.extra !== undefined) claim.extra = claim.extra.slice();
  }
  return claims;
}

/** `values` with `value` added: the shared empty list becomes a one-slot literal. */
function withValue(values: string[], value: string): string[] {
  if (values === NO_VALUES) return [value];
  values.push(value);
  return values;
}

/** The extra record (SRV, MX, CAA, PTR) of one served record; null for the other types. */
function extraOf(type: string, data: unknown, ttl: number): ExtraRecord | null {
  switch (type) {
    case 'SRV': {
      const d = data as { priority: number; weight?: number; port: number; target: string };
      const target = normalizeName(d.target);
      const { priority, weight = 0, port } = d;
      return extraRecord({ type, data: { priority, weight, port, target } }, ttl);
    }
    case 'MX': {
      const d = data as { preference?: number; exchange: string };
      const exchange = normalizeName(d.exchange);
      return extraRecord({ type, data: { preference: d.preference ?? 0, exchange } }, ttl);
    }
    case 'CAA': {
      const d = data as { flags?: number; tag: string; value: string; issuerCritical?: boolean };
      const flags = d.flags ?? (d.issuerCritical ? 128 : 0);
      return extraRecord({ type, data: { flags, tag: d.tag, value: d.value } }, ttl);
    }
    case 'PTR':
      return extraRecord({ type, data: normalizeName(String(data)) }, ttl);
    default:
      return null;
  }
}

/** Claims never change once built: every empty value list can be one array. */
const NO_VALUES = Object.freeze([]) as unknown as string[];

/** dns-packet gives TXT data as a string, a Buffer, or a list of them (one per string). */
function txtValue(data: unknown): string {
  const list = Array.isArray(data) ? data : [data];
  return list
    .map((s) => (typeof s === 'string' ? s : Buffer.from(s as Uint8Array).toString('utf8')))
    .join('');
}
