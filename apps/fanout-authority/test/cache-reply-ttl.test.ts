import { type DnsRecord, encode, RCODE } from '@mdns/protocol';
import { describe, expect, it } from 'vitest';
import { clampTtl, readReplyTtl } from '../src/cache/reply-ttl.js';
import { soa, ZONE } from './cache-fixtures.js';

const NAME = `svc.${ZONE}`;

function a(ttl: number, address = '10.0.0.1', name = NAME): DnsRecord {
  return { name, type: 'A', ttl, data: address };
}

function reply(parts: {
  rcode?: number;
  tc?: boolean;
  answers?: DnsRecord[];
  authorities?: DnsRecord[];
  additionals?: DnsRecord[];
}): Uint8Array {
  return encode({
    id: 7,
    type: 'response',
    flags: 0x0400 | (parts.tc ? 0x0200 : 0) | (parts.rcode ?? RCODE.NOERROR),
    questions: [{ name: NAME, type: 'A', class: 'IN' }],
    answers: parts.answers ?? [],
    authorities: parts.authorities ?? [],
    additionals: parts.additionals ?? [],
  });
}

describe('positive replies', () => {
  it('TTL is the smallest TTL of the answer section', () => {
    const bytes = reply({ answers: [a(300, '10.0.0.1'), a(60, '10.0.0.2'), a(120, '10.0.0.3')] });
    expect(readReplyTtl(bytes)).toEqual({ kind: 'positive', ttl: 60 });
  });

  it('authority and additional TTLs do not lower a positive TTL', () => {
    const bytes = reply({
      answers: [a(300)],
      authorities: [soa(5, 5)],
      additionals: [a(1, '10.9.9.9', `ns1.${ZONE}`)],
    });
    expect(readReplyTtl(bytes)).toEqual({ kind: 'positive', ttl: 300 });
  });

  it('a CNAME chain counts every record of the answer', () => {
    const cname: DnsRecord = { name: NAME, type: 'CNAME', ttl: 30, data: `lb.${ZONE}` };
    const bytes = reply({ answers: [cname, a(600, '10.0.0.1', `lb.${ZONE}`)] });
    expect(readReplyTtl(bytes)).toEqual({ kind: 'positive', ttl: 30 });
  });

  it('a TTL with the top bit set counts as 0 (RFC 2181)', () => {
    const bytes = reply({ answers: [a(300)] });
    const ttlOffset = bytes.length - 4 - 6; // rdata (4) + rdlength (2) + ttl (4)
    bytes[ttlOffset] = 0x80;
    expect(readReplyTtl(bytes)).toEqual({ kind: 'positive', ttl: 0 });
  });
});

describe('negative replies (RFC 2308)', () => {
  it('NXDOMAIN: min(SOA TTL, SOA minimum)', () => {
    expect(readReplyTtl(reply({ rcode: RCODE.NXDOMAIN, authorities: [soa(3600, 300)] }))).toEqual({
      kind: 'negative',
      ttl: 300,
    });
    expect(readReplyTtl(reply({ rcode: RCODE.NXDOMAIN, authorities: [soa(120, 900)] }))).toEqual({
      kind: 'negative',
      ttl: 120,
    });
  });

  it('NODATA (NOERROR, empty answer) uses the same rule', () => {
    expect(readReplyTtl(reply({ authorities: [soa(3600, 45)] }))).toEqual({
      kind: 'negative',
      ttl: 45,
    });
  });

  it('NXDOMAIN at the end of a CNAME chain is negative, governed by the SOA', () => {
    const cname: DnsRecord = { name: NAME, type: 'CNAME', ttl: 600, data: `gone.${ZONE}` };
    expect(
      readReplyTtl(reply({ rcode: RCODE.NXDOMAIN, answers: [cname], authorities: [soa(60, 60)] })),
    ).toEqual({
      kind: 'negative',
      ttl: 60,
    });
  });

  it('a negative reply without an SOA is not cacheable', () => {
    expect(readReplyTtl(reply({ rcode: RCODE.NXDOMAIN }))).toEqual({ kind: 'no-soa' });
    expect(readReplyTtl(reply({}))).toEqual({ kind: 'no-soa' });
  });
});

describe('replies that are never cacheable', () => {
  it.each([RCODE.SERVFAIL, RCODE.REFUSED, RCODE.NOTIMP, RCODE.FORMERR])('rcode %i', (rcode) => {
    expect(readReplyTtl(reply({ rcode, authorities: [soa(60, 60)] }))).toEqual({
      kind: 'rcode',
      rcode,
    });
  });

  it('an extended rcode in the OPT record (BADVERS) is seen', () => {
    // OPT by hand: root owner, TYPE 41, CLASS = UDP size, TTL = ext-rcode 1 | version 0 | flags 0.
    const base = reply({ answers: [a(60)] });
    const opt = [0, 0, 41, 0x04, 0xd0, 1, 0, 0, 0, 0, 0];
    const bytes = new Uint8Array(base.length + opt.length);
    bytes.set(base);
    bytes.set(opt, base.length);
    bytes[11] = 1; // ARCOUNT
    expect(readReplyTtl(bytes)).toEqual({ kind: 'rcode', rcode: 16 });
  });

  it('TC=1', () => {
    expect(readReplyTtl(reply({ tc: true, answers: [a(60)] }))).toEqual({ kind: 'truncated' });
  });

  it('bad bytes are unparseable, never a throw', () => {
    const good = reply({ answers: [a(60)], authorities: [soa(60, 60)] });
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      new Uint8Array(11),
      good.subarray(0, good.length - 3), // cut inside the last RDATA
      good.subarray(0, 20), // cut inside the question
    ];
    const query = good.slice();
    query[2] &= 0x7f; // QR=0
    cases.push(query);
    const lying = good.slice();
    lying[7] = 200; // ANCOUNT 200
    cases.push(lying);
    const badLabel = good.slice();
    badLabel[12] = 0x80; // reserved label type
    cases.push(badLabel);
    for (const bytes of cases) expect(readReplyTtl(bytes).kind).toBe('unparseable');
  });

  it('random garbage never throws', () => {
    let seed = 12345;
    const next = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed & 0xff;
    };
    for (let i = 0; i < 2000; i++) {
      const bytes = Uint8Array.from({ length: 12 + (i % 200) }, next);
      expect(() => readReplyTtl(bytes)).not.toThrow();
    }
  });
});

describe('clampTtl', () => {
  const limits = { minTtl: 10, maxTtl: 3600, negativeMaxTtl: 300 };
  it('raises to minTtl and lowers to maxTtl', () => {
    expect(clampTtl(1, false, limits)).toBe(10);
    expect(clampTtl(100, false, limits)).toBe(100);
    expect(clampTtl(99999, false, limits)).toBe(3600);
  });
  it('negatives are capped by negativeMaxTtl too', () => {
    expect(clampTtl(1000, true, limits)).toBe(300);
    expect(clampTtl(2, true, limits)).toBe(10);
    expect(clampTtl(9999, true, { ...limits, maxTtl: 100 })).toBe(100);
  });
});
