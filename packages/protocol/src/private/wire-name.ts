/**
 * Walks one wire-format name without allocating: follows compression pointers, enforces
 * RFC 1035 limits, and optionally copies the name as normalized presentation text into a
 * shared scratch buffer. Errors are reported through `nameError`/`nameErrorOffset` (module
 * state, valid right after a -1 return) so the hot path allocates nothing per label.
 */

export let nameError = '';
export let nameErrorOffset = 0;

// 255 wire octets can expand to ~4x as \DDD escapes; 1024 is always enough.
const scratch = Buffer.allocUnsafe(1024);
let scratchLen = 0;
// Buffer#latin1Slice skips toString's argument checks (Node 20 and 24 both have it); fall
// back to toString where it is missing.
const latin1Slice: (this: Buffer, start: number, end: number) => string =
  (scratch as unknown as { latin1Slice?: (s: number, e: number) => string }).latin1Slice ??
  function (this: Buffer, start: number, end: number) {
    return this.toString('latin1', start, end);
  };

function fail(error: string, offset: number): number {
  nameError = error;
  nameErrorOffset = offset;
  return -1;
}

// Recently seen query names: a direct-mapped cache so that a repeated name (the common case
// for a server) costs a hash and a compare instead of a string allocation. The cached text is
// compared with the scratch bytes directly: it was made by a latin1 decode of those bytes, so
// its char codes are the bytes. No copy of the bytes is kept: on Bun that copy (`slice` of
// a Buffer goes through the Buffer constructor) was 49 of 1 253 answer-path samples in a
// gateway profile (BENCHMARKS.md, "Issue 15 follow-up"), and a second object per slot.
//
// 8192 slots by default (64 KiB of references): direct-mapped, a zone of n names asked
// uniformly hits about (m/n)(1 - e^(-n/m)) of the time, 87 % for the bench's 2 285 names (41 %
// with 1024 slots, where every miss cost a latin1 decode and a string: BENCHMARKS.md "Gateway
// on Bun: where the time goes"). A server that answers many distinct names over and over (the
// gateway: 20k names) sets more with `setQueryNameCacheSlots`: with fewer slots than names
// nearly every query makes a new string, garbage that on Bun grew the heap (and RSS) by tens
// of MB under load, because JavaScriptCore keeps the blocks such bursts fill.
let cacheMask = 8191;
let cachedText: string[] = new Array(cacheMask + 1).fill('');

/** Largest cache `setQueryNameCacheSlots` accepts (8 MiB of slots on a 64-bit runtime). */
export const MAX_QUERY_NAME_CACHE_SLOTS = 1 << 20;

/**
 * Sizes the query-name cache of `scan` (process-wide; the cached names are dropped). `slots`
 * is a power of two from 1 to 2^20; the default is 8192. Each slot holds at most one name
 * string, which a caller that keeps the names anyway (as map keys) shares with the cache.
 */
export function setQueryNameCacheSlots(slots: number): void {
  if (
    !Number.isInteger(slots) ||
    slots < 1 ||
    slots > MAX_QUERY_NAME_CACHE_SLOTS ||
    (slots & (slots - 1)) !== 0
  ) {
    throw new RangeError(
      `setQueryNameCacheSlots: slots must be a power of two from 1 to ${MAX_QUERY_NAME_CACHE_SLOTS}, got ${slots}`,
    );
  }
  cacheMask = slots - 1;
  cachedText = new Array(slots).fill('');
}

/** Slots of the query-name cache (`setQueryNameCacheSlots`). */
export function queryNameCacheSlots(): number {
  return cacheMask + 1;
}

/** The text collected by the last `readName(..., true)`: lowercase, no trailing dot. */
export function collectedName(): string {
  const len = scratchLen;
  if (len === 0) return '';
  let hash = 0x811c9dc5;
  for (let i = 0; i < len; i++) hash = Math.imul(hash ^ scratch[i], 0x01000193);
  const slot = (hash >>> 0) & cacheMask;
  const known = cachedText[slot];
  if (known.length === len) {
    let same = true;
    for (let i = 0; i < len; i++) {
      if (known.charCodeAt(i) !== scratch[i]) {
        same = false;
        break;
      }
    }
    if (same) return known;
  }
  const text = latin1Slice.call(scratch, 0, len);
  cachedText[slot] = text;
  return text;
}

function writeEscaped(b: number, pos: number): number {
  if (b === 0x2e || b === 0x5c) {
    scratch[pos] = 0x5c;
    scratch[pos + 1] = b;
    return pos + 2;
  }
  // \DDD decimal escape as dig prints it, so odd bytes can never alias a plain name.
  scratch[pos] = 0x5c;
  scratch[pos + 1] = 0x30 + ((b / 100) | 0);
  scratch[pos + 2] = 0x30 + (((b / 10) | 0) % 10);
  scratch[pos + 3] = 0x30 + (b % 10);
  return pos + 4;
}

/**
 * Reads the name starting at `offset` in `buf`. Returns the offset just after the name in
 * the linear stream (after the first pointer, if any), or -1 on a malformed name.
 * Pointers must point strictly before the start of the piece that contains them (so loops
 * are impossible) and never into the 12-byte header.
 */
export function readName(buf: Uint8Array, offset: number, collect: boolean): number {
  const len = buf.length;
  let pos = offset;
  let limit = offset;
  let wireLen = 1;
  let end = -1;
  let out = 0;
  for (;;) {
    if (pos >= len) return fail('name runs past the end of the packet', pos);
    const b = buf[pos];
    if (b === 0) {
      if (end < 0) end = pos + 1;
      break;
    }
    const kind = b & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= len) return fail('compression pointer cut off by the end of the packet', pos);
      const target = ((b & 0x3f) << 8) | buf[pos + 1];
      if (target >= limit) {
        return fail(`compression pointer to ${target} does not point strictly backward`, pos);
      }
      if (target < 12) return fail(`compression pointer to ${target} points into the header`, pos);
      if (end < 0) end = pos + 2;
      limit = target;
      pos = target;
      continue;
    }
    if (kind !== 0) {
      return fail(
        `label length byte 0x${b.toString(16)} is over 63 (extended label types unsupported)`,
        pos,
      );
    }
    wireLen += b + 1;
    if (wireLen > 255) return fail('name is longer than 255 octets', pos);
    const labelEnd = pos + 1 + b;
    if (labelEnd > len) return fail('label runs past the end of the packet', pos);
    if (collect) {
      if (out > 0) scratch[out++] = 0x2e;
      for (let i = pos + 1; i < labelEnd; i++) {
        const c = buf[i];
        if (c >= 0x41 && c <= 0x5a) scratch[out++] = c | 0x20;
        else if (c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x5c) scratch[out++] = c;
        else out = writeEscaped(c, out);
      }
    }
    pos = labelEnd;
  }
  if (collect) scratchLen = out;
  return end;
}

/**
 * Case-insensitive comparison of two names in one message, following pointers, no allocation.
 * Both names must have passed `readName` (a pointer loop is otherwise only stopped by the guard).
 */
export function sameName(buf: Uint8Array, a: number, b: number): boolean {
  let p = a;
  let q = b;
  for (let guard = 0; guard < 256; guard++) {
    while ((buf[p] & 0xc0) === 0xc0) p = ((buf[p] & 0x3f) << 8) | buf[p + 1];
    while ((buf[q] & 0xc0) === 0xc0) q = ((buf[q] & 0x3f) << 8) | buf[q + 1];
    if (p === q) return true;
    const len = buf[p];
    if (len !== buf[q]) return false;
    if (len === 0) return true;
    for (let i = 1; i <= len; i++) {
      const x = buf[p + i];
      const y = buf[q + i];
      if (x !== y && ((x | 0x20) !== (y | 0x20) || (x | 0x20) < 0x61 || (x | 0x20) > 0x7a))
        return false;
    }
    p += len + 1;
    q += len + 1;
  }
  return false;
}
