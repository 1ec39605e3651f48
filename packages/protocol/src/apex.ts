import { QTYPE } from './constants.js';
import type { DnsRecord } from './message.js';

export interface SoaFields {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

/** The data a server holds for a zone's apex. Names normalized. */
export interface ZoneApex {
  zone: string;
  soa: SoaFields;
  soaTtl: number;
  ns: string[];
  nsTtl: number;
  /** Addresses of nameservers inside the zone, sent as glue with NS answers. */
  glue: Map<string, { a: string[]; aaaa: string[] }>;
}

/** Records for an apex answer; spread into `buildResponse` parts with `rcode` and `aa`. */
export interface ApexRecords {
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

/** The zone's SOA for the authority section of NXDOMAIN/NODATA: TTL min(SOA TTL, minimum) (RFC 2308 3). */
export function negativeSoa(apex: ZoneApex): DnsRecord {
  return {
    name: apex.zone,
    type: 'SOA',
    class: 'IN',
    ttl: Math.min(apex.soaTtl, apex.soa.minimum),
    data: { ...apex.soa },
  };
}

/** SOA or NS at the apex, NS with glue A/AAAA as additional data; `null` for other types. */
export function apexAnswer(apex: ZoneApex, qtype: number): ApexRecords | null {
  if (qtype === QTYPE.SOA) {
    return {
      answers: [
        { name: apex.zone, type: 'SOA', class: 'IN', ttl: apex.soaTtl, data: { ...apex.soa } },
      ],
      authorities: [],
      additionals: [],
    };
  }
  if (qtype !== QTYPE.NS) return null;
  const answers: DnsRecord[] = apex.ns.map((ns) => ({
    name: apex.zone,
    type: 'NS',
    class: 'IN',
    ttl: apex.nsTtl,
    data: ns,
  }));
  // A records of every nameserver first, then AAAA: keeps each RRset contiguous.
  const additionals: DnsRecord[] = [];
  for (const family of ['a', 'aaaa'] as const) {
    for (const ns of apex.ns) {
      const addresses = apex.glue.get(ns)?.[family] ?? [];
      for (const address of addresses) {
        additionals.push({
          name: ns,
          type: family === 'a' ? 'A' : 'AAAA',
          class: 'IN',
          ttl: apex.nsTtl,
          data: address,
        });
      }
    }
  }
  return { answers, authorities: [], additionals };
}

/**
 * A/AAAA of a nameserver name we publish at the apex (its glue from config), so the name
 * resolves like any other even though no data source claims it. `null` when `qname` is
 * not such a name or `qtype` is neither A nor AAAA; an empty list means NODATA (the
 * nameserver has addresses of the other family only).
 */
export function glueAnswer(apex: ZoneApex, qname: string, qtype: number): DnsRecord[] | null {
  if (qtype !== QTYPE.A && qtype !== QTYPE.AAAA) return null;
  const glue = apex.glue.get(qname);
  if (glue === undefined) return null;
  const type = qtype === QTYPE.A ? 'A' : 'AAAA';
  return (qtype === QTYPE.A ? glue.a : glue.aaaa).map((data) => ({
    name: qname,
    type,
    class: 'IN',
    ttl: apex.nsTtl,
    data,
  }));
}

/** RFC 8482 answer to QTYPE ANY: one synthesized HINFO "RFC8482" "". */
export function anyResponseRecord(qname: string, ttl = 3600): DnsRecord {
  return { name: qname, type: 'HINFO', class: 'IN', ttl, data: { cpu: 'RFC8482', os: '' } };
}
