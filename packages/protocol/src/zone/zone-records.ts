import type { ZoneApex } from '../apex.js';
import { QTYPE } from '../constants.js';
import type { DnsRecord } from '../message.js';
import { isAtOrBelow } from '../names.js';
import { recordsFor } from './answer.js';
import { heldMarker } from './held-names.js';
import type { NameRecords } from './records.js';

/**
 * What the transfer module reads from the record index: every name with its records, and
 * the held names (names that exist without data: NODATA), if the source has any.
 */
export interface ZoneSource {
  namesWithRecords(): Iterable<[string, NameRecords]>;
  heldNames?(): Iterable<string>;
}

/** What `ownedNameRecords` reads for one name: its records and whether it is held. */
export interface NameSource {
  recordsAt(name: string): NameRecords | null;
  isHeld?(name: string): boolean;
}

/**
 * Every record of `apex.zone` except the SOA: the apex NS set, the glue of in-zone
 * nameservers (`apexRecords`), then each name of the index that belongs to this zone
 * (`owns`: not to a more specific zone we also serve), wildcards as their `*.` owner, and a
 * marker (`heldMarker`) at each held name that has no record of its own, so a secondary
 * answers it NODATA as we do. The one accessor between the index and zone transfers; a
 * primary that commits name by name reads the same through `ownedNameRecords`.
 */
export function zoneRecords(
  index: ZoneSource,
  apex: ZoneApex,
  owns: (name: string) => boolean,
): DnsRecord[] {
  const out = apexRecords(apex);
  const withRecords = new Set<string>();
  for (const [name, records] of index.namesWithRecords()) {
    const rrs = indexedRecords(apex, owns, name, records);
    if (rrs.length > 0) withRecords.add(name);
    out.push(...rrs);
  }
  for (const name of index.heldNames?.() ?? []) {
    // A name with records needs no marker.
    if (!withRecords.has(name) && marks(apex, owns, name)) out.push(heldMarker(name));
  }
  return out;
}

/** The records of `apex.zone` no source changes: the apex NS set and the in-zone glue. */
export function apexRecords(apex: ZoneApex): DnsRecord[] {
  const zone = apex.zone;
  const out: DnsRecord[] = apex.ns.map(
    (ns) => ({ name: zone, type: 'NS', class: 'IN', ttl: apex.nsTtl, data: ns }) as DnsRecord,
  );
  for (const [ns, glue] of apex.glue) {
    if (!isAtOrBelow(ns, zone)) continue;
    for (const a of glue.a)
      out.push({ name: ns, type: 'A', class: 'IN', ttl: apex.nsTtl, data: a });
    for (const a of glue.aaaa) {
      out.push({ name: ns, type: 'AAAA', class: 'IN', ttl: apex.nsTtl, data: a });
    }
  }
  return out;
}

/**
 * What `zoneRecords` lists for one owner name beyond `apexRecords`: its records, else its
 * held marker, else nothing (also when the name is not this zone's).
 */
export function ownedNameRecords(
  index: NameSource,
  apex: ZoneApex,
  owns: (name: string) => boolean,
  name: string,
): DnsRecord[] {
  const records = index.recordsAt(name);
  if (records !== null) {
    const rrs = indexedRecords(apex, owns, name, records);
    if (rrs.length > 0) return rrs;
  }
  return index.isHeld?.(name) && marks(apex, owns, name) ? [heldMarker(name)] : [];
}

function indexedRecords(
  apex: ZoneApex,
  owns: (name: string) => boolean,
  name: string,
  records: NameRecords,
): DnsRecord[] {
  if (!isAtOrBelow(name, apex.zone) || !owns(name)) return [];
  // As the answer path: a nameserver's addresses are its configured glue (no source can
  // override them), and a CNAME cannot sit beside the apex SOA/NS or beside glue.
  const glue = apex.glue.has(name);
  return nameRecords(name, records, { cname: name !== apex.zone && !glue, addresses: !glue });
}

/** A held name of this zone gets a marker; the apex and glue names exist anyway. */
function marks(apex: ZoneApex, owns: (name: string) => boolean, name: string): boolean {
  if (name === apex.zone || apex.glue.has(name)) return false;
  return isAtOrBelow(name, apex.zone) && owns(name);
}

function nameRecords(
  name: string,
  records: NameRecords,
  allowed: { cname: boolean; addresses: boolean },
): DnsRecord[] {
  if (records.cname !== null) {
    return allowed.cname ? (recordsFor(name, QTYPE.CNAME, records) ?? []) : [];
  }
  const out: DnsRecord[] = [];
  const types = allowed.addresses ? [QTYPE.A, QTYPE.AAAA, QTYPE.TXT] : [QTYPE.TXT];
  for (const qtype of types) {
    const rrset = recordsFor(name, qtype, records);
    if (rrset) out.push(...rrset);
  }
  for (const r of records.extra) {
    out.push({ name, type: r.type, class: 'IN', ttl: r.ttl, data: r.data } as DnsRecord);
  }
  return out;
}
