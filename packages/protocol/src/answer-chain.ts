import { CLASS, QTYPE, RCODE } from './constants.js';
import { isAtOrBelow } from './names.js';
import { collectedName, readName, sameName } from './private/wire-name.js';
import { DEFAULT_UDP_SIZE, OPT_SIZE, responseFlags, writeOpt } from './response.js';
import { type ScannedQuery, skipRecord } from './scan.js';

/**
 * What an upstream's reply holds for its own question, read from the bytes (no decode):
 * the records that answer it (the CNAME chain from the question name on, as `chainFor` in
 * the authority picks them) and whether the reply's answer section can be served as it is.
 */
export interface AnswerChain {
  /** Answer records that answer the question: of the type at the name, or its CNAME chain. */
  records: number;
  /**
   * The answer section is exactly those records in that order, and each can go out as
   * received: class IN, A/AAAA of their size, CNAME/PTR/NS data a well-formed name, TXT or
   * CAA; no SRV/MX (their targets' addresses are picked from the additional section); an
   * owner equal to the question a pointer to it (so it takes the client's case).
   */
  whole: boolean;
  /** Offset just after the question. */
  questionEnd: number;
  /** Offset just after the answer section. */
  answerEnd: number;
}

// RFC 8659; not in QTYPE.
const TYPE_CAA = 257;

// A CNAME chain longer than this inside one reply is a loop or an abuse (as `chainFor`).
const MAX_CHAIN = 8;
// Owner offsets of the chain so far, for the loop check: scratch, no allocation per reply.
const visited = new Int32Array(MAX_CHAIN);

/** Types whose data goes out as received; names inside are checked by `readName`. */
function passesAsBytes(type: number): boolean {
  return (
    type === QTYPE.A ||
    type === QTYPE.AAAA ||
    type === QTYPE.CNAME ||
    type === QTYPE.PTR ||
    type === QTYPE.NS ||
    type === QTYPE.TXT ||
    type === TYPE_CAA
  );
}

/** The data of one record of a type in `passesAsBytes` is what its type says it is. */
function dataFits(reply: Uint8Array, type: number, data: number, next: number): boolean {
  if (type === QTYPE.A) return next - data === 4;
  if (type === QTYPE.AAAA) return next - data === 16;
  if (type === QTYPE.CNAME || type === QTYPE.PTR || type === QTYPE.NS) {
    return readName(reply, data, false) === next;
  }
  return true;
}

/**
 * Reads the answer chain of a reply to a one-question query (`qtype` asked; the reply's
 * question at offset 12 is the name): for each owner of the chain, from the question name on,
 * the records of `qtype` there and its CNAME (not followed for a CNAME query); the chain stops
 * at a loop, after 8 owners, or at a CNAME target outside `zone` (kept; its target's records
 * are not). Returns null when the reply does not have exactly one question or its question or
 * answer section is malformed (a name runs off the end or loops, a record is cut off, the
 * counts lie): the caller decodes it, or fails it. Never throws.
 */
export function scanAnswerChain(reply: Uint8Array, qtype: number, zone = ''): AnswerChain | null {
  const len = reply.length;
  if (len < 12 || reply[4] !== 0 || reply[5] !== 1) return null;
  const ancount = (reply[6] << 8) | reply[7];
  const nameEnd = readName(reply, 12, false);
  if (nameEnd < 0 || nameEnd + 4 > len) return null;
  const questionEnd = nameEnd + 4;

  // First pass: the section's structure and its end.
  let pos = questionEnd;
  for (let i = 0; i < ancount && pos >= 0; i++) pos = skipRecord(reply, pos);
  if (pos < 0) return null;
  const answerEnd = pos;

  let records = 0;
  let whole = true;
  let owner = 12;
  let hops = 0;
  for (; hops < MAX_CHAIN; hops++) {
    visited[hops] = owner;
    let target = -1;
    pos = questionEnd;
    for (let i = 0; i < ancount; i++) {
      const start = pos;
      const end = readName(reply, pos, false);
      const type = (reply[end] << 8) | reply[end + 1];
      const data = end + 10;
      pos = data + ((reply[end + 8] << 8) | reply[end + 9]);
      const cname = type === QTYPE.CNAME && qtype !== QTYPE.CNAME;
      if ((type !== qtype && !cname) || !sameName(reply, start, owner)) continue;
      // chainFor's order is the chain's: the section passes as it is only in that order.
      if (i !== records) whole = false;
      records++;
      if (whole) whole = servable(reply, start, end, type, data, pos, hops === 0);
      if (cname) {
        // A CNAME whose target does not read cannot extend the chain (the decode fails it).
        if (readName(reply, data, false) < 0) return null;
        target = data;
      }
    }
    if (target < 0 || seen(reply, target, hops)) break;
    if (zone !== '') {
      readName(reply, target, true);
      if (!isAtOrBelow(collectedName(), zone)) break;
    }
    owner = target;
  }
  if (records !== ancount) whole = false;
  return { records, whole, questionEnd, answerEnd };
}

function servable(
  reply: Uint8Array,
  start: number,
  end: number,
  type: number,
  data: number,
  next: number,
  atQuestion: boolean,
): boolean {
  if (((reply[end + 2] << 8) | reply[end + 3]) !== CLASS.IN) return false;
  if (type === QTYPE.SRV || type === QTYPE.MX || !passesAsBytes(type)) return false;
  if (!dataFits(reply, type, data, next)) return false;
  // The question's own name must point at the question, which gets the client's bytes.
  return !atQuestion || (reply[start] === 0xc0 && reply[start + 1] === 12);
}

function seen(reply: Uint8Array, name: number, hops: number): boolean {
  for (let h = 0; h <= hops; h++) if (sameName(reply, visited[h], name)) return true;
  return false;
}

export interface AnswerPatchOptions {
  /** No TTL above this (`cache.maxTtl`): one upstream's TTL of weeks is not passed on. */
  maxTtl: number;
  /** Largest reply allowed, usually `maxResponseSize(query, transport, serverUdpSize)`. */
  maxSize: number;
  /** UDP payload size in our OPT. Default 1232. */
  serverUdpSize?: number;
}

/**
 * Our reply to `query` from one upstream's reply whose answer section is `whole` (see
 * `AnswerChain`): the upstream's header, question and answer bytes copied once, then the
 * client's ID, flags (QR, AA, RD and CD copied, NOERROR: a chain the upstream ends in
 * NXDOMAIN still answers the name), question bytes (its case), TTLs capped at `maxTtl`, no
 * authority or additional records, and our OPT when the query had one. The same records
 * `buildResponse` would write from the decoded answer. Returns null when the bytes cannot
 * be used as they are (not whole, a question of another length, EDNS version > 0, larger
 * than `maxSize`): the caller builds the reply the long way.
 */
export function patchAnswer(
  reply: Uint8Array,
  chain: AnswerChain,
  query: ScannedQuery,
  queryBytes: Uint8Array,
  options: AnswerPatchOptions,
): Uint8Array | null {
  const edns = query.edns;
  if (!chain.whole || query.qdcount !== 1 || query.questionEnd !== chain.questionEnd) return null;
  if (edns !== null && edns.version > 0) return null;
  const end = chain.answerEnd;
  const total = end + (edns === null ? 0 : OPT_SIZE);
  if (total > options.maxSize || end > reply.length) return null;
  const out = Buffer.allocUnsafe(total);
  // Replies are small: a byte loop beats the native copy's call overhead up to ~1 KB.
  if (end <= 1024) for (let i = 0; i < end; i++) out[i] = reply[i];
  else out.set(reply.subarray(0, end));

  const flags = responseFlags(query, RCODE.NOERROR, true, false);
  out[0] = query.id >> 8;
  out[1] = query.id & 0xff;
  out[2] = flags >> 8;
  out[3] = flags & 0xff;
  out[4] = 0;
  out[5] = 1;
  out[6] = chain.records >> 8;
  out[7] = chain.records & 0xff;
  out[8] = 0;
  out[9] = 0;
  out[10] = 0;
  out[11] = edns === null ? 0 : 1;
  for (let i = 12; i < chain.questionEnd; i++) out[i] = queryBytes[i];

  const maxTtl = options.maxTtl >>> 0;
  let pos = chain.questionEnd;
  for (let i = 0; i < chain.records; i++) {
    const at = readName(out, pos, false) + 4;
    const ttl = ((out[at] << 24) | (out[at + 1] << 16) | (out[at + 2] << 8) | out[at + 3]) >>> 0;
    if (ttl > maxTtl) {
      out[at] = maxTtl >>> 24;
      out[at + 1] = (maxTtl >>> 16) & 0xff;
      out[at + 2] = (maxTtl >>> 8) & 0xff;
      out[at + 3] = maxTtl & 0xff;
    }
    pos = at + 6 + ((out[at + 4] << 8) | out[at + 5]);
  }
  if (edns !== null) {
    writeOpt(out, end, options.serverUdpSize ?? DEFAULT_UDP_SIZE, RCODE.NOERROR, edns.dnssecOk);
  }
  return out;
}
