import { errorResponse, RCODE, scan } from '@mdns/protocol';
import { MIN_DNS_MESSAGE } from '../tcp-framing.js';

/**
 * Cheap check before the handler runs: shorter than a header cannot be DNS,
 * and QR=1 is a response — answering responses would let two servers (or a
 * spoofed source) bounce packets between each other forever.
 */
export function looksLikeQuery(packet: Uint8Array): boolean {
  return packet.length >= MIN_DNS_MESSAGE && (packet[2] & 0x80) === 0;
}

/** SERVFAIL with the question echoed, or null when the query cannot be scanned. */
export function servfailFor(query: Uint8Array): Uint8Array | null {
  try {
    const scanned = scan(query);
    if (!scanned.ok) return null;
    return errorResponse(scanned.query, query, RCODE.SERVFAIL);
  } catch {
    return null;
  }
}

/** Largest payload a UDP datagram can carry over IPv4. */
export const MAX_UDP_PAYLOAD = 65507;
/** Largest message the 2-byte TCP length prefix can describe. */
export const MAX_TCP_MESSAGE = 65535;

/** Promise-like: the handler answered asynchronously. */
export function isThenable(value: unknown): value is Promise<unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as Promise<unknown>).then === 'function'
  );
}
