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
  return result.ok ? result.stored : null;
}
