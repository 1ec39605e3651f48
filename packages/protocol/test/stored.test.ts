import { describe, expect, it } from 'vitest';
import type { DecodedMessage, DnsRecord } from '../src/index.js';
import {
  buildResponse,
  decode,
  negativeSoa,
  patchStored,
  patchStoredFrom,
  prepareStored,
  RCODE,
  tryPrepareStored,
} from '../src/index.js';
import { makeQuery } from './support/query.js';

function decoded(bytes: Uint8Array): DecodedMessage {
  const r = decode(bytes);
  if (!r.ok) throw new Error(r.error);
  return r.message;
}

const a = (name: string, ip: string, ttl: number): DnsRecord => ({
  name,
  type: 'A',
  class: 'IN',
  ttl,
  data: ip,
});

/** A reply as the authority would store it: built for an upstream-style lowercase query. */
function storedReply(
  answers: DnsRecord[],
  extra: { authorities?: DnsRecord[]; rcode?: number } = {},
) {
  const { bytes, query } = makeQuery({ name: 'www.example.tld', edns: { udpSize: 1232 } });
  return buildResponse(
    query,
    bytes,
    { rcode: extra.rcode ?? 0, aa: true, answers, authorities: extra.authorities },
    { maxSize: 65535 },
  );
}

describe('prepareStored', () => {
  it('strips the OPT, records TTL offsets, RRset cuts and the minimum TTL', () => {
    const stored = prepareStored(
      storedReply([
        a('www.example.tld', '192.0.2.1', 300),
        a('www.example.tld', '192.0.2.2', 300),
        { name: 'www.example.tld', type: 'TXT', ttl: 100, data: 'x' },
      ]),
    );
    expect(stored.arcount).toBe(0);
    expect(stored.ancount).toBe(3);
    expect(Array.from(stored.ttls)).toEqual([300, 300, 100]);
    expect(stored.minTtl).toBe(100);
    expect(stored.cuts.length / 4).toBe(3); // after question, after the A RRset, after TXT
    expect(decoded(stored.bytes).additionals).toEqual([]);
  });
  it('rejects bytes that are not a reply, as a value or a RangeError', () => {
    expect(tryPrepareStored(new Uint8Array(4))).toMatchObject({ ok: false, offset: 0 });
    expect(() => prepareStored(new Uint8Array([0, 0, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5]))).toThrow(
      RangeError,
    );
  });
});

describe('patchStored', () => {
  const stored = prepareStored(
    storedReply([a('www.example.tld', '192.0.2.1', 300), a('www.example.tld', '192.0.2.2', 300)], {
      authorities: [],
    }),
  );

  it('new ID, client question case, RD/CD from the query, TTLs aged', () => {
    const { bytes, query } = makeQuery({
      name: 'WWW.example.TLD',
      id: 777,
      flags: 0x0010,
      edns: null,
    });
    const m = decoded(patchStored(stored, query, bytes, { elapsedSeconds: 42.9, maxSize: 512 }));
    expect(m.id).toBe(777);
    expect(m.questions![0].name).toBe('WWW.example.TLD');
    expect(m.answers![0].name).toBe('WWW.example.TLD'); // pointer onto the question
    expect(m).toMatchObject({
      flag_rd: false,
      flag_cd: true,
      flag_aa: true,
      flag_tc: false,
      flag_ra: false,
    });
    expect(m.answers!.map((r: any) => r.ttl)).toEqual([258, 258]);
    expect(m.additionals).toEqual([]);
  });

  it('TTLs never go below 0; ttlOverride wins (serve-stale)', () => {
    const { bytes, query } = makeQuery({ name: 'www.example.tld', edns: null });
    expect(
      decoded(
        patchStored(stored, query, bytes, { elapsedSeconds: 1e6, maxSize: 512 }),
      ).answers!.map((r: any) => r.ttl),
    ).toEqual([0, 0]);
    expect(
      decoded(
        patchStored(stored, query, bytes, { elapsedSeconds: 1e6, ttlOverride: 30, maxSize: 512 }),
      ).answers!.map((r: any) => r.ttl),
    ).toEqual([30, 30]);
  });

  it("appends the client's OPT with our UDP size and DO echoed", () => {
    const { bytes, query } = makeQuery({
      name: 'www.example.tld',
      edns: { udpSize: 4096, do: true },
    });
    const m = decoded(
      patchStored(stored, query, bytes, { elapsedSeconds: 0, maxSize: 1232, serverUdpSize: 1300 }),
    );
    expect(m.additionals).toEqual([
      {
        name: '.',
        type: 'OPT',
        udpPayloadSize: 1300,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: 0x8000,
        flag_do: true,
        options: [],
      },
    ]);
  });

  it('EDNS version 1 gets BADVERS, not the stored answer', () => {
    const { bytes, query } = makeQuery({ name: 'www.example.tld', edns: { version: 1 } });
    const reply = patchStored(stored, query, bytes, { elapsedSeconds: 0, maxSize: 1232 });
    const m = decoded(reply);
    expect(m.answers).toEqual([]);
    expect((m.additionals![0] as any).extendedRcode * 16 + (reply[3] & 0xf)).toBe(RCODE.BADVERS);
  });

  it('truncates at a precomputed RRset boundary with TC=1 and keeps the OPT', () => {
    const answers = [
      ...Array.from({ length: 10 }, (_, i) => a('www.example.tld', `192.0.2.${i}`, 60)),
      ...Array.from({ length: 30 }, (_, i) => a('x.example.tld', `198.51.100.${i}`, 60)),
    ];
    const big = prepareStored(storedReply(answers));
    const { bytes, query } = makeQuery({ name: 'www.example.tld', edns: { udpSize: 512 } });
    const reply = patchStored(big, query, bytes, { elapsedSeconds: 0, maxSize: 512 });
    expect(reply.length).toBeLessThanOrEqual(512);
    const m = decoded(reply);
    expect(m.flag_tc).toBe(true);
    expect(m.answers).toHaveLength(10);
    expect(m.additionals!.map((r) => r.type)).toEqual(['OPT']);
    const full = decoded(patchStored(big, query, bytes, { elapsedSeconds: 0, maxSize: 65535 }));
    expect(full.answers).toHaveLength(40);
    expect(full.flag_tc).toBe(false);
  });

  it('negative answers keep rcode and the SOA, TTL aged', () => {
    const soa = negativeSoa({
      zone: 'example.tld',
      soa: {
        mname: 'ns1.example.tld',
        rname: 'h.example.tld',
        serial: 1,
        refresh: 1,
        retry: 1,
        expire: 1,
        minimum: 60,
      },
      soaTtl: 3600,
      ns: [],
      nsTtl: 0,
      glue: new Map(),
    });
    const neg = prepareStored(storedReply([], { rcode: RCODE.NXDOMAIN, authorities: [soa] }));
    expect(neg.minTtl).toBe(60);
    const { bytes, query } = makeQuery({ name: 'www.example.tld', edns: null });
    const m = decoded(patchStored(neg, query, bytes, { elapsedSeconds: 10, maxSize: 512 }));
    expect(m.rcode).toBe('NXDOMAIN');
    expect(m.authorities![0]).toMatchObject({ type: 'SOA', ttl: 50 });
  });

  it('writes into a caller buffer when it is large enough', () => {
    const out = new Uint8Array(2048);
    const { bytes, query } = makeQuery({ name: 'www.example.tld', edns: null });
    const reply = patchStored(stored, query, bytes, { elapsedSeconds: 0, maxSize: 512, out });
    expect(reply.buffer).toBe(out.buffer);
    expect(decoded(reply).answers).toHaveLength(2);
  });
});

describe('patchStoredFrom', () => {
  it('serves bytes kept at an offset in a larger buffer exactly as patchStored does', () => {
    const stored = prepareStored(
      storedReply(
        Array.from({ length: 80 }, (_, i) => a('www.example.tld', `10.0.0.${i}`, 60 + i)),
      ),
    );
    // The bytes 40 into an arena with other bytes around them; the layout alone, apart.
    const arena = new Uint8Array(stored.bytes.length + 80).fill(0xee);
    arena.set(stored.bytes, 40);
    // Over 1 KB: the native copy path as well as the byte loop (512).
    expect(stored.bytes.length).toBeGreaterThan(1024);
    const { bytes: _bytes, minTtl: _minTtl, ...layout } = stored;
    for (const edns of [null, { udpSize: 1232 }]) {
      for (const maxSize of [512, 65535]) {
        const { bytes, query } = makeQuery({ name: 'WWW.example.TLD', edns });
        const options = { elapsedSeconds: 3, maxSize };
        const want = Buffer.from(patchStored(stored, query, bytes, options));
        const got = patchStoredFrom(layout, arena, 40, stored.bytes.length, query, bytes, options);
        expect(Buffer.from(got).equals(want)).toBe(true);
      }
    }
  });
});
