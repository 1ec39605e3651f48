import type { Answer, DecodedPacket, Packet, Question } from 'dns-packet';
import dnsPacket from 'dns-packet';
import { typeNumber } from './constants.js';
import { classNumber, EncodeError, WireWriter } from './private/wire-writer.js';
import { scan } from './scan.js';

export { EncodeError };

/** A DNS message in dns-packet's shape: `{ id, type, flags, questions, answers, ... }`. */
export type DnsMessage = Packet;
/** One resource record in dns-packet's shape: `{ name, type: 'A', ttl, class?, data }`. */
export type DnsRecord = Answer;
export type DnsQuestion = Question;
/** What `decode` returns: dns-packet's decoded packet, with rcode and opcode as mnemonics. */
export type DecodedMessage = DecodedPacket & { rcode: string; opcode: string };

export type DecodeResult =
  | { ok: true; message: DecodedMessage }
  | { ok: false; error: string; offset?: number };

/**
 * Full decode through dns-packet, guarded: the structure (header counts against the packet
 * length, every name, every RDLENGTH) is checked first by `scan`, so dns-packet never
 * allocates from a lying count, and anything it still throws becomes an error value.
 */
export function decode(bytes: Uint8Array): DecodeResult {
  const checked = scan(bytes);
  if (!checked.ok) return { ok: false, error: checked.error, offset: checked.offset };
  const buf = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  try {
    return { ok: true, message: dnsPacket.decode(buf) as DecodedMessage };
  } catch (e) {
    return { ok: false, error: `RDATA does not decode: ${(e as Error).message}` };
  }
}

/**
 * Encodes a message with name compression (dns-packet's own encoder has none). Names
 * compress only against byte-identical earlier names, so decode(encode(m)) gives back the
 * same names, case included. The header `flags` carry opcode and rcode as in dns-packet.
 * Throws `EncodeError` (naming the record and field) for data that cannot be encoded.
 */
export function encode(message: DnsMessage): Uint8Array {
  const w = new WireWriter(false);
  const questions = message.questions ?? [];
  const answers = message.answers ?? [];
  const authorities = message.authorities ?? [];
  const additionals = message.additionals ?? [];
  w.u16(message.id ?? 0);
  w.u16(((message.flags ?? 0) & 0x7fff) | (message.type === 'response' ? 0x8000 : 0));
  w.u16(questions.length);
  w.u16(answers.length);
  w.u16(authorities.length);
  w.u16(additionals.length);
  for (const q of questions) writeQuestion(w, q);
  for (const section of [answers, authorities, additionals]) {
    for (const rec of section) w.record(rec);
  }
  return w.buf.subarray(0, w.pos);
}

function writeQuestion(w: WireWriter, q: Question): void {
  const type = typeNumber(String(q.type));
  if (type === undefined)
    throw new EncodeError(`question ${JSON.stringify(q.name)}: unknown type ${q.type}`);
  w.name(q.name, true);
  w.u16(type);
  w.u16(classNumber(q.class));
}

/** Where `flatRecord` leaves its reads. */
let _flatReads = 0;

/**
 * Makes the strings of a decoded record flat, in place, and returns it: for a record kept as
 * long as a zone copy is (a transfer's records). dns-packet builds names and addresses by
 * concatenation, which JavaScriptCore keeps as ropes holding every piece (each label, each
 * octet) until the string is first read: a 3 × 20k-name copy held 120k such pieces, ~5 MB
 * of heap and ~9 MB of RSS on Bun. Reading one character flattens a rope (and a V8 cons
 * string). The name, string data, and the string fields of object data (SOA, MX, SRV, ...).
 */
export function flatRecord(record: DnsRecord): DnsRecord {
  const r = record as { name: string; data?: unknown };
  let read = r.name.charCodeAt(0);
  const data = r.data;
  if (typeof data === 'string') read ^= data.charCodeAt(0);
  else if (data !== null && typeof data === 'object' && !ArrayBuffer.isView(data)) {
    for (const value of Object.values(data)) {
      if (typeof value === 'string') read ^= value.charCodeAt(0);
    }
  }
  // Kept where the optimizer cannot prove the reads unused.
  _flatReads ^= read | 0;
  return record;
}
