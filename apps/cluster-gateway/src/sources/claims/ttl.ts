import { ANNOTATIONS, type SlimMeta } from '../slim.js';

// Signed 32-bit, the largest TTL RFC 2181 section 8 allows.
const MAX_TTL = 2_147_483_647;

/** A TTL in seconds from a string or number; null when it is not a non-negative integer. */
export function parseTtl(v: unknown): number | null {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\s*\d+\s*$/.test(v)) n = Number(v);
  else return null;
  return Number.isInteger(n) && n >= 0 && n <= MAX_TTL ? n : null;
}

/** The object's TTL: its `external-dns.alpha.kubernetes.io/ttl` annotation, else the default. */
export function objectTtl(
  meta: SlimMeta,
  defaultTtl: number,
  ref: string,
  warnings: string[],
): number {
  const raw = meta.annotations[ANNOTATIONS.ttl];
  if (raw === undefined) return defaultTtl;
  const ttl = parseTtl(raw);
  if (ttl === null) {
    warnings.push(
      `${ref}: annotation ${ANNOTATIONS.ttl} "${raw}" is not an integer number of seconds; using ${defaultTtl}`,
    );
    return defaultTtl;
  }
  return ttl;
}
