import {
  type DnsRecord,
  isAtOrBelow,
  normalizeName,
  QTYPE,
  RCODE,
  rcodeName,
  typeNumber,
} from '@mdns/protocol';

/**
 * What one upstream's reply means for the merge (spec: fanout-authority, "Each upstream
 * reply is classified"). FAILED covers both bad rcodes and no reply at all.
 */
export type OutcomeClass = 'POSITIVE' | 'NODATA' | 'NXDOMAIN' | 'FAILED';

export interface Classification {
  class: OutcomeClass;
  /** The upstream's rcode, or null when there was no usable reply (timeout, socket error). */
  rcode: number | null;
  /** POSITIVE only: the answer records for the name (the CNAME chain from qname on). */
  records: DnsRecord[];
  /** Why, for logs and `explain`: 'rcode SERVFAIL', 'timeout after 50 ms', ... */
  reason: string;
}

/** The parts of a decoded reply classification looks at. */
export interface ReplyView {
  rcode: number;
  answers: readonly DnsRecord[];
}

// A CNAME chain longer than this inside one reply is a loop or an abuse; we stop following
// and keep what we have (the records for qname itself decide the class anyway).
const MAX_CHAIN = 8;

/**
 * Classifies a reply to the question (qname normalized, qtype number).
 * POSITIVE needs records *for the name*: of the asked type, or a CNAME (followed through
 * the reply). Records for other names are ignored, so a NOERROR carrying only unrelated
 * records is NODATA. An NXDOMAIN whose answer still starts a CNAME chain at qname
 * (RFC 6604: the rcode speaks for the chain's end) is POSITIVE: the name exists.
 */
export function classifyReply(
  reply: ReplyView,
  qname: string,
  qtype: number,
  zone = '',
): Classification {
  const { rcode } = reply;
  if (rcode !== RCODE.NOERROR && rcode !== RCODE.NXDOMAIN) {
    return { class: 'FAILED', rcode, records: [], reason: `rcode ${rcodeName(rcode)}` };
  }
  const records = chainFor(reply.answers, qname, qtype, zone);
  if (records.length > 0) {
    return { class: 'POSITIVE', rcode, records, reason: `${records.length} record(s)` };
  }
  if (rcode === RCODE.NXDOMAIN)
    return { class: 'NXDOMAIN', rcode, records: [], reason: 'NXDOMAIN' };
  return { class: 'NODATA', rcode, records: [], reason: 'NOERROR, no records for the name' };
}

/** No usable reply: timeout, socket error, malformed bytes. */
export function classifyFailure(reason: string): Classification {
  return { class: 'FAILED', rcode: null, records: [], reason };
}

/**
 * The records answering (qname, qtype): those of the type at qname, or qname's CNAME and
 * then the records at its target, and so on. Empty when qname has nothing. The chain stops
 * at the boundary of `zone` (default: the root, no boundary): the CNAME pointing out of the
 * zone is kept, the records of its out-of-zone target are not — we would serve them with
 * AA=1 for a zone that is not ours, on the word of one upstream (a spoofer's easiest target).
 */
export function chainFor(
  answers: readonly DnsRecord[],
  qname: string,
  qtype: number,
  zone = '',
): DnsRecord[] {
  const out: DnsRecord[] = [];
  const visited: string[] = [];
  let owner = qname;
  for (let hop = 0; hop < MAX_CHAIN; hop++) {
    visited.push(owner);
    let cname: string | null = null;
    for (const rr of answers) {
      if (normalizeName(rr.name) !== owner) continue;
      const type = typeNumber(String(rr.type));
      if (type === qtype) out.push(rr);
      else if (type === QTYPE.CNAME && qtype !== QTYPE.CNAME) {
        out.push(rr);
        cname = normalizeName(String((rr as { data?: unknown }).data));
      }
    }
    if (cname === null || visited.includes(cname) || !isAtOrBelow(cname, zone)) break;
    owner = cname;
  }
  return out;
}
