import { typeName } from '../constants.js';
import { type DnsQuestion, type DnsRecord, encode } from '../message.js';
import type { ScannedQuery } from '../scan.js';
import type { JournalEntry } from './journal.js';

/** The zone's SOA with another serial (the versions an IXFR names). */
export function soaWithSerial(soa: DnsRecord, serial: number): DnsRecord {
  const data = (soa as unknown as { data: Record<string, unknown> }).data;
  return { ...soa, data: { ...data, serial } } as DnsRecord;
}

/** AXFR (RFC 5936 2.2): SOA, every other record, SOA. */
export function axfrRecords(soa: DnsRecord, records: readonly DnsRecord[]): DnsRecord[] {
  return [soa, ...records, soa];
}

/**
 * IXFR (RFC 1995 4) from journal entries: the new SOA, then per entry the old SOA, its
 * deletions, the new SOA, its additions; the new SOA last. No entries (the client is up to
 * date): the current SOA alone.
 */
export function ixfrRecords(soa: DnsRecord, entries: readonly JournalEntry[]): DnsRecord[] {
  if (entries.length === 0) return [soa];
  const out: DnsRecord[] = [soa];
  for (const e of entries) {
    out.push(soaWithSerial(soa, e.from), ...e.deleted, soaWithSerial(soa, e.to), ...e.added);
  }
  out.push(soa);
  return out;
}

/** Header + question of a message; a record is measured by encoding it alone (upper bound). */
const HEADER = 12;

/**
 * Splits a transfer's records into response messages of at most `maxMessageBytes` each
 * (every message: the query's ID, QR, AA, the question echoed, name compression within the
 * message). `reserveBytes` leaves room for a TSIG record. A record alone over the budget
 * still gets its own message (up to 65535 bytes) rather than being dropped.
 */
export function transferMessages(
  query: ScannedQuery,
  records: readonly DnsRecord[],
  options: { maxMessageBytes: number; reserveBytes?: number },
): Uint8Array[] {
  const question = {
    name: query.qname,
    type: typeName(query.qtype) as DnsQuestion['type'],
    class: 'IN' as const,
  };
  const questionBytes = query.qname.length + 2 + 4;
  const budget = options.maxMessageBytes - (options.reserveBytes ?? 0) - HEADER - questionBytes;
  const messages: Uint8Array[] = [];
  let chunk: DnsRecord[] = [];
  let size = 0;
  const flush = () => {
    messages.push(
      encode({
        id: query.id,
        type: 'response',
        flags: 0x0400,
        questions: [question],
        answers: chunk,
      }),
    );
    chunk = [];
    size = 0;
  };
  for (const r of records) {
    const own = recordSizeBound(r);
    if (chunk.length > 0 && size + own > budget) flush();
    chunk.push(r);
    size += own;
  }
  if (chunk.length > 0 || messages.length === 0) flush();
  return messages;
}

const textBytes = (t: unknown): number =>
  typeof t === 'string' ? Buffer.byteLength(t) : t instanceof Uint8Array ? t.length : 0;
/** Presentation form is never shorter than the wire form (escapes only lengthen it). */
const nameBound = (n: unknown): number => (typeof n === 'string' ? n.length + 2 : 256);

/**
 * An upper bound of a record's size on the wire without compression: owner, the 10 fixed
 * bytes, the RDATA by type. Types without a rule are measured by encoding them alone.
 */
export function recordSizeBound(record: DnsRecord): number {
  const r = record as { name: string; type: string; data: unknown };
  const d = r.data as Record<string, unknown>;
  let rdata: number;
  switch (r.type) {
    case 'A':
      rdata = 4;
      break;
    case 'AAAA':
      rdata = 16;
      break;
    case 'CNAME':
    case 'NS':
    case 'PTR':
      rdata = nameBound(r.data);
      break;
    case 'MX':
      rdata = 2 + nameBound(d.exchange);
      break;
    case 'SRV':
      rdata = 6 + nameBound(d.target);
      break;
    case 'SOA':
      rdata = nameBound(d.mname) + nameBound(d.rname) + 20;
      break;
    case 'TXT': {
      const parts = Array.isArray(r.data) ? r.data : [r.data];
      // A string over 255 bytes is split: one length byte per 255 bytes at most, plus one.
      rdata = parts.reduce(
        (n: number, p) => n + textBytes(p) + Math.ceil(textBytes(p) / 255) + 1,
        0,
      );
      break;
    }
    default:
      return encode({ answers: [record] }).length - HEADER;
  }
  return nameBound(r.name) + 10 + rdata;
}
