import { randomFillSync, randomInt } from 'node:crypto';

export interface QuerySpec {
  id: number;
  /** Presentation form; a trailing dot is optional; '' or '.' is the root. */
  name: string;
  qtype: number;
  qclass: number;
  rd: boolean;
  /** EDNS(0) OPT record to add, or null for a plain RFC 1035 query. */
  edns: { udpSize: number; dnssecOk: boolean } | null;
}

/** A query ID from the CSPRNG: predictable IDs make spoofed replies easy (RFC 5452). */
export function randomQueryId(): number {
  return randomInt(0, 0x10000);
}

/**
 * Wire bytes for a one-question query, or an error naming what is wrong.
 * Built by hand because a query is a fixed layout: header, QNAME, QTYPE,
 * QCLASS and an optional 11-byte OPT record.
 */
export function buildQuery(spec: QuerySpec): Uint8Array | string {
  const qname = encodeName(spec.name);
  if (typeof qname === 'string') return qname;
  if (!isUint16(spec.qtype)) return `qtype ${spec.qtype} is not 0..65535`;
  if (!isUint16(spec.qclass)) return `qclass ${spec.qclass} is not 0..65535`;
  if (spec.edns && (!isUint16(spec.edns.udpSize) || spec.edns.udpSize < 512)) {
    return `udpSize ${spec.edns.udpSize} is not 512..65535`;
  }
  const optLength = spec.edns ? 11 : 0;
  const out = new Uint8Array(12 + qname.length + 4 + optLength);
  const view = new DataView(out.buffer);
  view.setUint16(0, spec.id);
  view.setUint16(2, spec.rd ? 0x0100 : 0);
  view.setUint16(4, 1); // QDCOUNT
  view.setUint16(10, spec.edns ? 1 : 0); // ARCOUNT
  out.set(qname, 12);
  let at = 12 + qname.length;
  view.setUint16(at, spec.qtype);
  view.setUint16(at + 2, spec.qclass);
  at += 4;
  if (spec.edns) {
    // OPT: root owner, TYPE 41, CLASS = UDP payload size, TTL = ext-rcode|version|DO|Z, RDLEN 0.
    out[at] = 0;
    view.setUint16(at + 1, 41);
    view.setUint16(at + 3, spec.edns.udpSize);
    view.setUint16(at + 7, spec.edns.dnssecOk ? 0x8000 : 0);
  }
  return out;
}

/** Uncompressed wire form of a name, or an error. Escapes (`\.`) are not supported. */
export function encodeName(name: string): Uint8Array | string {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed === '') return new Uint8Array([0]);
  const labels = trimmed.split('.');
  let length = 1;
  for (const label of labels) {
    if (label.length === 0) return `name "${name}" has an empty label`;
    if (label.length > 63) return `name "${name}" has a label longer than 63 bytes`;
    length += 1 + label.length;
  }
  if (length > 255) return `name "${name}" is longer than 255 bytes on the wire`;
  const out = new Uint8Array(length);
  let at = 0;
  for (const label of labels) {
    out[at++] = label.length;
    for (let i = 0; i < label.length; i++) {
      const code = label.charCodeAt(i);
      if (code > 0x7e || code < 0x21) return `name "${name}" has a non-printable or non-ASCII byte`;
      out[at++] = code;
    }
  }
  out[at] = 0;
  return out;
}

function isUint16(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff;
}

// Case bits drawn in batches too: one random bit per letter of each randomized name.
const CASE_BATCH = 1024;
const caseBatch = new Uint8Array(CASE_BATCH);
let caseNext = CASE_BATCH;

/**
 * Randomizes the case of the ASCII letters of the wire-format name in `packet[start, end)`
 * in place (0x20: each letter is one more bit a spoofer must guess). Label length bytes are
 * skipped.
 */
export function randomizeCase(packet: Uint8Array, start: number, end: number): void {
  let at = start;
  while (at < end) {
    const len = packet[at];
    if (len === 0) return;
    for (let i = at + 1; i <= at + len && i < end; i++) {
      const c = packet[i] | 0x20;
      if (c < 0x61 || c > 0x7a) continue;
      if (caseNext === CASE_BATCH) {
        randomFillSync(caseBatch);
        caseNext = 0;
      }
      packet[i] = (caseBatch[caseNext++] & 1) === 0 ? c : c & ~0x20;
    }
    at += len + 1;
  }
}

// IDs drawn in batches from the CSPRNG: one `randomFillSync` per 2048 queries instead of a
// `randomInt` call per query on the pooled client's hot path. Same entropy per ID.
const ID_BATCH = 2048;
const idBatch = new Uint16Array(ID_BATCH);
let idNext = ID_BATCH;

/** A CSPRNG query ID, from a batch refilled every 2048 calls. */
export function nextQueryId(): number {
  if (idNext === ID_BATCH) {
    randomFillSync(idBatch);
    idNext = 0;
  }
  return idBatch[idNext++];
}
