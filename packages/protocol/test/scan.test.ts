import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encode,
  normalizeName,
  queryNameCacheSlots,
  scan,
  setQueryNameCacheSlots,
  typeNumber,
} from '../src/index.js';
import { query } from './support/arbitraries.js';

const CLASSES: Record<string, number> = { IN: 1, CS: 2, CH: 3, HS: 4, ANY: 255 };
const classNumber = (c: string) => CLASSES[c] ?? Number(c.replace('UNKNOWN_', ''));

function buildQuery(q: fc.Arbitrary<any> extends fc.Arbitrary<infer T> ? T : never) {
  return {
    type: 'query' as const,
    id: q.id,
    flags: q.flags,
    questions: [{ name: q.qname, type: `TYPE${q.qtype}`, class: `CLASS${q.qclass}` }],
    answers: q.answers,
    additionals: q.opt ? [q.opt] : [],
  };
}

describe('scan equals a full decode on valid messages', () => {
  it('id, flags, qname, qtype, qclass, EDNS (compressed and uncompressed encodings)', () => {
    fc.assert(
      fc.property(query, fc.boolean(), (q, compressed) => {
        const m = buildQuery(q as any);
        // Our encoder compresses; dns-packet's does not: scan must agree with both.
        const bytes = compressed
          ? encode(m as any)
          : dnsPacket.encode({ ...(m as any), questions: [{ name: q.qname, type: 'A' }] });
        if (!compressed) {
          bytes[bytes.indexOf(0, 12) + 1] = q.qtype >> 8; // patch qtype/qclass the encoder could not name
          bytes[bytes.indexOf(0, 12) + 2] = q.qtype & 0xff;
          bytes[bytes.indexOf(0, 12) + 3] = q.qclass >> 8;
          bytes[bytes.indexOf(0, 12) + 4] = q.qclass & 0xff;
        }
        const full = dnsPacket.decode(Buffer.from(bytes)) as any;
        const r = scan(bytes);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        const s = r.query;
        expect(s.id).toBe(full.id);
        expect(s.flags & 0x7fff).toBe(full.flags);
        expect(s.qr).toBe(full.flag_qr);
        expect(s.rd).toBe(full.flag_rd);
        expect(s.cd).toBe(full.flag_cd);
        expect(s.qname).toBe(normalizeName(full.questions[0].name));
        expect(s.qtype).toBe(typeNumber(full.questions[0].type));
        expect(s.qclass).toBe(classNumber(full.questions[0].class));
        expect(s.ancount).toBe(full.answers.length);
        const opt = full.additionals.find((a: any) => a.type === 'OPT');
        if (opt) {
          expect(s.edns).toEqual({
            udpSize: opt.udpPayloadSize,
            version: opt.ednsVersion,
            dnssecOk: opt.flag_do,
            extendedRcode: opt.extendedRcode,
          });
        } else {
          expect(s.edns).toBeNull();
        }
        expect(
          Buffer.from(bytes.subarray(s.questionStart, s.questionEnd - 4))
            .toString('latin1')
            .toLowerCase(),
        ).toContain(s.qname.split('.')[0]);
      }),
      { numRuns: 500 },
    );
  });
});

/** Header + given body bytes, with counts. */
function packet(counts: [number, number, number, number], ...body: number[]): Uint8Array {
  const [qd, an, ns, ar] = counts;
  return new Uint8Array([0xab, 0xcd, 0x01, 0x00, 0, qd, 0, an, 0, ns, 0, ar, ...body]);
}

const WWW = [3, 0x77, 0x77, 0x77, 0];

describe('scan rejects malformed packets with what and where', () => {
  it('short header', () => {
    expect(scan(new Uint8Array(5))).toMatchObject({ ok: false, offset: 0, id: 0 });
  });
  it('counts larger than the packet could hold', () => {
    const r = scan(packet([1, 0, 0, 200], ...WWW, 0, 1, 0, 1));
    expect(r).toMatchObject({ ok: false, offset: 4, id: 0xabcd });
  });
  it('label over 63 (0x40 length byte)', () => {
    expect(
      scan(packet([1, 0, 0, 0], 0x40, ...new Array(70).fill(0x61), 0, 0, 1, 0, 1)),
    ).toMatchObject({
      ok: false,
      offset: 12,
      error: expect.stringMatching(/over 63/),
    });
  });
  it('name over 255 octets', () => {
    const labels: number[] = [];
    for (let i = 0; i < 5; i++) labels.push(60, ...new Array(60).fill(0x61));
    expect(scan(packet([1, 0, 0, 0], ...labels, 0, 0, 1, 0, 1))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/255/),
    });
  });
  it('forward and self pointers, pointer loops, pointers into the header', () => {
    expect(scan(packet([1, 0, 0, 0], 0xc0, 12, 0, 1, 0, 1))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/strictly backward/),
    });
    expect(scan(packet([1, 0, 0, 0], 0xc0, 14, 0, 0, 1, 0, 1))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/strictly backward/),
    });
    expect(scan(packet([1, 0, 0, 0], 0xc0, 2, 0, 1, 0, 1))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/header/),
    });
    // "a" then a pointer back to "a": the classic loop that backward-only checks miss.
    expect(scan(packet([1, 0, 0, 0], 1, 0x61, 0xc0, 12, 0, 1, 0, 1))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/strictly backward/),
    });
  });
  it('truncated question and truncated RDATA', () => {
    expect(scan(packet([1, 0, 0, 0], ...WWW, 0, 1))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/cut off/),
    });
    expect(
      scan(packet([1, 0, 0, 1], ...WWW, 0, 1, 0, 1, 0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 9, 1)),
    ).toMatchObject({
      ok: false,
      error: expect.stringMatching(/RDATA/),
    });
  });
  it('a second OPT', () => {
    const opt = [0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0];
    expect(scan(packet([1, 0, 0, 2], ...WWW, 0, 1, 0, 1, ...opt, ...opt))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/more than one OPT/),
    });
  });
});

describe('scan odd but valid queries', () => {
  it('QDCOUNT 0 and 2 still scan (the caller answers FORMERR)', () => {
    expect(scan(packet([0, 0, 0, 0]))).toMatchObject({
      ok: true,
      query: { qdcount: 0, qname: '', questionEnd: 12 },
    });
    const two = scan(packet([2, 0, 0, 0], ...WWW, 0, 1, 0, 1, 1, 0x61, 0, 0, 28, 0, 1));
    expect(two).toMatchObject({
      ok: true,
      query: { qdcount: 2, qname: 'www', qtype: 1, questionEnd: 21 },
    });
  });
  it('counts the bytes after the last record (the shared rules answer FORMERR)', () => {
    const query = [...WWW, 0, 1, 0, 1];
    expect(scan(packet([1, 0, 0, 0], ...query))).toMatchObject({
      ok: true,
      query: { trailing: 0 },
    });
    expect(scan(packet([1, 0, 0, 0], ...query, 0xde, 0xad, 0xbe))).toMatchObject({
      ok: true,
      query: { qname: 'www', trailing: 3 },
    });
    const opt = [0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0];
    expect(scan(packet([1, 0, 0, 1], ...query, ...opt, 0))).toMatchObject({
      ok: true,
      query: { edns: { udpSize: 1232 }, trailing: 1 },
    });
  });
  it('escapes dots and odd bytes inside labels so they never alias plain names', () => {
    const r = scan(packet([1, 0, 0, 0], 3, 0x61, 0x2e, 0x62, 2, 0x20, 0xff, 0, 0, 1, 0, 1));
    expect(r).toMatchObject({ ok: true, query: { qname: 'a\\.b.\\032\\255' } });
  });
  it('names cached by their text: more names than cache slots, same lengths, one byte apart, case and escapes', () => {
    const label = (text: string) => [text.length, ...[...text].map((c) => c.charCodeAt(0))];
    const question = (labels: number[][]) => packet([1, 0, 0, 0], ...labels.flat(), 0, 0, 1, 0, 1);
    // 3 000 names of one length (a slot holds one name: most collide with another), each
    // asked twice in different orders, plus names one byte apart and one with an odd byte.
    const names = Array.from({ length: 3000 }, (_, i) => `n${String(i).padStart(4, '0')}`);
    for (const order of [names, [...names].reverse()]) {
      for (const n of order) {
        const r = scan(question([label(n), label('example')]));
        expect(r.ok && r.query.qname).toBe(`${n}.example`);
      }
    }
    expect(scan(question([label('ABc')]))).toMatchObject({ query: { qname: 'abc' } });
    expect(scan(question([label('abd')]))).toMatchObject({ query: { qname: 'abd' } });
    expect(scan(question([[3, 0x61, 0x62, 0xe9]]))).toMatchObject({
      query: { qname: 'ab\\233' },
    });
    expect(scan(question([[3, 0x61, 0x62, 0xe9]]))).toMatchObject({
      query: { qname: 'ab\\233' },
    });
  });
  it('the name cache can be sized: a power of two up to 2^20, names right at any size', () => {
    const label = (text: string) => [text.length, ...[...text].map((c) => c.charCodeAt(0))];
    const question = (labels: number[][]) => packet([1, 0, 0, 0], ...labels.flat(), 0, 0, 1, 0, 1);
    expect(queryNameCacheSlots()).toBe(8192);
    for (const bad of [0, 3, 1000, 2 ** 21, 1.5, Number.NaN]) {
      expect(() => setQueryNameCacheSlots(bad)).toThrow(
        new RegExp(`power of two from 1 to 1048576, got ${bad}`),
      );
    }
    try {
      for (const slots of [1, 8192]) {
        setQueryNameCacheSlots(slots);
        expect(queryNameCacheSlots()).toBe(slots);
        for (let round = 0; round < 2; round++) {
          for (let i = 0; i < 3000; i++) {
            const r = scan(question([label(`h${i}`), label('zone')]));
            expect(r.ok && r.query.qname).toBe(`h${i}.zone`);
          }
        }
      }
    } finally {
      setQueryNameCacheSlots(1024);
    }
  });
  it('finds the OPT after answer/authority records', () => {
    const bytes = encode({
      type: 'query',
      questions: [{ name: 'Www.Example.Tld', type: 'A' }],
      answers: [{ name: 'www.example.tld', type: 'A', ttl: 1, data: '192.0.2.1' }],
      authorities: [{ name: 'example.tld', type: 'NS', ttl: 1, data: 'ns.example.tld' }],
      additionals: [
        { name: 'ns.example.tld', type: 'A', ttl: 1, data: '192.0.2.2' },
        {
          name: '.',
          type: 'OPT',
          udpPayloadSize: 4096,
          flags: 0x8000,
          ednsVersion: 0,
          extendedRcode: 0,
          options: [],
        } as any,
      ],
    });
    expect(scan(bytes)).toMatchObject({
      ok: true,
      query: { qname: 'www.example.tld', edns: { udpSize: 4096, dnssecOk: true, version: 0 } },
    });
  });
});
