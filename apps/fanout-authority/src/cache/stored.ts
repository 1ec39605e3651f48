/**
 * The one seam with `@mdns/protocol`'s cached-answer API: a reply becomes a `StoredAnswer`
 * (TTL offsets, RRset cuts, OPT stripped) that the handler serves with `patchStored`.
 */
import { type StoredAnswer, tryPrepareStored } from '@mdns/protocol';

export type { StoredAnswer };

/**
 * Upstream replies are untrusted bytes, so the non-throwing variant: null for a reply that
 * is not well-formed enough to re-serve (more than one question, a misplaced OPT, ...).
 */
export function prepareForCache(response: Uint8Array): StoredAnswer | null {
  const result = tryPrepareStored(response);
  return result.ok ? ownBytes(result.stored) : null;
}

/**
 * The protocol copies the reply with `Buffer.from`, i.e. into a slice of Node's shared 8 KB
 * pool — the pool every short-lived buffer of the hot path also comes from. A cache entry
 * lives long and entries are evicted in any order, so each surviving one kept a whole slab
 * alive: under a random-name flood RSS reached ~450 MB with 64 MB accounted (found by
 * reliability/ fuzzing). A right-sized buffer of its own costs the entry only its bytes.
 */
function ownBytes(stored: StoredAnswer): StoredAnswer {
  const own = Buffer.allocUnsafeSlow(stored.bytes.length);
  stored.bytes.copy(own);
  return { ...stored, bytes: own };
}
