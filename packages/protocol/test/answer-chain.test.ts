import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import type { DecodedMessage, DnsRecord } from '../src/index.js';
import {
  type AnswerChain,
  buildResponse,
  decode,
  patchAnswer,
  QTYPE,
  RCODE,
  scanAnswerChain,
} from '../src/index.js';
import { makeQuery } from './support/query.js';

const ZONE = 'example.test';
// The upstream was asked in random case (0x20) and echoed it; the client asked in its own.
const UPSTREAM_NAME = 'WwW.eXaMpLe.TeSt';
const CLIENT_NAME = 'www.Example.TEST';

const a = (name: string, ip: string, ttl = 60): DnsRecord => ({
  name,
  type: 'A',
  class: 'IN',
  ttl,
  data: ip,
});
const cname = (name: string, target: string, ttl = 60): DnsRecord => ({
  name,
  type: 'CNAME',
  class: 'IN',
  ttl,
  data: target,
});

/** An upstream's reply as our gateway writes it (owners compressed onto the question). */
function upstreamReply(
  answers: DnsRecord[],
  {
    rcode = RCODE.NOERROR as number,
    type = 'A',
    additionals = [] as DnsRecord[],
  }: { rcode?: number; type?: string; additionals?: DnsRecord[] } = {},
): Uint8Array {
  const { bytes, query } = makeQuery({ name: UPSTREAM_NAME, type, edns: { udpSize: 1232 } });
  return buildResponse(query, bytes, { rcode, aa: true, answers, additionals }, { maxSize: 65535 });
}

function decoded(bytes: Uint8Array): DecodedMessage {
  const r = decode(bytes);
  if (!r.ok) throw new Error(r.error);
  return r.message;
}

function chainOf(reply: Uint8Array, qtype: number = QTYPE.A, zone = ZONE): AnswerChain {
  const chain = scanAnswerChain(reply, qtype, zone);
  if (chain === null) throw new Error('reply does not scan');
  return chain;
}

/** The long way the handler takes without the patch: decode, cap, `buildResponse`. */
function longWay(
  records: DnsRecord[],
  client: ReturnType<typeof makeQuery>,
  maxTtl: number,
): Uint8Array {
  const answers = records.map((rr) => ({ ...rr, ttl: Math.min(ttlOf(rr), maxTtl) }) as DnsRecord);
  return buildResponse(
    client.query,
    client.bytes,
    { rcode: RCODE.NOERROR, aa: true, answers },
    { maxSize: 65535, serverUdpSize: 1232 },
  );
}

const ttlOf = (rr: DnsRecord) => (rr as { ttl?: number }).ttl ?? 0;
const names = (m: DecodedMessage) =>
  (m.answers ?? []).map((rr) => [
    rr.name.toLowerCase(),
    rr.type,
    ttlOf(rr),
    (rr as { data?: unknown }).data,
  ]);

describe('scanAnswerChain', () => {
  it('reads the records at the question name and says the section can pass as it is', () => {
    const reply = upstreamReply([a(UPSTREAM_NAME, '10.0.0.1'), a(UPSTREAM_NAME, '10.0.0.2')]);
    const chain = chainOf(reply);
    expect(chain).toMatchObject({ records: 2, whole: true });
    // The OPT after the answer section is not part of it.
    expect(chain.answerEnd).toBe(reply.length - 11);
  });

  it('follows a CNAME whose target differs in case from the next owner', () => {
    const reply = upstreamReply([
      cname(UPSTREAM_NAME, 'Web.EXAMPLE.test'),
      a('web.example.TEST', '10.0.0.3'),
    ]);
    expect(chainOf(reply)).toMatchObject({ records: 2, whole: true });
  });

  it('keeps the CNAME out of the zone, not the records of its target', () => {
    const reply = upstreamReply([
      cname(UPSTREAM_NAME, 'elsewhere.other'),
      a('elsewhere.other', '1.2.3.4'),
    ]);
    expect(chainOf(reply)).toMatchObject({ records: 1, whole: false });
    // Without a zone boundary the chain goes on.
    expect(chainOf(reply, QTYPE.A, '')).toMatchObject({ records: 2, whole: true });
  });

  it('stops a CNAME loop', () => {
    const reply = upstreamReply([
      cname(UPSTREAM_NAME, 'b.example.test'),
      cname('b.example.test', 'www.example.test'),
    ]);
    expect(chainOf(reply)).toMatchObject({ records: 2, whole: true });
  });

  it('counts nothing for records of other names or other types (NODATA)', () => {
    const reply = upstreamReply([a('other.example.test', '10.0.0.9')]);
    expect(chainOf(reply)).toMatchObject({ records: 0, whole: false });
    const txt = upstreamReply([
      { name: UPSTREAM_NAME, type: 'TXT', class: 'IN', ttl: 5, data: 'x' },
    ]);
    expect(chainOf(txt)).toMatchObject({ records: 0 });
    expect(chainOf(txt, QTYPE.TXT)).toMatchObject({ records: 1, whole: true });
  });

  it('is not whole when the section is out of chain order or carries more', () => {
    const reordered = upstreamReply([
      a('web.example.test', '10.0.0.3'),
      cname(UPSTREAM_NAME, 'web.example.test'),
    ]);
    expect(chainOf(reordered)).toMatchObject({ records: 2, whole: false });
    const extra = upstreamReply([a(UPSTREAM_NAME, '10.0.0.1'), a('x.example.test', '10.0.0.2')]);
    expect(chainOf(extra)).toMatchObject({ records: 1, whole: false });
  });

  it('leaves SRV and MX to the decode (their additionals are picked), and A data of a wrong size', () => {
    const mx = upstreamReply(
      [
        {
          name: UPSTREAM_NAME,
          type: 'MX',
          class: 'IN',
          ttl: 5,
          data: { preference: 1, exchange: 'mail.example.test' },
        },
      ],
      { type: 'MX' },
    );
    expect(chainOf(mx, QTYPE.MX)).toMatchObject({ records: 1, whole: false });
    const reply = Buffer.from(upstreamReply([a(UPSTREAM_NAME, '10.0.0.1')]));
    const chain = chainOf(reply);
    // RDLENGTH 4 -> 3: the record still ends inside the packet but is no address.
    const rdlength = chain.answerEnd - 4 - 2;
    reply[rdlength + 1] = 3;
    expect(scanAnswerChain(reply.subarray(0, chain.answerEnd - 1), QTYPE.A, ZONE)).toMatchObject({
      records: 1,
      whole: false,
    });
  });

  it('is not whole when the owner is written out instead of pointing at the question', () => {
    // dns-packet writes every name in full (no compression).
    const reply = dnsPacket.encode({
      type: 'response',
      id: 1,
      flags: 0x0400,
      questions: [{ name: UPSTREAM_NAME, type: 'A', class: 'IN' }],
      answers: [{ name: UPSTREAM_NAME, type: 'A', class: 'IN', ttl: 5, data: '10.0.0.1' }],
    });
    expect(chainOf(reply)).toMatchObject({ records: 1, whole: false });
  });

  it('returns null for malformed replies instead of throwing', () => {
    const good = upstreamReply([
      cname(UPSTREAM_NAME, 'web.example.test'),
      a('web.example.test', '10.0.0.3'),
    ]);
    const end = chainOf(good).answerEnd;
    // Truncated in the middle of the answer section.
    for (let cut = 12; cut < end; cut++) {
      expect(scanAnswerChain(good.subarray(0, cut), QTYPE.A, ZONE)).toBeNull();
    }
    // Counts that lie: one more answer than there is (the OPT is read as one, then nothing).
    const lying = Buffer.from(good);
    lying[7] += 2;
    expect(scanAnswerChain(lying, QTYPE.A, ZONE)).toBeNull();
    // No question, or two.
    for (const qd of [0, 2]) {
      const odd = Buffer.from(good);
      odd[5] = qd;
      expect(scanAnswerChain(odd, QTYPE.A, ZONE)).toBeNull();
    }
    // An owner that is a pointer to itself (a compression loop).
    const loop = Buffer.from(good);
    const owner = chainOf(good).questionEnd;
    loop[owner] = 0xc0 | (owner >> 8);
    loop[owner + 1] = owner & 0xff;
    expect(scanAnswerChain(loop, QTYPE.A, ZONE)).toBeNull();
    // A CNAME whose data points forward (into the next record): not a name we can follow.
    const forward = Buffer.from(good);
    const data = owner + 2 + 10;
    forward[data] = 0xc0;
    forward[data + 1] = end - 6;
    expect(scanAnswerChain(forward, QTYPE.A, ZONE)).toBeNull();
    expect(scanAnswerChain(new Uint8Array(5), QTYPE.A, ZONE)).toBeNull();
  });
});

describe('patchAnswer', () => {
  const client = makeQuery({
    name: CLIENT_NAME,
    id: 0xbeef,
    flags: 0x0110,
    edns: { udpSize: 4096, do: true },
  });

  it('gives the records the long way gives, with the client ID, flags and question case', () => {
    const answers = [
      cname(UPSTREAM_NAME, 'web.example.test', 300),
      a('web.example.test', '10.0.0.3', 30),
    ];
    for (const rcode of [RCODE.NOERROR, RCODE.NXDOMAIN]) {
      const reply = upstreamReply(answers, { rcode });
      const out = patchAnswer(reply, chainOf(reply), client.query, client.bytes, {
        maxTtl: 120,
        maxSize: 1232,
        serverUdpSize: 1232,
      });
      expect(out).not.toBeNull();
      const got = decoded(out as Uint8Array);
      const want = decoded(longWay(decoded(reply).answers ?? [], client, 120));
      expect(got.id).toBe(0xbeef);
      expect(got.flags).toBe(want.flags);
      expect(got.rcode).toBe('NOERROR');
      expect(got.questions).toEqual(want.questions);
      expect(got.questions?.[0].name).toBe(CLIENT_NAME);
      expect(names(got)).toEqual(names(want));
      expect((got.answers ?? []).map(ttlOf)).toEqual([120, 30]);
      // The owner pointed at the question: it carries the client's case, as the long way.
      expect(got.answers?.[0].name).toBe(CLIENT_NAME);
      expect(got.authorities).toEqual([]);
      expect(got.additionals).toEqual(want.additionals);
    }
  });

  it('writes no OPT for a query without EDNS, and echoes DO', () => {
    const reply = upstreamReply([a(UPSTREAM_NAME, '10.0.0.1')]);
    const plain = makeQuery({ name: CLIENT_NAME, edns: null });
    const out = patchAnswer(reply, chainOf(reply), plain.query, plain.bytes, {
      maxTtl: 3600,
      maxSize: 512,
    }) as Uint8Array;
    expect(decoded(out).additionals).toEqual([]);
    const withDo = patchAnswer(reply, chainOf(reply), client.query, client.bytes, {
      maxTtl: 3600,
      maxSize: 1232,
    }) as Uint8Array;
    expect(decoded(withDo).additionals?.[0]).toMatchObject({
      type: 'OPT',
      flag_do: true,
      udpPayloadSize: 1232,
    });
  });

  it('leaves to the long way what it cannot serve as bytes', () => {
    const reply = upstreamReply([a(UPSTREAM_NAME, '10.0.0.1'), a('x.example.test', '10.0.0.2')]);
    const opts = { maxTtl: 60, maxSize: 1232 };
    expect(patchAnswer(reply, chainOf(reply), client.query, client.bytes, opts)).toBeNull();
    const whole = upstreamReply([a(UPSTREAM_NAME, '10.0.0.1')]);
    const chain = chainOf(whole);
    // Too large for the client: the long way truncates at an RRset with TC=1.
    expect(
      patchAnswer(whole, chain, client.query, client.bytes, { maxTtl: 60, maxSize: 40 }),
    ).toBeNull();
    // EDNS version 1: BADVERS, the long way.
    const v1 = makeQuery({ name: CLIENT_NAME, edns: { version: 1 } });
    expect(patchAnswer(whole, chain, v1.query, v1.bytes, opts)).toBeNull();
    // A question of another length cannot take the client's bytes.
    const other = makeQuery({ name: 'www2.example.test' });
    expect(patchAnswer(whole, chain, other.query, other.bytes, opts)).toBeNull();
  });
});
