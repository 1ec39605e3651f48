import type { ScannedQuery, ScanResult } from '@mdns/protocol';

/** What a reply must echo to be accepted (from the query we sent). */
export interface ExpectedReply {
  id: number;
  /** Normalized (lowercase, no trailing dot), as `scan` returns it. */
  qname: string;
  qtype: number;
  qclass: number;
  /**
   * The question name's wire bytes exactly as sent, when their case was randomized (0x20,
   * draft-vixie-dnsext-dns0x20): the reply must echo them byte for byte, which adds a bit of
   * spoofing entropy per letter.
   */
  exactName?: Uint8Array;
}

export type ReplyVerdict =
  | { ok: true; reply: ScannedQuery }
  | { ok: false; reason: 'malformed'; detail: string }
  | { ok: false; reason: 'id' | 'question'; detail: string };

/**
 * Accept a reply only when it is a response (QR=1) to our ID with our exact
 * question; the name compares case-insensitively (scan normalizes it), and byte for byte
 * too when the query's case was randomized (`exactName`).
 */
export function judgeReply(
  scanned: ScanResult,
  expect: ExpectedReply,
  bytes: Uint8Array,
): ReplyVerdict {
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
  if (expect.exactName !== undefined && !echoesName(bytes, expect.exactName)) {
    return { ok: false, reason: 'question', detail: 'question name case differs from the query' };
  }
  return { ok: true, reply };
}

/** The reply's question name (at offset 12) is `name`, byte for byte. */
function echoesName(bytes: Uint8Array, name: Uint8Array): boolean {
  if (bytes.length < 12 + name.length) return false;
  for (let i = 0; i < name.length; i++) if (bytes[12 + i] !== name[i]) return false;
  return true;
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
