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
