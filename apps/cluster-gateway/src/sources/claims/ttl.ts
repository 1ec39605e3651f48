// Signed 32-bit, the largest TTL RFC 2181 section 8 allows.
const MAX_TTL = 2_147_483_647;

/** A TTL field (DNSEndpoint `recordTTL`) in seconds; null when it is not a non-negative integer. */
export function parseTtl(v: unknown): number | null {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\s*\d+\s*$/.test(v)) n = Number(v);
  else return null;
  return Number.isInteger(n) && n >= 0 && n <= MAX_TTL ? n : null;
}

// The object TTL annotation is read with every other annotation.
export { objectTtl } from './annotations.js';
