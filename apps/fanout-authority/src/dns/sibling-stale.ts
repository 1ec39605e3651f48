import type { Siblings } from '@mdns/ops';
import { patchStored, scan } from '@mdns/protocol';
import type { CacheGuard } from '../cache/index.js';
import type { Runtime } from '../config/runtime.js';

/**
 * Serve-stale whichever worker answers (listen.workers > 1). Each worker has its own cache,
 * so the entry for a name may sit in another worker than the one a query reaches. A worker
 * whose fan-out failed and that holds no entry asks its siblings, through the primary, for
 * theirs; the first sibling that holds one patches it for the query (ID, case, TTLs, size)
 * and sends the reply bytes back. Only the failure path asks: a hit, a fan-out that answered
 * and a single worker never do.
 */

const TOPIC = 'stale';

/**
 * How long a failed query waits for its siblings' entries. The wait ends as soon as one
 * sibling sends an entry or every sibling has said it holds none, so the bound is reached
 * only when a sibling's event loop is stuck. The round trip through the primary is well
 * under a millisecond on an idle host but was measured at 5 to 100 ms on a loaded 2-core one
 * (a burst of failed queries, every process busy): a bound of a few tens of ms turned stale
 * answers into SERVFAILs there. A SERVFAIL that comes 250 ms later, on a path that already
 * waited for a failing cluster, costs a client far less than the answer it would have lost.
 */
export const SIBLING_STALE_WAIT_MS = 250;

/** What the asking worker sends: the cache key, its query and the room its client has. */
interface StaleQuestion {
  key: string;
  /** The client's query bytes, base64 (the IPC channel carries JSON). */
  query: string;
  /** The largest reply the client takes (`maxResponseSize`). */
  maxSize: number;
}

/**
 * Answer the siblings' questions from this worker's cache: the entry fresh or stale within
 * its serve-stale window (a fresh one keeps its own TTLs, a stale one gets the stale TTL,
 * RFC 8767), patched for the asker's query; null when none is held or anything is off.
 */
export function answerSiblingsFromCache(
  siblings: Siblings,
  cache: CacheGuard,
  runtime: () => Runtime,
): void {
  siblings.answer(TOPIC, (payload) => {
    const question = parseQuestion(payload);
    if (question === null) return null;
    const hit = cache.call('held', (c) => c.held(question.key, Date.now()));
    if (hit === null) return null;
    const bytes = Buffer.from(question.query, 'base64');
    const scanned = scan(bytes);
    if (!scanned.ok) return null;
    const out = cache.call('patch', () =>
      patchStored(hit.stored, scanned.query, bytes, {
        elapsedSeconds: hit.elapsedSeconds,
        ttlOverride: hit.ttlOverride,
        maxSize: question.maxSize,
        serverUdpSize: runtime().config.listen.udpSize,
      }),
    );
    if (out === null) return null;
    if (hit.state === 'stale') cache.call('recordStaleServed', (c) => c.recordStaleServed());
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength).toString('base64');
  });
}

/**
 * Ask the siblings for an entry for `key`: the reply bytes for `query` (already patched by
 * the sibling that held it), or null when none does or none answered within
 * SIBLING_STALE_WAIT_MS.
 */
export async function staleFromSiblings(
  siblings: Siblings,
  key: string,
  query: Uint8Array,
  maxSize: number,
): Promise<Uint8Array | null> {
  const question: StaleQuestion = {
    key,
    query: Buffer.from(query.buffer, query.byteOffset, query.byteLength).toString('base64'),
    maxSize,
  };
  const answer = await siblings.ask(TOPIC, question, SIBLING_STALE_WAIT_MS);
  if (typeof answer !== 'string') return null;
  const reply = Buffer.from(answer, 'base64');
  // A reply to this very query (same ID, QR=1) or none: never another query's answer.
  if (reply.length < 12 || reply[0] !== query[0] || reply[1] !== query[1] || !(reply[2] & 0x80))
    return null;
  return reply;
}

function parseQuestion(payload: unknown): StaleQuestion | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const p = payload as Record<string, unknown>;
  if (typeof p.key !== 'string' || typeof p.query !== 'string') return null;
  if (typeof p.maxSize !== 'number' || !Number.isInteger(p.maxSize) || p.maxSize < 12) return null;
  return { key: p.key, query: p.query, maxSize: p.maxSize };
}
