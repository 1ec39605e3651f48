import { QTYPE, type ScannedQuery, scan } from '@mdns/protocol';
import type { Handler, Peer, StreamingHandler } from '@mdns/transport';

/** Answers a zone transfer request: one message, several (TCP), or none. */
export type TransferHandler = (
  q: ScannedQuery,
  bytes: Uint8Array,
  peer: Peer,
) => Uint8Array | Uint8Array[] | null;

/**
 * The one place a transfer leaves the answer path: AXFR/IXFR over TCP go to `transfer`
 * (the merged zone's primary, `primary/primary.ts`); everything else, and every UDP query
 * without a second look, to `handler`. Without a primary the handler's shared rule answers
 * AXFR/IXFR REFUSED.
 */
export function routeTransfers(handler: Handler, transfer: TransferHandler): StreamingHandler {
  return (bytes, peer) => {
    if (peer.transport !== 'tcp') return handler(bytes, peer);
    const scanned = scan(bytes);
    if (!scanned.ok) return handler(bytes, peer);
    const q = scanned.query;
    if (
      !q.qr &&
      (q.qtype === QTYPE.AXFR || q.qtype === QTYPE.IXFR) &&
      q.opcode === 0 &&
      q.qdcount === 1
    ) {
      return transfer(q, bytes, peer);
    }
    return handler(bytes, peer);
  };
}
