import { RCODE } from './constants.js';
import { nameError, nameErrorOffset, readName, sameName } from './private/wire-name.js';
import { DEFAULT_UDP_SIZE, errorResponse, OPT_SIZE, writeOpt } from './response.js';
import type { ScannedQuery } from './scan.js';

/**
 * Everything about a stored reply except its bytes: what `patchStoredFrom` needs beside them.
 * Answers of one shape (same name length, TTLs and counts) have equal layouts, so a store of
 * many similar answers can keep one layout for all of them and only a place per answer.
 */
export interface StoredLayout {
  /** Header flags of the stored reply (opcode, AA and rcode are kept when serving). */
  readonly flags: number;
  /** Full rcode, extended bits from the stored OPT included. */
  readonly rcode: number;
  readonly questionEnd: number;
  readonly ancount: number;
  readonly nscount: number;
  readonly arcount: number;
  /** Offset of every TTL field, ascending, and the TTL stored there. */
  readonly ttlOffsets: Uint32Array;
  readonly ttls: Uint32Array;
  /** RRset boundaries as [offset, an, ns, ar] quads; the first is the end of the question. */
  readonly cuts: Uint32Array;
}

/**
 * A reply kept for re-use (a cache entry): the bytes without their OPT, where each TTL sits,
 * and where each RRset ends, so that serving it is one copy plus a few byte writes.
 */
export interface StoredAnswer extends StoredLayout {
  /** The reply without its OPT record (ARCOUNT adjusted). */
  readonly bytes: Buffer;
  /** Smallest TTL in the answer and authority sections (0 when both are empty). */
  readonly minTtl: number;
}

export type PrepareResult =
  | { ok: true; stored: StoredAnswer }
  | { ok: false; error: string; offset: number };

export interface PatchOptions {
  /** Seconds since the reply was stored; TTLs are reduced by it and never go below 0. */
  elapsedSeconds: number;
  /** Serve every TTL as this value instead (serve-stale answers use 30, RFC 8767). */
  ttlOverride?: number;
  /** Largest reply allowed, usually `maxResponseSize(query, transport)`. */
  maxSize: number;
  /** UDP payload size in our OPT. Default 1232. */
  serverUdpSize?: number;
  /** A buffer to write into when it is large enough; the result is then a view of it. */
  out?: Uint8Array;
}

function fail(error: string, offset: number): PrepareResult {
  return { ok: false, error, offset };
}

/** Like `prepareStored`, returning an error value for bytes that are not a well-formed reply. */
export function tryPrepareStored(response: Uint8Array): PrepareResult {
  const len = response.length;
  if (len < 12) return fail(`reply is ${len} bytes, shorter than the header`, 0);
  const u16 = (p: number) => (response[p] << 8) | response[p + 1];
  const qdcount = u16(4);
  const counts = [u16(6), u16(8), u16(10)];
  if (qdcount > 1) return fail(`reply has ${qdcount} questions`, 4);
  let pos = 12;
  if (qdcount === 1) {
    pos = readName(response, 12, false);
    if (pos < 0 || pos + 4 > len)
      return fail(`question: ${nameError || 'cut off'}`, nameErrorOffset);
    pos += 4;
  }
  const questionEnd = pos;
  const ttlOffsets: number[] = [];
  const ttls: number[] = [];
  const cuts: number[] = [questionEnd, 0, 0, 0];
  const kept = [0, 0, 0];
  let rcode = response[3] & 0xf;
  let optStart = -1;
  let optEnd = -1;
  let minTtl = Number.POSITIVE_INFINITY;
  // Owner offset, type and class of the previous record, to see where an RRset ends.
  let prevOwner = -1;
  let prevTypeClass = -1;
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s]; i++) {
      const start = pos;
      const end = readName(response, pos, false);
      if (end < 0) return fail(`record name: ${nameError}`, nameErrorOffset);
      if (end + 10 > len) return fail('record cut off', end);
      const type = u16(end);
      const next = end + 10 + u16(end + 8);
      if (next > len) return fail('record RDATA runs past the end', end + 8);
      if (type === 41) {
        if (s !== 2 || optStart >= 0) return fail('misplaced or repeated OPT record', start);
        optStart = start;
        optEnd = next;
        rcode |= response[end + 4] << 4;
      } else {
        if (optStart >= 0) return fail('records after the OPT record', start);
        const typeClass = (type << 16) | u16(end + 2);
        if (
          prevOwner >= 0 &&
          (typeClass !== prevTypeClass || !sameName(response, prevOwner, start))
        ) {
          cuts.push(start, kept[0], kept[1], kept[2]);
        }
        const value = ((response[end + 4] << 24) | (response[end + 5] << 16) | u16(end + 6)) >>> 0;
        ttlOffsets.push(end + 4);
        ttls.push(value);
        if (s < 2 && value < minTtl) minTtl = value;
        kept[s]++;
        prevOwner = start;
        prevTypeClass = typeClass;
      }
      pos = next;
    }
    // A section end is always an RRset end.
    if (prevOwner >= 0) {
      cuts.push(pos === optEnd ? optStart : pos, kept[0], kept[1], kept[2]);
      prevOwner = -1;
    }
  }
  const body = optStart >= 0 ? response.subarray(0, optStart) : response.subarray(0, pos);
  // Its own memory, not a slice of Node's shared 8 KiB pool (Buffer.from): a stored
  // answer lives long, and a pooled slice would keep the whole slab alive with it.
  const bytes = Buffer.alloc(body.length);
  bytes.set(body);
  bytes[10] = kept[2] >> 8;
  bytes[11] = kept[2] & 0xff;
  return {
    ok: true,
    stored: {
      bytes,
      flags: u16(2),
      rcode,
      questionEnd,
      ancount: kept[0],
      nscount: kept[1],
      arcount: kept[2],
      ttlOffsets: Uint32Array.from(ttlOffsets),
      ttls: Uint32Array.from(ttls),
      cuts: Uint32Array.from(dedupeCuts(cuts)),
      minTtl: minTtl === Number.POSITIVE_INFINITY ? 0 : minTtl,
    },
  };
}

/**
 * Prepares a reply for re-use: records TTL offsets and RRset boundaries and strips the OPT.
 * Meant for replies from `buildResponse` or ones that passed `decode`; throws a RangeError
 * naming the offset otherwise (use `tryPrepareStored` for untrusted bytes).
 */
export function prepareStored(response: Uint8Array): StoredAnswer {
  const result = tryPrepareStored(response);
  if (!result.ok) throw new RangeError(`prepareStored: ${result.error} at offset ${result.offset}`);
  return result.stored;
}

function dedupeCuts(cuts: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < cuts.length; i += 4) {
    if (out.length > 0 && out[out.length - 4] === cuts[i]) out.length -= 4;
    out.push(cuts[i], cuts[i + 1], cuts[i + 2], cuts[i + 3]);
  }
  return out;
}

/**
 * A reply's memory, per runtime. Bun: a plain Uint8Array, as `Buffer.allocUnsafe` is a native
 * call there (2.6 % of a gateway profile's samples; `patchStored` 146-158 against 148-217 ns
 * in the package bench). Node: `Buffer.allocUnsafe`, a view of the shared pool, as a
 * Uint8Array over 64 bytes gets a backing store of its own (1 230-1 600 against 380-480 ns).
 */
const allocReply: (size: number) => Uint8Array =
  typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined'
    ? (size) => new Uint8Array(size)
    : (size) => Buffer.allocUnsafe(size);

/**
 * Serves a stored reply to a new query with one copy: the query's ID, its question bytes
 * (client case), RD/CD from the query, TTLs aged by `elapsedSeconds` (or `ttlOverride`),
 * the client's OPT (our UDP size, DO echoed) and, when over `maxSize`, a cut at the last
 * RRset boundary that fits with TC=1. An EDNS version > 0 query gets BADVERS instead.
 */
export function patchStored(
  stored: StoredAnswer,
  query: ScannedQuery,
  queryBytes: Uint8Array,
  options: PatchOptions,
): Uint8Array {
  const bytes = stored.bytes;
  return patchStoredFrom(stored, bytes, 0, bytes.length, query, queryBytes, options);
}

/**
 * `patchStored` for a reply whose bytes are `src[start, start + length)` (a slice of a larger
 * arena) and whose layout is kept apart from them: a store of many answers then needs no
 * object or view per answer, only numbers saying where each one sits.
 */
export function patchStoredFrom(
  stored: StoredLayout,
  src: Uint8Array,
  start: number,
  length: number,
  query: ScannedQuery,
  queryBytes: Uint8Array,
  options: PatchOptions,
): Uint8Array {
  const edns = query.edns;
  const serverUdpSize = options.serverUdpSize ?? DEFAULT_UDP_SIZE;
  if (edns !== null && edns.version > 0) {
    return errorResponse(query, queryBytes, RCODE.BADVERS, serverUdpSize);
  }
  const optSize = edns === null ? 0 : OPT_SIZE;
  let end = length;
  let an = stored.ancount;
  let ns = stored.nscount;
  let ar = stored.arcount;
  let tc = false;
  if (end + optSize > options.maxSize) {
    const cuts = stored.cuts;
    let k = cuts.length - 4;
    while (k > 0 && cuts[k] + optSize > options.maxSize) k -= 4;
    end = cuts[k];
    an = cuts[k + 1];
    ns = cuts[k + 2];
    ar = cuts[k + 3];
    tc = an < stored.ancount || ns < stored.nscount;
  }
  const total = end + optSize;
  const given = options.out;
  const out =
    given !== undefined && given.length >= total
      ? given.length === total
        ? given
        : given.subarray(0, total)
      : allocReply(total);
  // Replies are small: a byte loop beats the native copy's call overhead up to ~1 KB.
  if (end <= 1024) for (let i = 0; i < end; i++) out[i] = src[start + i];
  else out.set(src.subarray(start, start + end));

  out[0] = query.id >> 8;
  out[1] = query.id & 0xff;
  // Keep opcode, AA and rcode; RA, Z, AD never set; RD and CD are the client's.
  const flags = 0x8000 | (stored.flags & 0x7c0f) | (tc ? 0x0200 : 0) | (query.flags & 0x0110);
  out[2] = flags >> 8;
  out[3] = flags & 0xff;
  const qEnd = query.questionEnd;
  if (qEnd === stored.questionEnd && query.qdcount === 1) {
    for (let i = 12; i < qEnd; i++) out[i] = queryBytes[i];
  }
  if (end !== length) {
    out[6] = an >> 8;
    out[7] = an & 0xff;
    out[8] = ns >> 8;
    out[9] = ns & 0xff;
  }
  const arOut = ar + (optSize > 0 ? 1 : 0);
  out[10] = arOut >> 8;
  out[11] = arOut & 0xff;

  const offsets = stored.ttlOffsets;
  const ttls = stored.ttls;
  const override = options.ttlOverride;
  const age = options.elapsedSeconds > 0 ? Math.floor(options.elapsedSeconds) : 0;
  for (let i = 0; i < offsets.length; i++) {
    const at = offsets[i];
    if (at >= end) break;
    const original = ttls[i];
    const ttl = override !== undefined ? override : original > age ? original - age : 0;
    out[at] = ttl >>> 24;
    out[at + 1] = (ttl >>> 16) & 0xff;
    out[at + 2] = (ttl >>> 8) & 0xff;
    out[at + 3] = ttl & 0xff;
  }
  if (edns !== null) writeOpt(out, end, serverUdpSize, stored.rcode, edns.dnssecOk);
  return out;
}
