import type { ScannedQuery, ScanResult } from '@mdns/protocol';

/** What a reply must echo to be accepted (from the query we sent). */
export interface ExpectedReply {
  id: number;
  /** Normalized (lowercase, no trailing dot), as `scan` returns it. */
  qname: string;
  qtype: number;
  qclass: number;
}

export type ReplyVerdict =
  | { ok: true; reply: ScannedQuery }
  | { ok: false; reason: 'malformed'; detail: string }
  | { ok: false; reason: 'id' | 'question'; detail: string };

/**
 * Accept a reply only when it is a response (QR=1) to our ID with our exact
 * question; the name compares case-insensitively because servers may not
 * echo 0x20 case (scan normalizes it).
 */
export function judgeReply(scanned: ScanResult, expect: ExpectedReply): ReplyVerdict {
  if (!scanned.ok) {
    return {
      ok: false,
      reason: 'malformed',
      detail: `${scanned.error} at offset ${scanned.offset}`,
    };
  }
  const reply = scanned.query;
  if (!reply.qr || reply.id !== expect.id) {
    return { ok: false, reason: 'id', detail: `id ${reply.id} qr ${reply.qr ? 1 : 0}` };
  }
  if (
    reply.qdcount !== 1 ||
    reply.qname !== expect.qname ||
    reply.qtype !== expect.qtype ||
    reply.qclass !== expect.qclass
  ) {
    return {
      ok: false,
      reason: 'question',
      detail: `question ${reply.qname} ${reply.qtype} ${reply.qclass} (qdcount ${reply.qdcount})`,
    };
  }
  return { ok: true, reply };
}

/** TC bit, read from the header directly. */
export function isTruncated(reply: Uint8Array): boolean {
  return (reply[2] & 0x02) !== 0;
}

/** Full RCODE: header low 4 bits plus the EDNS extended bits (RFC 6891 §6.1.3). */
export function fullRcode(bytes: Uint8Array, reply: ScannedQuery): number {
  const low = bytes[3] & 0x0f;
  return reply.edns ? (reply.edns.extendedRcode << 4) | low : low;
}
