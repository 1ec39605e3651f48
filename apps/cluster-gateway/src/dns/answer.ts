import {
  anyResponseRecord,
  apexAnswer,
  CLASS,
  type DnsRecord,
  glueAnswer,
  negativeSoa,
  OPCODE,
  QTYPE,
  RCODE,
  type ResponseParts,
  type ScannedQuery,
  validateQueryName,
  type ZoneApex,
} from '@mdns/protocol';
import type { NameRecords } from '../index/name-records.js';
import type { IndexLookup } from '../index/record-index.js';
import type { ExtraType } from '../sources/types.js';

/** What the answer needs to know about the served zones and the index, without any I/O. */
export interface AnswerSource {
  /** The most specific served zone at or above `qname`, or undefined. */
  matchZone(qname: string): string | undefined;
  apex(zone: string): ZoneApex;
  lookup(qname: string, zone: string): IndexLookup;
  /** False until every enabled kind finished its first sync: answers are SERVFAIL until then. */
  ready(): boolean;
}

/**
 * The decision for one query: the response parts, the zone it fell in (for metrics; `null`
 * when refused for being outside every zone), and whether the bytes built from it may be
 * reused for the same (qname, qtype) until the index changes.
 */
export interface Answer {
  readonly parts: ResponseParts;
  readonly zone: string | null;
  readonly cacheable: boolean;
}

const error = (rcode: number, zone: string | null = null): Answer => ({
  parts: { rcode },
  zone,
  cacheable: false,
});

/**
 * Answers one scanned query per the behaviour table (shared rules + cluster-gateway rows).
 * Pure: the same query against the same index state gives the same parts.
 * Checks run in the table's order: opcode, question count, class, zone, transfer, name, readiness.
 */
export function answerQuery(query: ScannedQuery, source: AnswerSource): Answer {
  if (query.opcode !== OPCODE.QUERY) return error(RCODE.NOTIMP);
  if (query.qdcount !== 1) return error(RCODE.FORMERR);
  const { qname, qtype, qclass } = query;
  if (qclass !== CLASS.IN && !(qclass === CLASS.ANY && qtype === QTYPE.SOA)) {
    return error(RCODE.REFUSED);
  }
  const zone = source.matchZone(qname);
  if (zone === undefined) return error(RCODE.REFUSED);
  if (qtype === QTYPE.AXFR || qtype === QTYPE.IXFR) return error(RCODE.REFUSED, zone);
  // A name no object can claim (odd bytes, a dot inside a label): NXDOMAIN without an index
  // lookup, wildcards included, and not kept as a reused answer (cannot crowd that store).
  if (validateQueryName(qname) !== null) {
    return { parts: negative(RCODE.NXDOMAIN, source.apex(zone)), zone, cacheable: false };
  }
  // The nameserver names the apex NS answer publishes resolve from their configured glue,
  // like at the authority (and Knot): no object claims them, and none may override them.
  const glue = glueAnswer(source.apex(zone), qname, qtype);
  if (glue !== null) {
    return {
      parts:
        glue.length > 0
          ? { rcode: RCODE.NOERROR, aa: true, answers: glue }
          : negative(RCODE.NOERROR, source.apex(zone)),
      zone,
      cacheable: qclass === CLASS.IN,
    };
  }
  if (!source.ready()) return error(RCODE.SERVFAIL, zone);

  const apex = source.apex(zone);
  const found = source.lookup(qname, zone);
  const cacheable = qclass === CLASS.IN;

  if (found.type === 'nxdomain') {
    return { parts: negative(RCODE.NXDOMAIN, apex), zone, cacheable };
  }
  if (qtype === QTYPE.ANY) {
    return {
      parts: { rcode: RCODE.NOERROR, aa: true, answers: [anyResponseRecord(qname)] },
      zone,
      cacheable,
    };
  }
  if (qname === zone) {
    const local = apexAnswer(apex, qtype);
    if (local) return { parts: { rcode: RCODE.NOERROR, aa: true, ...local }, zone, cacheable };
  }
  // A CNAME cannot sit beside the apex SOA/NS (RFC 1034 3.6.2): at the apex it is ignored.
  const records =
    found.type === 'records' && !(qname === zone && found.records.cname) ? found.records : null;
  const answers = records ? recordsFor(qname, qtype, records) : null;
  if (answers === null) return { parts: negative(RCODE.NOERROR, apex), zone, cacheable };
  const additionals = targetAddresses(answers, source);
  return {
    parts:
      additionals.length === 0
        ? { rcode: RCODE.NOERROR, aa: true, answers }
        : { rcode: RCODE.NOERROR, aa: true, answers, additionals },
    zone,
    cacheable,
  };
}

/**
 * The A/AAAA of SRV targets and MX exchanges that are names in a served zone with
 * addresses here (RFC 2782, RFC 1035 3.3.9 additional section processing), so a client
 * needs no second query. Targets elsewhere, or with a CNAME, are left to the client.
 */
export function targetAddresses(answers: readonly DnsRecord[], source: AnswerSource): DnsRecord[] {
  const out: DnsRecord[] = [];
  const seen = new Set<string>();
  for (const answer of answers) {
    const target =
      answer.type === 'SRV'
        ? (answer.data as { target: string }).target
        : answer.type === 'MX'
          ? (answer.data as { exchange: string }).exchange
          : null;
    if (target === null || seen.has(target)) continue;
    seen.add(target);
    const zone = source.matchZone(target);
    if (zone === undefined) continue;
    const found = source.lookup(target, zone);
    if (found.type !== 'records' || found.records.cname !== null) continue;
    const r = found.records;
    for (const a of r.a) out.push({ name: target, type: 'A', class: 'IN', ttl: r.aTtl, data: a });
    for (const a of r.aaaa) {
      out.push({ name: target, type: 'AAAA', class: 'IN', ttl: r.aaaaTtl, data: a });
    }
  }
  return out;
}

const QTYPE_NAMES: Record<number, ExtraType> = {
  [QTYPE.SRV]: 'SRV',
  [QTYPE.MX]: 'MX',
  257: 'CAA', // not in QTYPE: answered only from DNSEndpoint data
  [QTYPE.PTR]: 'PTR',
};

function negative(rcode: number, apex: ZoneApex): ResponseParts {
  return { rcode, aa: true, authorities: [negativeSoa(apex)] };
}

/**
 * The RRset of `qtype` at a name with `records`, owned by the query name (so a wildcard's
 * synthesized answer carries the asked name, RFC 4592 3.3.1); `null` means NODATA.
 * A name holding a CNAME answers it for every type but CNAME's own (RFC 1034 3.6.2). The
 * target is not chased: it is a load balancer's name outside our data, resolved by the client.
 */
export function recordsFor(qname: string, qtype: number, records: NameRecords): DnsRecord[] | null {
  if (records.cname !== null) {
    return [{ name: qname, type: 'CNAME', class: 'IN', ttl: records.ttl, data: records.cname }];
  }
  let list: readonly string[];
  let type: 'A' | 'AAAA' | 'TXT';
  let ttl: number;
  if (qtype === QTYPE.A) {
    list = records.a;
    type = 'A';
    ttl = records.aTtl;
  } else if (qtype === QTYPE.AAAA) {
    list = records.aaaa;
    type = 'AAAA';
    ttl = records.aaaaTtl;
  } else if (qtype === QTYPE.TXT) {
    list = records.txt;
    type = 'TXT';
    ttl = records.txtTtl;
  } else {
    const type = QTYPE_NAMES[qtype];
    if (type === undefined) return null;
    const rrset = records.extra.filter((r) => r.type === type);
    if (rrset.length === 0) return null;
    return rrset.map(
      (r) => ({ name: qname, type: r.type, class: 'IN', ttl: r.ttl, data: r.data }) as DnsRecord,
    );
  }
  if (list.length === 0) return null;
  return list.map((value) => ({
    name: qname,
    type,
    class: 'IN',
    ttl,
    data: type === 'TXT' ? characterStrings(value) : value,
  })) as DnsRecord[];
}

/**
 * A TXT value is one or more character-strings of at most 255 BYTES each (RFC 1035 3.3),
 * so a longer value is split by its UTF-8 bytes, never inside a character: splitting by
 * UTF-16 units put up to 510 bytes into one string and the encoder threw on every query.
 */
export function characterStrings(text: string): string[] {
  // Fast path: 255 characters can be at most 255 bytes only when each is one byte.
  if (text.length <= 85 || (text.length <= 255 && Buffer.byteLength(text) <= 255)) return [text];
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= 255) return [text];
  const parts: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(start + 255, bytes.length);
    // Back off to the first byte of a character: UTF-8 continuation bytes are 10xxxxxx.
    if (end < bytes.length) while ((bytes[end] & 0xc0) === 0x80) end--;
    parts.push(bytes.toString('utf8', start, end));
    start = end;
  }
  return parts;
}
