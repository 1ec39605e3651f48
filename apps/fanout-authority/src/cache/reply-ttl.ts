/**
 * How long a reply may be cached, read straight from its wire bytes (no decode: this runs on
 * every store). Pure; never throws — anything it cannot walk is `{ kind: 'unparseable' }`.
 */

export type ReplyTtl =
  | { kind: 'positive'; ttl: number }
  | { kind: 'negative'; ttl: number }
  | { kind: 'unparseable'; error: string }
  | { kind: 'truncated' }
  | { kind: 'rcode'; rcode: number }
  | { kind: 'no-soa' };

const HEADER = 12;
const TYPE_SOA = 6;
const TYPE_OPT = 41;
const RCODE_NOERROR = 0;
const RCODE_NXDOMAIN = 3;

/**
 * Positive (NOERROR with answers): the smallest TTL in the answer section.
 * Negative (NXDOMAIN, or NOERROR with no answer = NODATA): min(SOA TTL, SOA MINIMUM) of the
 * first SOA in the authority section (RFC 2308 §5); without one the reply is not cacheable.
 * SERVFAIL, REFUSED, ... and TC=1 replies are never cacheable.
 */
export function readReplyTtl(b: Uint8Array): ReplyTtl {
  if (b.length < HEADER)
    return { kind: 'unparseable', error: `reply is ${b.length} bytes, shorter than a header` };
  if ((b[2] & 0x80) === 0) return { kind: 'unparseable', error: 'QR=0: a query, not a reply' };
  if ((b[2] & 0x02) !== 0) return { kind: 'truncated' };
  const qd = u16(b, 4);
  const an = u16(b, 6);
  const ns = u16(b, 8);
  const ar = u16(b, 10);
  let pos = HEADER;
  for (let i = 0; i < qd; i++) {
    pos = skipName(b, pos);
    if (pos < 0 || pos + 4 > b.length) return unparseable('question', i);
    pos += 4;
  }
  let minAnswerTtl = Number.POSITIVE_INFINITY;
  let soaTtl = -1;
  // rcode = header 4 bits + the OPT's 8 extended bits (BADVERS etc. must not be cached).
  let rcode = b[3] & 0x0f;
  const total = an + ns + ar;
  for (let i = 0; i < total; i++) {
    const nameEnd = skipName(b, pos);
    if (nameEnd < 0 || nameEnd + 10 > b.length) return unparseable('record', i);
    const type = u16(b, nameEnd);
    const ttl = ttlAt(b, nameEnd + 4);
    const rdStart = nameEnd + 10;
    const rdEnd = rdStart + u16(b, nameEnd + 8);
    if (rdEnd > b.length) return unparseable('record RDATA', i);
    if (i < an) {
      if (ttl < minAnswerTtl) minAnswerTtl = ttl;
    } else if (i < an + ns) {
      // SOA RDATA ends with five 32-bit fields; MINIMUM is the last one.
      if (type === TYPE_SOA && soaTtl < 0) {
        if (rdEnd - rdStart < 22) return unparseable('SOA RDATA', i);
        soaTtl = Math.min(ttl, ttlAt(b, rdEnd - 4));
      }
    } else if (type === TYPE_OPT) {
      rcode |= b[nameEnd + 4] << 4;
    }
    pos = rdEnd;
  }
  if (rcode === RCODE_NOERROR && an > 0) return { kind: 'positive', ttl: minAnswerTtl };
  if (rcode !== RCODE_NOERROR && rcode !== RCODE_NXDOMAIN) return { kind: 'rcode', rcode };
  if (soaTtl < 0) return { kind: 'no-soa' };
  return { kind: 'negative', ttl: soaTtl };
}

export interface TtlLimits {
  minTtl: number;
  maxTtl: number;
  negativeMaxTtl: number;
}

/** Clamps into [minTtl, maxTtl]; negatives are also capped by negativeMaxTtl (applied before minTtl). */
export function clampTtl(ttl: number, negative: boolean, limits: TtlLimits): number {
  const cap = negative ? Math.min(limits.maxTtl, limits.negativeMaxTtl) : limits.maxTtl;
  return Math.max(limits.minTtl, Math.min(ttl, cap));
}

function unparseable(what: string, index: number): ReplyTtl {
  return {
    kind: 'unparseable',
    error: `${what} #${index} runs past the end of the reply or is malformed`,
  };
}

/** Offset just after the name at `pos`, or -1. A compression pointer ends the name. */
function skipName(b: Uint8Array, pos: number): number {
  // A name has at most 127 labels; the bound also stops a loop on hostile input.
  for (let labels = 0; labels < 128; labels++) {
    if (pos >= b.length) return -1;
    const len = b[pos];
    if (len === 0) return pos + 1;
    if ((len & 0xc0) === 0xc0) return pos + 2 <= b.length ? pos + 2 : -1;
    if ((len & 0xc0) !== 0) return -1;
    pos += 1 + len;
  }
  return -1;
}

function u16(b: Uint8Array, p: number): number {
  return (b[p] << 8) | b[p + 1];
}

/** RFC 2181 §8: a TTL with the top bit set is treated as 0. */
function ttlAt(b: Uint8Array, p: number): number {
  if (b[p] & 0x80) return 0;
  return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
}
