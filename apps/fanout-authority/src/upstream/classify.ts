import {
  type AnswerChain,
  type DnsRecord,
  decode,
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
  /** POSITIVE only: the reply's additional A/AAAA kept by `additionalFor`; absent = none. */
  additionals?: DnsRecord[];
  /** Why, for logs and `explain`: 'rcode SERVFAIL', 'timeout after 50 ms', ... */
  reason: string;
  /**
   * POSITIVE from a reply whose answer section is the answer as it stands (`whole`, see
   * @mdns/protocol `scanAnswerChain`): its bytes, so a single winner is served by patching
   * them (`patchAnswer`) instead of decoding and encoding; `records` then decodes on demand.
   */
  wire?: AnswerBytes;
}

/** An upstream's reply and where its answer chain lies. */
export interface AnswerBytes {
  reply: Uint8Array;
  chain: AnswerChain;
}

/**
 * A POSITIVE read by the scan alone: the records are decoded only when something asks for
 * them (an `all` merge, `explain`, a reply the bytes could not be patched into), not for the
 * single winner whose bytes are served as they are.
 */
class ScannedPositive implements Classification {
  readonly class = 'POSITIVE';
  #records: DnsRecord[] | null = null;

  constructor(
    readonly rcode: number,
    readonly wire: AnswerBytes,
  ) {}

  get records(): DnsRecord[] {
    if (this.#records === null) {
      // The scan read every name and length; a decode that still fails (odd RDATA) leaves
      // nothing for a merge, as a FAILED outcome would.
      const decoded = decode(this.wire.reply);
      this.#records = decoded.ok ? (decoded.message.answers ?? []) : [];
    }
    return this.#records;
  }

  get reason(): string {
    return `${this.wire.chain.records} record(s)`;
  }
}

/**
 * Classifies a reply from its bytes (`scanAnswerChain`): POSITIVE, NODATA or NXDOMAIN with
 * no decode when the scan settles it; null when only a full decode can (a malformed section,
 * or a POSITIVE whose answer section holds more than the answer: other names, SRV/MX with
 * additionals to pick, data that must be re-encoded). `rcode` is NOERROR or NXDOMAIN.
 */
export function classifyScanned(
  reply: Uint8Array,
  rcode: number,
  chain: AnswerChain | null,
): Classification | null {
  if (chain === null) return null;
  if (chain.records === 0) {
    return rcode === RCODE.NXDOMAIN
      ? { class: 'NXDOMAIN', rcode, records: [], reason: 'NXDOMAIN' }
      : { class: 'NODATA', rcode, records: [], reason: 'NOERROR, no records for the name' };
  }
  return chain.whole ? new ScannedPositive(rcode, { reply, chain }) : null;
}

/** The parts of a decoded reply classification looks at. */
export interface ReplyView {
  rcode: number;
  answers: readonly DnsRecord[];
  /** The reply's additional section (OPT included; `additionalFor` filters). */
  additionals?: readonly DnsRecord[];
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
    const additionals = additionalFor(records, reply.additionals ?? NO_RECORDS, zone);
    return additionals.length > 0
      ? { class: 'POSITIVE', rcode, records, additionals, reason: `${records.length} record(s)` }
      : { class: 'POSITIVE', rcode, records, reason: `${records.length} record(s)` };
  }
  if (rcode === RCODE.NXDOMAIN)
    return { class: 'NXDOMAIN', rcode, records: [], reason: 'NXDOMAIN' };
  return { class: 'NODATA', rcode, records: [], reason: 'NOERROR, no records for the name' };
}

const NO_RECORDS: readonly DnsRecord[] = [];

/**
 * The additional records of an upstream's reply that we pass on: the A/AAAA of each SRV
 * target and MX exchange in `answer` (RFC 2782, RFC 5321 5.1: what saves the client a
 * second query), and only for names at or below `zone` — an address for a name outside our
 * zone would go out with our authority on one upstream's word, the same rule as `chainFor`.
 * Anything else a reply carries there (OPT, other names, other types) is left behind.
 */
export function additionalFor(
  answer: readonly DnsRecord[],
  additionals: readonly DnsRecord[],
  zone = '',
): DnsRecord[] {
  if (additionals.length === 0) return [];
  const wanted = new Set<string>();
  for (const rr of answer) {
    const type = typeNumber(String(rr.type));
    const data = (rr as { data?: { target?: unknown; exchange?: unknown } }).data;
    const host = type === QTYPE.SRV ? data?.target : type === QTYPE.MX ? data?.exchange : undefined;
    if (typeof host !== 'string') continue;
    const name = normalizeName(host);
    if (isAtOrBelow(name, zone)) wanted.add(name);
  }
  if (wanted.size === 0) return [];
  return additionals.filter((rr) => {
    const type = typeNumber(String(rr.type));
    return (type === QTYPE.A || type === QTYPE.AAAA) && wanted.has(normalizeName(rr.name));
  });
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
