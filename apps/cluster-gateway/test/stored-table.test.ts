import {
  buildResponse,
  patchStored,
  prepareStored,
  type ResponseParts,
  type StoredAnswer,
  scan,
} from '@mdns/protocol';
import { describe, expect, it } from 'vitest';
import { StoredAnswerTable } from '../src/dns/stored-table.js';
import { queryBytes } from './support/query.js';

const A = 1;
const TXT = 16;

function prepared(name: string, parts: Omit<ResponseParts, 'rcode' | 'aa'>, type = 'A') {
  const bytes = queryBytes(name, type);
  const scanned = scan(bytes);
  if (!scanned.ok) throw new Error(scanned.error);
  return prepareStored(
    buildResponse(scanned.query, bytes, { rcode: 0, aa: true, ...parts }, { maxSize: 65535 }),
  );
}

function aAnswer(name: string, ip: string): StoredAnswer {
  return prepared(name, { answers: [{ name, type: 'A', class: 'IN', ttl: 60, data: ip }] });
}

/** What a client gets for `name` from the table and from the original answer, side by side. */
function bothServe(
  table: StoredAnswerTable,
  slot: number,
  original: StoredAnswer,
  name: string,
  type: string,
  maxSize: number,
  edns: boolean,
) {
  const bytes = queryBytes(name, type, { id: 4242, edns: edns ? { dnssecOk: true } : null });
  const scanned = scan(bytes);
  if (!scanned.ok) throw new Error(scanned.error);
  const options = { elapsedSeconds: 7, maxSize, serverUdpSize: 1232 };
  return {
    table: Buffer.from(table.patch(slot, scanned.query, bytes, options)),
    original: Buffer.from(patchStored(original, scanned.query, bytes, options)),
  };
}

describe('StoredAnswerTable', () => {
  it('serves byte-identical answers to patchStored, one layout for answers of one shape', () => {
    const t = new StoredAnswerTable();
    const a = aAnswer('aa.zone.tld', '10.0.0.1');
    const b = aAnswer('bb.zone.tld', '10.0.0.2');
    const sa = t.add(A, 'aa.zone.tld', a, 'zone.tld', 200);
    const sb = t.add(A, 'bb.zone.tld', b, 'other.tld', 200);
    expect(t.find(A, 'aa.zone.tld')).toBe(sa);
    expect(t.find(A, 'bb.zone.tld')).toBe(sb);
    expect(t.find(TXT, 'aa.zone.tld')).toBe(-1);
    expect(t.find(A, 'cc.zone.tld')).toBe(-1);
    expect(t.count).toBe(2);
    expect(t.bytes).toBe(a.bytes.length + b.bytes.length + 400);
    expect(t.zoneOf(sa)).toBe('zone.tld');
    expect(t.zoneOf(sb)).toBe('other.tld');
    expect(t.rcodeOf(sa)).toBe(0);
    // Same name length and TTL: one layout object, and it holds no bytes.
    expect(t.layoutOf(sb)).toBe(t.layoutOf(sa));
    expect(Object.keys(t.layoutOf(sa))).not.toContain('bytes');
    expect(Buffer.from(t.bytesOf(sa)).equals(a.bytes)).toBe(true);
    expect(Buffer.from(t.bytesOf(sb)).equals(b.bytes)).toBe(true);
    // Both sit in one arena chunk, at different places.
    expect(t.bytesOf(sb).buffer).toBe(t.bytesOf(sa).buffer);
    expect(t.bytesOf(sb).byteOffset).toBeGreaterThan(0);
    for (const edns of [false, true]) {
      const r = bothServe(t, sb, b, 'BB.Zone.TLD', 'A', 512, edns);
      expect(r.table.equals(r.original)).toBe(true);
    }
  });

  it('many answers over several chunks, a large one and truncation stay byte-identical', () => {
    const t = new StoredAnswerTable();
    const originals: Array<[string, StoredAnswer, number]> = [];
    for (let i = 0; i < 3000; i++) {
      const name = `host-${i}.zone.tld`;
      const s = aAnswer(name, `10.2.${i >> 8}.${i & 255}`);
      originals.push([name, s, t.add(A, name, s, 'zone.tld', 0)]);
    }
    // 3000 answers of ~50 bytes: more than one 64 KB chunk.
    expect(t.bytesOf(originals[2999][2]).buffer).not.toBe(t.bytesOf(originals[0][2]).buffer);
    // Larger than a quarter chunk: its own memory; many RRsets: truncation at a cut.
    const big = 'big.zone.tld';
    const bigAnswer = prepared(
      big,
      {
        answers: Array.from({ length: 90 }, (_, i) => ({
          name: `${big}`,
          type: 'TXT' as const,
          class: 'IN' as const,
          ttl: 30 + (i % 3),
          data: ['x'.repeat(200), `${i}`],
        })),
      },
      'TXT',
    );
    expect(bigAnswer.bytes.length).toBeGreaterThan(16 * 1024);
    const bigSlot = t.add(TXT, big, bigAnswer, 'zone.tld', 0);
    expect(t.bytesOf(bigSlot).byteOffset).toBe(0);
    for (const [name, s, slot] of originals.filter((_, i) => i % 97 === 0)) {
      const r = bothServe(t, slot, s, name, 'A', 512, true);
      expect(r.table.equals(r.original)).toBe(true);
    }
    for (const maxSize of [512, 1232, 65535]) {
      for (const edns of [false, true]) {
        const r = bothServe(t, bigSlot, bigAnswer, big, 'TXT', maxSize, edns);
        expect(r.table.equals(r.original)).toBe(true);
      }
    }
  });

  it('adopt copies an answer from another table (old half to young)', () => {
    const old = new StoredAnswerTable();
    const young = new StoredAnswerTable();
    const a = aAnswer('aa.zone.tld', '10.0.0.1');
    const b = aAnswer('b.zone.tld', '10.0.0.9');
    old.add(A, 'b.zone.tld', b, 'zone.tld', 200);
    const from = old.add(A, 'aa.zone.tld', a, 'zone.tld', 200);
    const slot = young.adopt(old, from, A, 'aa.zone.tld', 200);
    expect(young.find(A, 'aa.zone.tld')).toBe(slot);
    expect(young.count).toBe(1);
    expect(young.zoneOf(slot)).toBe('zone.tld');
    expect(Buffer.from(young.bytesOf(slot)).equals(a.bytes)).toBe(true);
    expect(young.bytesOf(slot).buffer).not.toBe(old.bytesOf(from).buffer);
    const r = bothServe(young, slot, a, 'aa.zone.tld', 'A', 512, true);
    expect(r.table.equals(r.original)).toBe(true);
  });
});
