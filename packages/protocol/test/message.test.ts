import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DnsMessage } from '../src/index.js';
import { canonicalAddress, decode, EncodeError, encode } from '../src/index.js';
import { message } from './support/arbitraries.js';

/** What dns-packet itself makes of a message after an (uncompressed) round trip. */
function reference(m: DnsMessage) {
  return dnsPacket.decode(dnsPacket.encode(structuredClone(m) as any));
}

/** One text per IPv6 address (RFC 5952; test/ip-address.test.ts proves it on both runtimes). */
function canonicalIpv6(text: string): string {
  const canonical = canonicalAddress(text);
  if (canonical === null) throw new Error(`${JSON.stringify(text)} is not an IPv6 address`);
  return canonical;
}

const SECTIONS = ['answers', 'authorities', 'additionals'] as const;

/**
 * dns-packet's own IPv6 encoder mangles some forms ("::0:0:0:0:0:0:1" becomes "::"), so AAAA
 * data is compared as canonical text against the input instead of against its round trip.
 */
function withCanonicalAaaa(decoded: any, input: DnsMessage): any {
  for (const s of SECTIONS) {
    decoded[s].forEach((r: any, i: number) => {
      if (r.type === 'AAAA') r.data = canonicalIpv6((input[s] as any[])[i].data);
    });
  }
  return decoded;
}

describe('encode/decode round trip', () => {
  it('decode(encode(m)) equals dns-packet round trip, compressed, never longer', () => {
    fc.assert(
      fc.property(message, (m) => {
        const bytes = encode(m as DnsMessage);
        const decoded = decode(bytes);
        expect(decoded.ok).toBe(true);
        if (!decoded.ok) return;
        for (const section of SECTIONS) {
          decoded.message[section]?.forEach((r: any) => {
            if (r.type === 'AAAA') r.data = canonicalIpv6(r.data);
          });
        }
        expect(decoded.message).toEqual(
          withCanonicalAaaa(reference(m as DnsMessage), m as DnsMessage),
        );
        expect(bytes.length).toBeLessThanOrEqual(dnsPacket.encodingLength(m as any));
      }),
      { numRuns: 400 },
    );
  });

  it('compresses: repeated names shrink the message and decode identically', () => {
    const m: DnsMessage = {
      type: 'response',
      id: 7,
      flags: 0x0400,
      questions: [{ name: 'www.example.tld', type: 'A' }],
      answers: [
        { name: 'www.example.tld', type: 'CNAME', ttl: 60, data: 'web.example.tld' },
        { name: 'web.example.tld', type: 'A', ttl: 60, data: '192.0.2.1' },
        { name: 'web.example.tld', type: 'A', ttl: 60, data: '192.0.2.2' },
      ],
      authorities: [
        {
          name: 'example.tld',
          type: 'SOA',
          ttl: 60,
          data: {
            mname: 'ns1.example.tld',
            rname: 'hostmaster.example.tld',
            serial: 1,
            refresh: 2,
            retry: 3,
            expire: 4,
            minimum: 5,
          },
        },
      ],
    };
    const ours = encode(m);
    const theirs = dnsPacket.encode(m as any);
    expect(ours.length).toBeLessThan(theirs.length - 40);
    const decoded = decode(ours);
    expect(decoded.ok && decoded.message).toEqual(dnsPacket.decode(theirs));
    // The second answer's owner is a pointer (0xc0..) to the CNAME target.
    expect(Buffer.from(ours).includes(Buffer.from([0x03, 0x77, 0x65, 0x62]))).toBe(true);
  });

  it('keeps other types through dns-packet (SRV, MX, CAA) and compresses MX', () => {
    const m: DnsMessage = {
      type: 'response',
      questions: [{ name: 'example.tld', type: 'MX' }],
      answers: [
        {
          name: 'example.tld',
          type: 'MX',
          ttl: 1,
          data: { preference: 10, exchange: 'mail.example.tld' },
        },
        {
          name: '_sip._tcp.example.tld',
          type: 'SRV',
          ttl: 1,
          data: { priority: 1, weight: 2, port: 5060, target: 'sip.example.tld' },
        },
        {
          name: 'example.tld',
          type: 'CAA',
          ttl: 1,
          data: { flags: 0, tag: 'issue', value: 'ca.tld' } as any,
        },
      ],
    };
    const decoded = decode(encode(m));
    expect(decoded.ok && decoded.message).toEqual(reference(m));
  });

  it('throws EncodeError naming the record for unencodable data', () => {
    const bad = (answers: any[]) => () => encode({ type: 'response', answers });
    expect(bad([{ name: 'a.tld', type: 'A', data: '300.1.1.1' }])).toThrow(EncodeError);
    expect(
      bad([
        { name: 'a.tld', type: 'A', data: '1.2.3.4' },
        { name: 'a.tld', type: 'AAAA', data: '1:2' },
      ]),
    ).toThrow(/AAAA record for "a.tld"/);
    expect(bad([{ name: `${'x'.repeat(64)}.tld`, type: 'A', data: '1.2.3.4' }])).toThrow(
      /64 bytes/,
    );
    expect(bad([{ name: 'a.tld', type: 'TXT', data: ['x'.repeat(256)] }])).toThrow(/256 bytes/);
    expect(bad([{ name: 'a.tld', type: 'NOPE', data: '' }])).toThrow(/unknown type/);
  });
});

describe('decode errors are values', () => {
  it('reports what and where', () => {
    const header = new Uint8Array(12);
    header[5] = 1; // one question, no bytes for it
    const r = decode(header);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toMatch(/header counts/);
      expect(r.offset).toBe(4);
    }
    expect(decode(new Uint8Array(3))).toMatchObject({ ok: false, offset: 0 });
  });

  it('catches what dns-packet throws inside RDATA', () => {
    // A record whose RDLENGTH fits the packet but whose SOA RDATA is too short to decode.
    const bytes = Buffer.from(
      encode({ type: 'response', answers: [{ name: 'a', type: 'NS', ttl: 1, data: 'b' }] }),
    );
    bytes[15] = 0; // NS -> type 6 (SOA) with 3 bytes of RDATA
    bytes[16] = 6;
    const r = decode(bytes);
    expect(r.ok).toBe(false);
  });
});
