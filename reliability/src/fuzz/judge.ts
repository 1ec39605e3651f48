import { decode } from '@mdns/protocol';

/** What we remember about a sent packet, to judge the reply paired with it by ID. */
export interface SentFacts {
  /** The packet had QR=1 (it was itself a response). */
  qr: boolean;
  /** The packet's ARCOUNT was 0, so it cannot have carried an OPT: replies fit 512 bytes. */
  noOpt: boolean;
}

export function sentFacts(bytes: Uint8Array): SentFacts {
  return {
    qr: bytes.length >= 3 && (bytes[2] & 0x80) !== 0,
    noOpt: bytes.length >= 12 && bytes[10] === 0 && bytes[11] === 0,
  };
}

/**
 * A reply's problem, or null when it is acceptable: a server may answer garbage or not,
 * but whatever it sends must be a well-formed DNS response that fits the transport
 * (RFC 1035 4.2.1: 512 bytes over UDP without EDNS; never more than our advertised size).
 */
export function judgeReply(
  reply: Uint8Array,
  sent: SentFacts | undefined,
  transport: 'udp' | 'tcp',
  serverUdpSize: number,
): string | null {
  if (reply.length < 12) return `reply of ${reply.length} bytes is shorter than a header`;
  if ((reply[2] & 0x80) === 0) return 'reply has QR=0';
  const decoded = decode(reply);
  if (!decoded.ok) return `reply does not decode: ${decoded.error}`;
  if (transport === 'udp') {
    if (reply.length > serverUdpSize) {
      return `UDP reply of ${reply.length} bytes exceeds our advertised ${serverUdpSize}`;
    }
    if (sent?.noOpt && reply.length > 512) {
      return `UDP reply of ${reply.length} bytes to a query without EDNS (limit 512)`;
    }
  }
  return null;
}
