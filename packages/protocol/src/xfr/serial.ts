/**
 * SOA serial arithmetic (RFC 1982, SERIAL_BITS = 32) and the policy that picks the next
 * serial of a zone whose data changed.
 */

const HALF = 2 ** 31;
const SPACE = 2 ** 32;

/**
 * RFC 1982 3.2: -1 when `a` precedes `b`, 1 when it follows, 0 when equal, `undefined` when
 * the two are exactly 2^31 apart (the comparison is undefined there; treat as "not newer").
 */
export function serialCompare(a: number, b: number): -1 | 0 | 1 | undefined {
  const x = a >>> 0;
  const y = b >>> 0;
  if (x === y) return 0;
  if ((x < y && y - x < HALF) || (x > y && x - y > HALF)) return -1;
  if ((x < y && y - x > HALF) || (x > y && x - y < HALF)) return 1;
  return undefined;
}

/** RFC 1982 3.1: `serial + n` modulo 2^32, for 0 <= n <= 2^31 - 1. */
export function serialAdd(serial: number, n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > HALF - 1) {
    throw new RangeError(`serialAdd: ${n} is outside 0..2^31-1 (RFC 1982 3.1)`);
  }
  return ((serial >>> 0) + n) % SPACE;
}

/**
 * The serial for a change of the zone at `nowSeconds` (Unix time): the time itself when it
 * follows `previous` in serial order, else `previous + 1`. Time-based so a restarted process
 * (which remembers nothing) starts above every serial it gave out before, as long as its
 * clock did not step back; `+1` keeps two changes in one second (or a clock that stepped
 * back) strictly increasing for the secondaries.
 */
export function nextSerial(previous: number, nowSeconds: number): number {
  const now = Math.floor(nowSeconds) >>> 0;
  return serialCompare(now, previous) === 1 ? now : serialAdd(previous, 1);
}
