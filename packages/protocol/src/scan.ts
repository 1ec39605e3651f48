import { collectedName, nameError, nameErrorOffset, readName } from './private/wire-name.js';

/** What the query's OPT record said (RFC 6891). */
export interface EdnsInfo {
  /** Requestor's UDP payload size, as sent (a value under 512 means 512). */
  udpSize: number;
  version: number;
  dnssecOk: boolean;
  /** Upper 8 bits of the 12-bit rcode; 0 in any sane query. */
  extendedRcode: number;
}

/** Header, first question and EDNS of a message, read without a full decode. */
export interface ScannedQuery {
  id: number;
  /** The 16-bit flags word as received (QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode). */
  flags: number;
  qr: boolean;
  opcode: number;
  rd: boolean;
  cd: boolean;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
  /** First question's name, normalized (lowercase, no trailing dot; odd bytes as \DDD). */
  qname: string;
  /** Offset of the first question (12); the question bytes are [questionStart, questionEnd). */
  questionStart: number;
  /** Offset just after the first question's QCLASS (12 when there is no question). */
  questionEnd: number;
  qtype: number;
  qclass: number;
  edns: EdnsInfo | null;
  /**
   * Bytes after the last record the header counts (0 in any well-formed message). A query
   * with any is answered FORMERR (the shared rules), as Knot and BIND do.
   */
  trailing: number;
}

export type ScanResult =
  | { ok: true; query: ScannedQuery }
  | { ok: false; error: string; offset: number; id?: number };

function failure(packet: Uint8Array, error: string, offset: number): ScanResult {
  return packet.length >= 2
    ? { ok: false, error, offset, id: (packet[0] << 8) | packet[1] }
    : { ok: false, error, offset };
}

function nameFailure(packet: Uint8Array, where: string): ScanResult {
  return failure(packet, `${where}: ${nameError}`, nameErrorOffset);
}

/**
 * Reads the header, the first question and the OPT record, checking the whole message's
 * structure on the way (every name, every RDLENGTH) but decoding nothing else. Never throws.
 * A QDCOUNT other than 1 still scans ok so the caller can answer FORMERR.
 */
export function scan(packet: Uint8Array): ScanResult {
  const len = packet.length;
  if (len < 12)
    return failure(packet, `packet is ${len} bytes, shorter than the 12-byte header`, 0);
  const flags = (packet[2] << 8) | packet[3];
  const qdcount = (packet[4] << 8) | packet[5];
  const ancount = (packet[6] << 8) | packet[7];
  const nscount = (packet[8] << 8) | packet[9];
  const arcount = (packet[10] << 8) | packet[11];
  // Smallest question is 5 bytes, smallest RR 11: counts that cannot fit are rejected before
  // anything trusts them (dns-packet pre-allocates arrays from these counts).
  const minimum = qdcount * 5 + (ancount + nscount + arcount) * 11;
  if (minimum > len - 12) {
    return failure(
      packet,
      `header counts (qd=${qdcount} an=${ancount} ns=${nscount} ar=${arcount}) need at least ${minimum} bytes after the header, packet has ${len - 12}`,
      4,
    );
  }

  let pos = 12;
  let qname = '';
  let qtype = 0;
  let qclass = 0;
  let questionEnd = 12;
  for (let i = 0; i < qdcount; i++) {
    const end = readName(packet, pos, i === 0);
    if (end < 0) return nameFailure(packet, `question ${i + 1} name`);
    if (end + 4 > len) return failure(packet, `question ${i + 1} type/class cut off`, end);
    if (i === 0) {
      qname = collectedName();
      qtype = (packet[end] << 8) | packet[end + 1];
      qclass = (packet[end + 2] << 8) | packet[end + 3];
      questionEnd = end + 4;
    }
    pos = end + 4;
  }

  const rrs = ancount + nscount;
  for (let i = 0; i < rrs; i++) {
    pos = skipRecord(packet, pos);
    if (pos < 0) return recordFailure(packet, i < ancount ? 'answer' : 'authority', pos);
  }

  let edns: EdnsInfo | null = null;
  for (let i = 0; i < arcount; i++) {
    const start = pos;
    pos = skipRecord(packet, pos);
    if (pos < 0) return recordFailure(packet, 'additional', pos);
    // An OPT owner is the root, one zero byte: its TYPE sits at start + 1.
    if (packet[start] === 0 && packet[start + 1] === 0 && packet[start + 2] === 41) {
      if (edns !== null) return failure(packet, 'more than one OPT record', start);
      edns = {
        udpSize: (packet[start + 3] << 8) | packet[start + 4],
        extendedRcode: packet[start + 5],
        version: packet[start + 6],
        dnssecOk: (packet[start + 7] & 0x80) !== 0,
      };
    }
  }

  return {
    ok: true,
    query: {
      id: (packet[0] << 8) | packet[1],
      flags,
      qr: (flags & 0x8000) !== 0,
      opcode: (flags >> 11) & 0xf,
      rd: (flags & 0x0100) !== 0,
      cd: (flags & 0x0010) !== 0,
      qdcount,
      ancount,
      nscount,
      arcount,
      qname,
      questionStart: 12,
      questionEnd,
      qtype,
      qclass,
      edns,
      trailing: len - pos,
    },
  };
}

// skipRecord reports its failures as negative numbers so the loop stays allocation free.
const CUT_FIXED = -2;
const CUT_RDATA = -3;
const BAD_NAME = -1;
let cutOffset = 0;

/** Offset after the resource record at `pos`, or a negative code (see above). */
export function skipRecord(packet: Uint8Array, pos: number): number {
  const end = readName(packet, pos, false);
  if (end < 0) return BAD_NAME;
  if (end + 10 > packet.length) {
    cutOffset = end;
    return CUT_FIXED;
  }
  const next = end + 10 + ((packet[end + 8] << 8) | packet[end + 9]);
  if (next > packet.length) {
    cutOffset = end + 8;
    return CUT_RDATA;
  }
  return next;
}

function recordFailure(packet: Uint8Array, section: string, code: number): ScanResult {
  if (code === BAD_NAME) return nameFailure(packet, `${section} record name`);
  if (code === CUT_FIXED)
    return failure(packet, `${section} record type/class/ttl cut off`, cutOffset);
  return failure(packet, `${section} record RDATA runs past the end of the packet`, cutOffset);
}
