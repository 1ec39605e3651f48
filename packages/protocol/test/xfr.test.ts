import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyDiff,
  axfrRecords,
  type DnsRecord,
  decode,
  diffRecords,
  encode,
  ixfrRecords,
  nextSerial,
  scan,
  serialAdd,
  serialCompare,
  type TsigKey,
  transferMessages,
  tsigSign,
  tsigVerify,
  ZoneJournal,
} from '../src/index.js';
import { recordSizeBound } from '../src/xfr/messages.js';

describe('RFC 1982 serial arithmetic', () => {
  it('compares across the wrap', () => {
    expect(serialCompare(1, 2)).toBe(-1);
    expect(serialCompare(2, 1)).toBe(1);
    expect(serialCompare(0xffffffff, 0)).toBe(-1);
    expect(serialCompare(0, 0xffffffff)).toBe(1);
    expect(serialCompare(5, 5)).toBe(0);
    expect(serialCompare(0, 2 ** 31)).toBeUndefined();
  });
  it('adds modulo 2^32 and rejects an increment over 2^31-1', () => {
    expect(serialAdd(0xffffffff, 1)).toBe(0);
    expect(() => serialAdd(1, 2 ** 31)).toThrow(/RFC 1982/);
  });
  it('the next serial is the time when it is newer, else previous + 1', () => {
    expect(nextSerial(100, 1_700_000_000)).toBe(1_700_000_000);
    expect(nextSerial(1_700_000_000, 1_700_000_000)).toBe(1_700_000_001);
    // A clock that stepped back never moves the serial backwards.
    expect(nextSerial(1_700_000_005, 1_700_000_000)).toBe(1_700_000_006);
    fc.assert(
      fc.property(fc.nat(0xffffffff), fc.nat(0xffffffff), (prev, now) => {
        expect(serialCompare(nextSerial(prev, now), prev)).toBe(1);
      }),
    );
  });
});

const key: TsigKey = {
  name: 'xfr-key',
  algorithm: 'hmac-sha256',
  secret: Buffer.from('c2VjcmV0LXNlY3JldC1zZWNyZXQ=', 'base64'),
};
const keys = (name: string) => (name === key.name ? key : undefined);
const NOW = 1_800_000_000;

function query(id = 0x1234): Uint8Array {
  return encode({
    id,
    type: 'query',
    flags: 0,
    questions: [{ name: 'example.tld', type: 'AXFR', class: 'IN' }],
  });
}

describe('TSIG (RFC 8945)', () => {
  for (const algorithm of ['hmac-sha256', 'hmac-sha512', 'hmac-sha1'] as const) {
    it(`${algorithm}: a signed message verifies and the TSIG is the last additional record`, () => {
      const k = { ...key, algorithm };
      const { bytes, mac } = tsigSign(query(), { key: k, timeSigned: NOW });
      const v = tsigVerify(bytes, { key: () => k, now: NOW + 10 });
      expect(v.ok).toBe(true);
      if (v.ok) expect(Buffer.from(v.mac)).toEqual(Buffer.from(mac));
      const d = decode(bytes);
      expect(d.ok && d.message.additionals?.length).toBe(1);
    });
  }

  it('verifying leaves the bytes as they came, also in a Buffer (whose slice is a view)', () => {
    // As a datagram arrives: a Buffer. A NOTIFY is checked once per upstream that may have
    // sent it (two upstreams behind one address); the second check failed with "bytes after
    // the last record" when the split wrote ARCOUNT into the caller's bytes.
    const { bytes } = tsigSign(query(), { key, timeSigned: NOW });
    const received = Buffer.from(bytes);
    const before = Buffer.from(received);
    expect(tsigVerify(received, { key: () => key, now: NOW }).ok).toBe(true);
    expect(received).toEqual(before);
    expect(tsigVerify(received, { key: () => key, now: NOW }).ok).toBe(true);
  });

  it('any byte flipped gives BADSIG (or no parse), never ok', () => {
    const { bytes } = tsigSign(query(), { key, timeSigned: NOW });
    // Not the header ID (the MAC covers the original ID, RFC 8945 4.3.2, so a forwarder may
    // rewrite it) nor a letter's case (names are compared in canonical lowercase).
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: bytes.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (at, x) => {
          fc.pre(x !== 0x20);
          const bad = Uint8Array.from(bytes);
          bad[at] ^= x;
          const v = tsigVerify(bad, { key: keys, now: NOW });
          expect(v.ok).toBe(false);
        },
      ),
    );
    // Flipping a byte of the question (a covered byte that keeps the message parseable).
    const bad = Uint8Array.from(bytes);
    bad[14] ^= 0x20;
    const v = tsigVerify(bad, { key: keys, now: NOW });
    expect(v.ok === false && v.failure).toBe('BADSIG');
  });

  it('a time outside the fudge gives BADTIME; an unknown key or algorithm BADKEY', () => {
    const { bytes } = tsigSign(query(), { key, timeSigned: NOW, fudge: 300 });
    const late = tsigVerify(bytes, { key: keys, now: NOW + 301 });
    expect(late.ok === false && late.failure).toBe('BADTIME');
    expect(tsigVerify(bytes, { key: keys, now: NOW - 300 }).ok).toBe(true);
    const unknown = tsigVerify(bytes, { key: () => undefined, now: NOW });
    expect(unknown.ok === false && unknown.failure).toBe('BADKEY');
    const otherAlg = tsigVerify(bytes, {
      key: () => ({ ...key, algorithm: 'hmac-sha512' }),
      now: NOW,
    });
    expect(otherAlg.ok === false && otherAlg.failure).toBe('BADKEY');
    const wrongSecret = tsigVerify(bytes, {
      key: () => ({ ...key, secret: Buffer.from('other') }),
      now: NOW,
    });
    expect(wrongSecret.ok === false && wrongSecret.failure).toBe('BADSIG');
  });

  it('an unsigned message is MISSING', () => {
    const v = tsigVerify(query(), { key: keys, now: NOW });
    expect(v.ok === false && v.failure).toBe('MISSING');
  });

  it('a response is bound to its request MAC; later messages chain on the previous MAC', () => {
    const req = tsigSign(query(), { key, timeSigned: NOW });
    const r1 = tsigSign(query(7), { key, timeSigned: NOW, requestMac: req.mac });
    expect(tsigVerify(r1.bytes, { key: keys, now: NOW, requestMac: req.mac }).ok).toBe(true);
    // Replayed as the answer to another request: BADSIG.
    const other = tsigSign(query(8), { key, timeSigned: NOW });
    const replay = tsigVerify(r1.bytes, { key: keys, now: NOW, requestMac: other.mac });
    expect(replay.ok === false && replay.failure).toBe('BADSIG');
    const unsignedMiddle = query(9);
    const r3 = tsigSign(query(10), { key, timeSigned: NOW, previousMac: r1.mac });
    // Signed over the middle message too? No: signer chained r1 -> r3 directly.
    expect(tsigVerify(r3.bytes, { key: keys, now: NOW, previousMac: r1.mac }).ok).toBe(true);
    const withMiddle = tsigVerify(r3.bytes, {
      key: keys,
      now: NOW,
      previousMac: r1.mac,
      unsignedBefore: [unsignedMiddle],
    });
    expect(withMiddle.ok).toBe(false);
  });
});

const arbRecord: fc.Arbitrary<DnsRecord> = fc
  .tuple(
    fc.constantFrom('a', 'b', 'c.d', '*.w'),
    fc.constantFrom('A', 'TXT'),
    fc.nat(3),
    fc.constantFrom(60, 300),
  )
  .map(([label, type, n, ttl]) => ({
    name: `${label}.example.tld`,
    type,
    class: 'IN',
    ttl,
    data: type === 'A' ? `192.0.2.${n}` : `text ${n}`,
  })) as fc.Arbitrary<DnsRecord>;

describe('zone diff and journal', () => {
  it('applying each journal diff in turn to the old zone gives the new zone', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uniqueArray(arbRecord, { maxLength: 12, selector: (r) => JSON.stringify(r) }), {
          minLength: 1,
          maxLength: 6,
        }),
        (versions) => {
          const journal = new ZoneJournal({ maxEntries: 100, maxBytes: 1 << 20 });
          let serial = 1;
          for (let i = 1; i < versions.length; i++) {
            journal.append(serial, serial + 1, diffRecords(versions[i - 1], versions[i]));
            serial++;
          }
          const entries = journal.since(1, serial);
          expect(entries).not.toBeNull();
          let zone: DnsRecord[] = versions[0];
          for (const e of entries!) {
            const applied = applyDiff(zone, e);
            expect(applied.ok).toBe(true);
            if (applied.ok) zone = applied.records;
          }
          const key = (rs: DnsRecord[]) => rs.map((r) => JSON.stringify(r)).sort();
          expect(key(zone)).toEqual(
            key([...new Map(versions.at(-1)!.map((r) => [JSON.stringify(r), r])).values()]),
          );
        },
      ),
    );
  });

  it('a deletion the copy does not hold is an error naming the record', () => {
    const r = {
      name: 'x.example.tld',
      type: 'A',
      class: 'IN',
      ttl: 60,
      data: '192.0.2.1',
    } as DnsRecord;
    const res = applyDiff([], { deleted: [r], added: [] });
    expect(res.ok === false && res.error).toMatch(/x\.example\.tld A/);
  });

  it('is bounded in entries and bytes; a serial older than the journal gets null', () => {
    const r = (n: number) =>
      ({
        name: `n${n}.example.tld`,
        type: 'A',
        class: 'IN',
        ttl: 60,
        data: '192.0.2.1',
      }) as DnsRecord;
    const j = new ZoneJournal({ maxEntries: 3, maxBytes: 1 << 20 });
    for (let s = 1; s <= 5; s++) j.append(s, s + 1, { deleted: [], added: [r(s)] });
    expect(j.entries).toBe(3);
    expect(j.since(1, 6)).toBeNull();
    expect(j.since(3, 6)?.length).toBe(3);
    expect(j.since(6, 6)).toEqual([]);
    const small = new ZoneJournal({ maxEntries: 100, maxBytes: 300 });
    for (let s = 1; s <= 5; s++) small.append(s, s + 1, { deleted: [], added: [r(s)] });
    expect(small.bytes).toBeLessThanOrEqual(300);
    expect(small.since(1, 6)).toBeNull();
    expect(small.since(5, 6)?.length).toBe(1);
  });
});

describe('transfer messages', () => {
  const soa = {
    name: 'example.tld',
    type: 'SOA',
    class: 'IN',
    ttl: 300,
    data: {
      mname: 'ns1.example.tld',
      rname: 'hostmaster.example.tld',
      serial: 9,
      refresh: 60,
      retry: 30,
      expire: 600,
      minimum: 30,
    },
  } as DnsRecord;
  const records = Array.from(
    { length: 3000 },
    (_, i) =>
      ({
        name: `host-${i}.example.tld`,
        type: 'A',
        class: 'IN',
        ttl: 60,
        data: `10.0.${i >> 8}.${i & 255}`,
      }) as DnsRecord,
  );
  const q = scan(query(0x4242));
  if (!q.ok) throw new Error('query');

  it('AXFR: SOA, records, SOA split in messages under the budget, all records once', () => {
    const messages = transferMessages(q.query, axfrRecords(soa, records), {
      maxMessageBytes: 16_000,
      reserveBytes: 100,
    });
    expect(messages.length).toBeGreaterThan(2);
    const got: DnsRecord[] = [];
    for (const m of messages) {
      expect(m.length).toBeLessThanOrEqual(16_000 - 100);
      const d = decode(m);
      if (!d.ok) throw new Error(d.error);
      expect(d.message.id).toBe(0x4242);
      expect(d.message.flag_aa).toBe(true);
      got.push(...(d.message.answers ?? []));
    }
    expect(got.length).toBe(records.length + 2);
    expect(got[0].type).toBe('SOA');
    expect(got.at(-1)!.type).toBe('SOA');
    expect(new Set(got.slice(1, -1).map((r) => r.name)).size).toBe(records.length);
  });

  it('IXFR: new SOA, (old SOA, deletions, new SOA, additions)…, new SOA; up to date: one SOA', () => {
    const entry = { from: 7, to: 9, deleted: [records[0]], added: [records[1]], bytes: 0 };
    const seq = ixfrRecords(soa, [entry]);
    expect(
      seq.map((r) => `${r.type}${r.type === 'SOA' ? (r.data as { serial: number }).serial : ''}`),
    ).toEqual(['SOA9', 'SOA7', 'A', 'SOA9', 'A', 'SOA9']);
    expect(ixfrRecords(soa, [])).toEqual([soa]);
  });
});

describe('record size bound (message budget)', () => {
  it('is never below the encoded size', () => {
    const arb = fc.oneof(
      fc.ipV4().map((ip) => ({ type: 'A', data: ip })),
      fc.ipV6().map((ip) => ({ type: 'AAAA', data: ip })),
      fc.string({ maxLength: 700 }).map((t) => ({ type: 'TXT', data: [t] })),
      fc.domain().map((n) => ({ type: 'CNAME', data: n })),
      fc.domain().map((n) => ({ type: 'MX', data: { preference: 10, exchange: n } })),
      fc
        .domain()
        .map((n) => ({ type: 'SRV', data: { priority: 1, weight: 2, port: 443, target: n } })),
    );
    fc.assert(
      fc.property(fc.domain(), arb, (name, rest) => {
        const record = { name, class: 'IN', ttl: 60, ...rest } as DnsRecord;
        expect(recordSizeBound(record)).toBeGreaterThanOrEqual(
          encode({ answers: [record] }).length - 12,
        );
      }),
    );
  });
});
