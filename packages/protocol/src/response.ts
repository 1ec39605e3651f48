import { RCODE } from './constants.js';
import type { DnsRecord } from './message.js';
import { WireWriter } from './private/wire-writer.js';
import type { ScannedQuery } from './scan.js';

/** Our EDNS UDP payload size unless configured (DNS flag day 2020 value). */
export const DEFAULT_UDP_SIZE = 1232;

/** What an answer contains; the header, question and OPT come from the query. */
export interface ResponseParts {
  /** Response code; values above 15 (BADVERS) go partly into the OPT record. */
  rcode: number;
  /** AA flag: true for every answer inside a served zone. Default false. */
  aa?: boolean;
  answers?: readonly DnsRecord[];
  authorities?: readonly DnsRecord[];
  /** Additional records (glue); never an OPT, which is added from the query. */
  additionals?: readonly DnsRecord[];
}

export interface ResponseOptions {
  /** Largest reply allowed, usually `maxResponseSize(query, transport, serverUdpSize)`. */
  maxSize: number;
  /** UDP payload size we advertise in our OPT. Default 1232. */
  serverUdpSize?: number;
}

export type Transport = 'udp' | 'tcp';

/**
 * The client's limit for this reply: TCP 65535; UDP 512 without EDNS, else the client's
 * advertised size capped by ours and never under 512 (RFC 6891 6.2.5).
 */
export function maxResponseSize(
  query: ScannedQuery,
  transport: Transport,
  serverUdpSize = DEFAULT_UDP_SIZE,
): number {
  if (transport === 'tcp') return 65535;
  if (query.edns === null) return 512;
  return Math.max(512, Math.min(query.edns.udpSize, serverUdpSize));
}

/** Header flags of a reply to `query`: QR, opcode echoed, RD and CD copied, never RA/AD/Z. */
export function responseFlags(
  query: ScannedQuery,
  rcode: number,
  aa: boolean,
  tc: boolean,
): number {
  return (
    0x8000 |
    (query.opcode << 11) |
    (aa ? 0x0400 : 0) |
    (tc ? 0x0200 : 0) |
    (query.flags & 0x0110) |
    (rcode & 0xf)
  );
}

/** The 11 bytes of our OPT: root owner, our UDP size, extended rcode, version 0, DO echoed. */
export function writeOpt(
  out: Uint8Array,
  pos: number,
  udpSize: number,
  rcode: number,
  dnssecOk: boolean,
): number {
  out[pos] = 0;
  out[pos + 1] = 0;
  out[pos + 2] = 41;
  out[pos + 3] = (udpSize >> 8) & 0xff;
  out[pos + 4] = udpSize & 0xff;
  out[pos + 5] = (rcode >> 4) & 0xff;
  out[pos + 6] = 0;
  out[pos + 7] = dnssecOk ? 0x80 : 0;
  out[pos + 8] = 0;
  out[pos + 9] = 0;
  out[pos + 10] = 0;
  return pos + 11;
}

export const OPT_SIZE = 11;

const NONE: readonly DnsRecord[] = [];

/**
 * Builds reply bytes for a scanned query. The question is echoed byte for byte (the client's
 * 0x20 case); answer owners equal to it compress onto it, so they carry that case too.
 * A query with EDNS version > 0 always gets BADVERS (RFC 6891 6.1.3), whatever `parts` say.
 * Over `maxSize`, whole RRsets are dropped from the end; TC=1 when an answer or authority
 * RRset had to go (dropping only additional data leaves TC clear, RFC 2181 9). The OPT is
 * always kept. Throws `EncodeError` for records that cannot be encoded.
 */
export function buildResponse(
  query: ScannedQuery,
  queryBytes: Uint8Array,
  parts: ResponseParts,
  options: ResponseOptions,
): Uint8Array {
  const edns = query.edns;
  let rcode = parts.rcode;
  let aa = parts.aa ?? false;
  let answers = parts.answers ?? NONE;
  let authorities = parts.authorities ?? NONE;
  let additionals = parts.additionals ?? NONE;
  if (edns !== null && edns.version > 0) {
    rcode = RCODE.BADVERS;
    aa = false;
    answers = authorities = additionals = NONE;
  }
  // Without an OPT there is nowhere to put the upper rcode bits; SERVFAIL is the honest rest.
  if (rcode > 15 && edns === null) rcode = RCODE.SERVFAIL;

  const w = new WireWriter(true, 512);
  w.pos = 12;
  const qdcount = query.qdcount === 1 ? 1 : 0;
  if (qdcount === 1) copyQuestion(w, query, queryBytes);

  // RRset boundaries: byte offset after each complete RRset and the counts up to it.
  const cuts: number[] = [w.pos, 0, 0, 0];
  const sections = [answers, authorities, additionals];
  const counts = [0, 0, 0];
  for (let s = 0; s < 3; s++) {
    const records = sections[s];
    for (let i = 0; i < records.length; i++) {
      w.record(records[i]);
      counts[s]++;
      if (i + 1 === records.length || !sameRRset(records[i], records[i + 1])) {
        cuts.push(w.pos, counts[0], counts[1], counts[2]);
      }
    }
  }

  const optSize = edns === null ? 0 : OPT_SIZE;
  let tc = false;
  if (w.pos + optSize > options.maxSize) {
    let k = cuts.length - 4;
    while (k > 0 && cuts[k] + optSize > options.maxSize) k -= 4;
    w.pos = cuts[k];
    counts[0] = cuts[k + 1];
    counts[1] = cuts[k + 2];
    counts[2] = cuts[k + 3];
    tc = counts[0] < answers.length || counts[1] < authorities.length;
  }
  if (edns !== null) {
    w.ensure(OPT_SIZE);
    w.pos = writeOpt(w.buf, w.pos, options.serverUdpSize ?? DEFAULT_UDP_SIZE, rcode, edns.dnssecOk);
    counts[2]++;
  }

  const out = w.buf;
  const flags = responseFlags(query, rcode, aa, tc);
  out[0] = query.id >> 8;
  out[1] = query.id & 0xff;
  out[2] = flags >> 8;
  out[3] = flags & 0xff;
  out[4] = 0;
  out[5] = qdcount;
  out[6] = counts[0] >> 8;
  out[7] = counts[0] & 0xff;
  out[8] = counts[1] >> 8;
  out[9] = counts[1] & 0xff;
  out[10] = counts[2] >> 8;
  out[11] = counts[2] & 0xff;
  return out.subarray(0, w.pos);
}

/**
 * REFUSED / FORMERR / NOTIMP / SERVFAIL (or BADVERS) with the question echoed when the query
 * had exactly one, and an OPT when it had one. AA is clear: we are not answering for a zone.
 */
export function errorResponse(
  query: ScannedQuery,
  queryBytes: Uint8Array,
  rcode: number,
  serverUdpSize = DEFAULT_UDP_SIZE,
): Uint8Array {
  return buildResponse(query, queryBytes, { rcode }, { maxSize: 65535, serverUdpSize });
}

function sameRRset(a: DnsRecord, b: DnsRecord): boolean {
  return (
    a.type === b.type &&
    (a as { class?: string }).class === (b as { class?: string }).class &&
    (a.name === b.name || a.name.toLowerCase() === b.name.toLowerCase())
  );
}

/**
 * Copies the client's question bytes and offers each suffix of the name as a compression
 * target. A question that itself uses a pointer (legal, never seen from real clients)
 * cannot be copied since the pointer refers to the query; it is rewritten uncompressed.
 */
function copyQuestion(w: WireWriter, query: ScannedQuery, queryBytes: Uint8Array): void {
  const start = query.questionStart;
  const nameEnd = query.questionEnd - 4;
  let pos = start;
  while (pos < nameEnd && queryBytes[pos] !== 0 && queryBytes[pos] < 0x40)
    pos += queryBytes[pos] + 1;
  if (pos !== nameEnd - 1 || queryBytes[pos] !== 0) {
    w.name(query.qname, true);
    w.bytes(queryBytes.subarray(nameEnd, query.questionEnd));
    return;
  }
  const base = w.pos;
  w.bytes(queryBytes.subarray(start, query.questionEnd));
  // Escaped names (odd bytes) never equal a record name we emit: no targets needed.
  if (query.qname === '' || query.qname.includes('\\')) return;
  let text = 0;
  for (let p = start; queryBytes[p] !== 0; p += queryBytes[p] + 1) {
    w.remember(query.qname.slice(text), base + (p - start));
    text += queryBytes[p] + 1;
  }
}
