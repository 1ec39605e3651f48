import { typeNumber } from '../constants.js';
import type { DnsRecord } from '../message.js';
import { isAtOrBelow, normalizeName } from '../names.js';
import { HELD_TYPE, HeldNameSet } from './held-names.js';
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
  const byName = new Map<string, Map<string, Claim>>();
  const apex: DnsRecord[] = [];
  const skipped: SkippedRecord[] = [];
  const held = new HeldNameSet();
  for (let at = 0; at < records.length; at++) {
    const record = records[at];
    const name = normalizeName(record.name);
    const type = record.type;
    const skip = (reason: string): void => {
      skipped.push({ at, name, type, reason });
    };
    const rrClass = (record as { class?: string }).class ?? 'IN';
    if (rrClass !== 'IN') {
      skip(`class ${rrClass}: only IN is served`);
      continue;
    }
    if (!isAtOrBelow(name, apexName)) {
      skip(`outside the zone ${apexName}`);
      continue;
    }
    if (name === apexName && (type === 'SOA' || type === 'NS')) {
      apex.push(record);
      continue;
    }
    if (typeNumber(String(type)) === HELD_TYPE) {
      held.add(name);
      continue;
    }
    const ttl = (record as { ttl?: number }).ttl ?? 0;
    const claims = byName.get(name) ?? new Map<string, Claim>();
    byName.set(name, claims);
    const rrset = (key: string): Claim => {
      let claim = claims.get(key);
      if (claim === undefined) {
        claim = { name, a: [], aaaa: [], txt: [], ttl };
        claims.set(key, claim);
      }
      claim.ttl = Math.min(claim.ttl, ttl);
      return claim;
    };
    const data = (record as { data?: unknown }).data;
    const extra = (e: ExtraRecord) => {
      const claim = rrset(type);
      claim.extra ??= [];
      claim.extra.push(e);
    };
    switch (type) {
      case 'A':
        rrset(type).a.push(String(data));
        break;
      case 'AAAA':
        rrset(type).aaaa.push(String(data).toLowerCase());
        break;
      case 'CNAME':
        rrset(type).cname = normalizeName(String(data));
        break;
      case 'TXT':
        rrset(type).txt.push(txtValue(data));
        break;
      case 'SRV': {
        const d = data as { priority: number; weight?: number; port: number; target: string };
        const target = normalizeName(d.target);
        const { priority, weight = 0, port } = d;
        extra(extraRecord({ type, data: { priority, weight, port, target } }, ttl));
        break;
      }
      case 'MX': {
        const d = data as { preference?: number; exchange: string };
        const exchange = normalizeName(d.exchange);
        extra(extraRecord({ type, data: { preference: d.preference ?? 0, exchange } }, ttl));
        break;
      }
      case 'CAA': {
        const d = data as { flags?: number; tag: string; value: string; issuerCritical?: boolean };
        const flags = d.flags ?? (d.issuerCritical ? 128 : 0);
        extra(extraRecord({ type, data: { flags, tag: d.tag, value: d.value } }, ttl));
        break;
      }
      case 'PTR':
        extra(extraRecord({ type, data: normalizeName(String(data)) }, ttl));
        break;
      default:
        skip(
          type === 'NS'
            ? 'NS below the apex (delegation) is not served'
            : `type ${type} is not served`,
        );
    }
  }
  const index = new RecordIndex<'zone'>([ZONE_KIND]);
  const objects = new Map<string, Claim[]>();
  for (const [name, claims] of byName) objects.set(name, [...claims.values()]);
  index.replaceKind(ZONE_KIND, objects);
  const indexLookup = (qname: string, z: string) => index.lookup(qname, z);
  const lookup =
    held.size === 0
      ? indexLookup
      : (qname: string, z: string) => held.lookup(indexLookup, qname, z);
  return { index, held, lookup, apex, skipped };
}

/** dns-packet gives TXT data as a string, a Buffer, or a list of them (one per string). */
function txtValue(data: unknown): string {
  const list = Array.isArray(data) ? data : [data];
  return list
    .map((s) => (typeof s === 'string' ? s : Buffer.from(s as Uint8Array).toString('utf8')))
    .join('');
}
