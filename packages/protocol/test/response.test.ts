import { describe, expect, it } from 'vitest';
import type { DecodedMessage, DnsRecord, ZoneApex } from '../src/index.js';
import {
  anyResponseRecord,
  apexAnswer,
  buildResponse,
  decode,
  errorResponse,
  maxResponseSize,
  negativeSoa,
  RCODE,
  scan,
} from '../src/index.js';
import { makeQuery } from './support/query.js';

const apex: ZoneApex = {
  zone: 'example.tld',
  soa: {
    mname: 'ns1.example.tld',
    rname: 'hostmaster.example.tld',
    serial: 7,
    refresh: 7200,
    retry: 900,
    expire: 1209600,
    minimum: 60,
  },
  soaTtl: 3600,
  ns: ['ns1.example.tld', 'ns2.elsewhere.tld'],
  nsTtl: 3600,
  glue: new Map([['ns1.example.tld', { a: ['192.0.2.53'], aaaa: ['2001:db8::53'] }]]),
};

function decoded(bytes: Uint8Array): DecodedMessage {
  const r = decode(bytes);
  if (!r.ok) throw new Error(r.error);
  return r.message;
}

const a = (name: string, ip: string, ttl = 60): DnsRecord => ({
  name,
  type: 'A',
  class: 'IN',
  ttl,
  data: ip,
});

describe('flags and question echo', () => {
  it('AA as asked, RA=0, RD and CD copied, AD and Z never, question in the client case', () => {
    // RD + Z + AD + CD set in the query.
    const { bytes, query } = makeQuery({
      name: 'WwW.ExAmple.TLD',
      flags: 0x0100 | 0x0040 | 0x0020 | 0x0010,
    });
    const reply = buildResponse(
      query,
      bytes,
      { rcode: 0, aa: true, answers: [a('www.example.tld', '192.0.2.1')] },
      { maxSize: 512 },
    );
    const m = decoded(reply);
    expect(m.id).toBe(0x1234);
    expect(m).toMatchObject({
      flag_qr: true,
      flag_aa: true,
      flag_ra: false,
      flag_rd: true,
      flag_cd: true,
      flag_ad: false,
      flag_z: false,
      flag_tc: false,
    });
    expect(m.questions![0].name).toBe('WwW.ExAmple.TLD');
    // The answer owner compresses onto the question, so it carries the client's case too.
    expect(m.answers![0].name).toBe('WwW.ExAmple.TLD');
    expect(Buffer.from(reply.subarray(12, query.questionEnd))).toEqual(
      Buffer.from(bytes.subarray(12, query.questionEnd)),
    );
  });

  it('RD clear stays clear; aa defaults to false', () => {
    const { bytes, query } = makeQuery({ name: 'www.example.tld', flags: 0 });
    const m = decoded(buildResponse(query, bytes, { rcode: 0 }, { maxSize: 512 }));
    expect(m.flag_rd).toBe(false);
    expect(m.flag_aa).toBe(false);
  });
});

describe('negative answers carry the zone SOA (RFC 2308)', () => {
  it('NXDOMAIN and NODATA: SOA in authority, TTL = min(SOA TTL, minimum)', () => {
    const { bytes, query } = makeQuery({ name: 'nope.example.tld' });
    for (const rcode of [RCODE.NXDOMAIN, RCODE.NOERROR]) {
      const m = decoded(
        buildResponse(
          query,
          bytes,
          { rcode, aa: true, authorities: [negativeSoa(apex)] },
          { maxSize: 512 },
        ),
      );
      expect(m.rcode).toBe(rcode === RCODE.NXDOMAIN ? 'NXDOMAIN' : 'NOERROR');
      expect(m.answers).toEqual([]);
      expect(m.authorities).toHaveLength(1);
      expect(m.authorities![0]).toMatchObject({
        name: 'example.tld',
        type: 'SOA',
        ttl: 60,
        data: { serial: 7, minimum: 60 },
      });
    }
    expect((negativeSoa({ ...apex, soaTtl: 30 }) as { ttl?: number }).ttl).toBe(30);
  });
});

describe('errors echo the question when there is one', () => {
  it.each([
    ['REFUSED', RCODE.REFUSED],
    ['FORMERR', RCODE.FORMERR],
    ['NOTIMP', RCODE.NOTIMP],
    ['SERVFAIL', RCODE.SERVFAIL],
  ])('%s', (name, rcode) => {
    const { bytes, query } = makeQuery({ name: 'Other.Tld', edns: { do: true } });
    const m = decoded(errorResponse(query, bytes, rcode));
    expect(m.rcode).toBe(name);
    expect(m.flag_aa).toBe(false);
    expect(m.questions).toEqual([{ name: 'Other.Tld', type: 'A', class: 'IN' }]);
    expect(m.additionals).toHaveLength(1);
  });

  it('QDCOUNT 0: FORMERR without a question', () => {
    const bytes = new Uint8Array([0, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const r = scan(bytes);
    if (!r.ok) throw new Error(r.error);
    const m = decoded(errorResponse(r.query, bytes, RCODE.FORMERR));
    expect(m.rcode).toBe('FORMERR');
    expect(m.questions).toEqual([]);
    expect(m.id).toBe(9);
  });
});

describe('RFC 8482 ANY', () => {
  it('one HINFO "RFC8482" ""', () => {
    const { bytes, query } = makeQuery({ name: 'www.example.tld', type: 'ANY' });
    const m = decoded(
      buildResponse(
        query,
        bytes,
        { rcode: 0, aa: true, answers: [anyResponseRecord(query.qname)] },
        { maxSize: 512 },
      ),
    );
    expect(m.answers).toHaveLength(1);
    expect(m.answers![0]).toMatchObject({ type: 'HINFO', data: { cpu: 'RFC8482', os: '' } });
  });
});

describe('zone apex', () => {
  it('SOA answer', () => {
    const soa = apexAnswer(apex, 6)!;
    expect(soa.answers).toHaveLength(1);
    expect(soa.answers[0]).toMatchObject({ type: 'SOA', ttl: 3600 });
  });
  it('NS with glue A/AAAA only for in-zone nameservers', () => {
    const ns = apexAnswer(apex, 2)!;
    const { bytes, query } = makeQuery({ name: 'example.tld', type: 'NS' });
    const m = decoded(buildResponse(query, bytes, { rcode: 0, aa: true, ...ns }, { maxSize: 512 }));
    expect(m.answers!.map((r: any) => r.data)).toEqual(['ns1.example.tld', 'ns2.elsewhere.tld']);
    expect(m.additionals!.map((r) => [r.name, r.type])).toEqual([
      ['ns1.example.tld', 'A'],
      ['ns1.example.tld', 'AAAA'],
      ['.', 'OPT'],
    ]);
    expect(apexAnswer(apex, 1)).toBeNull();
  });
});

describe('EDNS', () => {
  it('OPT echoed with our UDP size, DO echoed, no options echoed', () => {
    const cookie = { code: 10, data: Buffer.alloc(8, 1) };
    const { bytes, query } = makeQuery({
      name: 'www.example.tld',
      edns: { udpSize: 4096, do: true, options: [cookie] },
    });
    const m = decoded(
      buildResponse(query, bytes, { rcode: 0, aa: true }, { maxSize: 1232, serverUdpSize: 1400 }),
    );
    expect(m.additionals).toEqual([
      {
        name: '.',
        type: 'OPT',
        udpPayloadSize: 1400,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: 0x8000,
        flag_do: true,
        options: [],
      },
    ]);
  });
  it('no OPT in the reply when the query had none', () => {
    const { bytes, query } = makeQuery({ name: 'www.example.tld', edns: null });
    expect(
      decoded(buildResponse(query, bytes, { rcode: 0 }, { maxSize: 512 })).additionals,
    ).toEqual([]);
  });
  it('version > 0: BADVERS split between header and OPT, OPT version 0, nothing else', () => {
    const { bytes, query } = makeQuery({ name: 'www.example.tld', edns: { version: 1 } });
    const reply = buildResponse(
      query,
      bytes,
      { rcode: 0, aa: true, answers: [a('www.example.tld', '192.0.2.1')] },
      { maxSize: 512 },
    );
    const m = decoded(reply);
    expect(reply[3] & 0xf).toBe(RCODE.BADVERS & 0xf);
    expect(m.answers).toEqual([]);
    expect(m.additionals![0]).toMatchObject({ type: 'OPT', extendedRcode: 1, ednsVersion: 0 });
    expect((m.additionals![0] as any).extendedRcode * 16 + (reply[3] & 0xf)).toBe(RCODE.BADVERS);
  });
});

describe('maxResponseSize', () => {
  it('512 without EDNS, clamp(client, ours) with it, 65535 on TCP', () => {
    expect(maxResponseSize(makeQuery({ name: 'a', edns: null }).query, 'udp')).toBe(512);
    expect(maxResponseSize(makeQuery({ name: 'a', edns: { udpSize: 4096 } }).query, 'udp')).toBe(
      1232,
    );
    expect(
      maxResponseSize(makeQuery({ name: 'a', edns: { udpSize: 4096 } }).query, 'udp', 4000),
    ).toBe(4000);
    expect(maxResponseSize(makeQuery({ name: 'a', edns: { udpSize: 100 } }).query, 'udp')).toBe(
      512,
    );
    expect(maxResponseSize(makeQuery({ name: 'a', edns: { udpSize: 1000 } }).query, 'udp')).toBe(
      1000,
    );
    expect(maxResponseSize(makeQuery({ name: 'a', edns: null }).query, 'tcp')).toBe(65535);
  });
});

describe('truncation at an RRset boundary', () => {
  const many = (name: string, n: number, base: string) =>
    Array.from({ length: n }, (_, i) => a(name, `${base}.${i}`));

  it('drops whole RRsets from the end, sets TC, keeps the OPT', () => {
    const { bytes, query } = makeQuery({ name: 'www.example.tld', edns: { udpSize: 512 } });
    const answers = [
      ...many('www.example.tld', 10, '192.0.2'),
      ...many('x.example.tld', 30, '198.51.100'),
    ];
    const maxSize = maxResponseSize(query, 'udp');
    const full = buildResponse(query, bytes, { rcode: 0, aa: true, answers }, { maxSize: 65535 });
    expect(full.length).toBeGreaterThan(512);
    const cut = buildResponse(query, bytes, { rcode: 0, aa: true, answers }, { maxSize });
    expect(cut.length).toBeLessThanOrEqual(512);
    const m = decoded(cut);
    expect(m.flag_tc).toBe(true);
    expect(m.answers).toHaveLength(10); // the first RRset whole, none of the second
    expect(m.additionals!.map((r) => r.type)).toEqual(['OPT']);
  });

  it('one RRset too big for the limit: empty answer with TC', () => {
    const { bytes, query } = makeQuery({ name: 'big.example.tld', edns: null });
    const m = decoded(
      buildResponse(
        query,
        bytes,
        { rcode: 0, aa: true, answers: many('big.example.tld', 60, '198.51.100') },
        { maxSize: 512 },
      ),
    );
    expect(m.flag_tc).toBe(true);
    expect(m.answers).toEqual([]);
    expect(m.questions).toHaveLength(1);
  });

  it('additional data that does not fit is dropped without TC (RFC 2181 9)', () => {
    const { bytes, query } = makeQuery({ name: 'example.tld', type: 'NS', edns: null });
    const additionals = many('ns1.example.tld', 40, '192.0.2');
    const m = decoded(
      buildResponse(
        query,
        bytes,
        {
          rcode: 0,
          aa: true,
          answers: [{ name: 'example.tld', type: 'NS', ttl: 1, data: 'ns1.example.tld' }],
          additionals,
        },
        { maxSize: 512 },
      ),
    );
    expect(m.flag_tc).toBe(false);
    expect(m.answers).toHaveLength(1);
    expect(m.additionals).toEqual([]);
  });

  it('TCP limit gives the full answer', () => {
    const { bytes, query } = makeQuery({ name: 'big.example.tld', edns: null });
    const m = decoded(
      buildResponse(
        query,
        bytes,
        { rcode: 0, aa: true, answers: many('big.example.tld', 200, '198.51.100') },
        { maxSize: maxResponseSize(query, 'tcp') },
      ),
    );
    expect(m.flag_tc).toBe(false);
    expect(m.answers).toHaveLength(200);
  });
});
