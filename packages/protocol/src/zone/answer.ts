import { CLASS, QTYPE, RCODE } from '../constants.js';
import type { DnsRecord } from '../message.js';
import type { ResponseParts } from '../response.js';
import type { ScannedQuery } from '../scan.js';
import { type RuleZone, type SharedRules, sharedRules } from '../shared-rules.js';
import type { IndexLookup } from './record-index.js';
import type { ExtraType, NameRecords } from './records.js';

/** What the answer needs to know about the served zones and their index, without any I/O. */
export interface AnswerSource {
  /** The most specific served zone at or above `qname`, or undefined. */
  zoneOf(qname: string): RuleZone | undefined;
  lookup(qname: string, zone: string): IndexLookup;
  /** False until the index is complete (the gateway: every kind's first sync): SERVFAIL until then. */
  ready(): boolean;
}

/**
 * The decision for one query: the response parts, the zone it fell in (for metrics; `null`
 * when refused before a zone was known), and whether the bytes built from it may be
 * reused for the same (qname, qtype) until the index changes.
 */
export interface Answer {
  readonly parts: ResponseParts;
  readonly zone: string | null;
  readonly cacheable: boolean;
}

/** A lookup that found the name (records, or an empty non-terminal). */
export type IndexFound = Exclude<IndexLookup, { type: 'nxdomain' }>;

/**
 * Answers one scanned query from a zone index per the behaviour table: the shared rules
 * (`sharedRules`, with the index as local data, so a name it lacks is NXDOMAIN before ANY or
 * the apex), then the records the index holds (NODATA when none of the type). Pure: the same query against the same index state
 * gives the same parts.
 */
export function answerQuery(
  query: ScannedQuery,
  source: AnswerSource,
  rules: SharedRules<IndexFound> = indexRules(source),
): Answer {
  const decision = sharedRules(query, rules);
  if (decision.kind === 'error') {
    return {
      parts: { rcode: decision.rcode },
      zone: decision.zone?.name ?? null,
      cacheable: false,
    };
  }
  const zone = decision.zone;
  // Only class IN answers are kept for reuse (their key holds no class); an odd query name
  // is never kept either, so a flood of them cannot crowd that store.
  const cacheable =
    query.qclass === CLASS.IN && !(decision.kind === 'answer' && decision.reason === 'name');
  if (decision.kind === 'answer') return { parts: decision.parts, zone: zone.name, cacheable };

  const { qname, qtype } = query;
  const found = decision.found;
  // A CNAME cannot sit beside the apex SOA/NS (RFC 1034 3.6.2): at the apex it is ignored.
  const records =
    found !== null && found.type === 'records' && !(qname === zone.name && found.records.cname)
      ? found.records
      : null;
  const answers = records ? recordsFor(qname, qtype, records) : null;
  if (answers === null) {
    return {
      parts: { rcode: RCODE.NOERROR, aa: true, authorities: [zone.negativeSoa] },
      zone: zone.name,
      cacheable,
    };
  }
  const additionals = targetAddresses(answers, source);
  return {
    parts:
      additionals.length === 0
        ? { rcode: RCODE.NOERROR, aa: true, answers }
        : { rcode: RCODE.NOERROR, aa: true, answers, additionals },
    zone: zone.name,
    cacheable,
  };
}

/**
 * The shared rules over an index: the index is the local data, transfers are refused.
 * Built once per handler (no closures per query).
 */
export function indexRules(source: AnswerSource): SharedRules<IndexFound> {
  return {
    zoneOf: (qname) => source.zoneOf(qname),
    refuseTransfers: true,
    local: {
      ready: () => source.ready(),
      find: (qname, zone) => {
        const found = source.lookup(qname, zone);
        return found.type === 'nxdomain' ? null : found;
      },
    },
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
    const zone = source.zoneOf(target);
    if (zone === undefined) continue;
    const found = source.lookup(target, zone.name);
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
  257: 'CAA', // not in QTYPE: answered only from index data
  [QTYPE.PTR]: 'PTR',
};

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
