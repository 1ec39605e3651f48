/**
 * The one seam with `@mdns/protocol`'s cached-answer API: a reply becomes a `StoredAnswer`
 * (TTL offsets, RRset cuts, OPT stripped) that the handler serves with `patchStored`.
 */
import { type StoredAnswer, tryPrepareStored } from '@mdns/protocol';

export type { StoredAnswer };

/**
 * Upstream replies are untrusted bytes, so the non-throwing variant: null for a reply that
 * is not well-formed enough to re-serve (more than one question, a misplaced OPT, ...).
 * The stored bytes are the protocol's own right-sized copy (`Buffer.alloc`, never a slice
 * of Node's shared pool or of the reply): a long-lived entry pins only its own bytes, and
 * reusing the receive buffer cannot change a cached answer.
 */
export function prepareForCache(response: Uint8Array): StoredAnswer | null {
  const result = tryPrepareStored(response);
  return result.ok ? result.stored : null;
}
