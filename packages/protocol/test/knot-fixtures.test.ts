import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DecodedMessage, DnsRecord, ScannedQuery } from '../src/index.js';
import {
  buildResponse,
  decode,
  maxResponseSize,
  patchStored,
  prepareStored,
  RCODE,
  scan,
} from '../src/index.js';

// Captured by scripts/capture-fixtures.sh: real dig/kdig queries and Knot DNS 3.2 replies.
const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/knot-exchanges.json', import.meta.url), 'utf8'),
) as {
  exchanges: { label: string; query: string; response: string }[];
};
const exchanges = new Map(
  fixture.exchanges.map((e) => [
    e.label,
    { query: Buffer.from(e.query, 'hex'), response: Buffer.from(e.response, 'hex') },
  ]),
);

function exchange(label: string) {
  const e = exchanges.get(label);
  if (!e) throw new Error(`no fixture ${label}`);
  const s = scan(e.query);
  if (!s.ok) throw new Error(`${label}: ${s.error}`);
  const d = decode(e.response);
  if (!d.ok) throw new Error(`${label}: ${d.error}`);
  return { ...e, query: s.query as ScannedQuery, message: d.message as DecodedMessage };
}

describe('real dig/kdig queries scan', () => {
  it('every captured query and reply scans and decodes', () => {
    expect(exchanges.size).toBeGreaterThanOrEqual(15);
    for (const [label, e] of exchanges) {
      expect(scan(e.query).ok, label).toBe(true);
      expect(scan(e.response).ok, label).toBe(true);
      expect(decode(e.query).ok, label).toBe(true);
      expect(decode(e.response).ok, label).toBe(true);
    }
  });

  it('mixed case is normalized in qname but kept in the question bytes', () => {
    const { query, query: q } = exchange('dig-a-mixed-case');
    expect(q.qname).toBe('www.example.tld');
    const raw = exchanges
      .get('dig-a-mixed-case')!
      .query.subarray(query.questionStart, query.questionEnd - 4);
    expect(raw.toString('latin1')).toContain('WwW');
    expect(exchange('kdig-mixed-case').query.qname).toBe('www.example.tld');
  });

  it('EDNS fields: dig cookie, +noedns, +dnssec, +bufsize, +edns=1', () => {
    expect(exchange('dig-aaaa-cookie').query).toMatchObject({
      qtype: 28,
      edns: { udpSize: 1232, version: 0, dnssecOk: false },
    });
    expect(exchange('dig-noedns').query.edns).toBeNull();
    expect(exchange('dig-nodata').query.edns).toMatchObject({ dnssecOk: true });
    expect(exchange('kdig-aaaa-do').query.edns).toMatchObject({ udpSize: 4096, dnssecOk: true });
    expect(exchange('dig-edns1').query.edns).toMatchObject({ version: 1 });
    expect(exchange('dig-a-mixed-case').query).toMatchObject({ rd: false, qclass: 1 });
    expect(exchange('dig-soa').query).toMatchObject({ rd: true, qtype: 6 });
  });
});

describe("Knot's replies decode to what the behaviour table expects", () => {
  it('NXDOMAIN and NODATA carry the SOA with TTL = min(SOA TTL, minimum)', () => {
    const nx = exchange('dig-nxdomain').message;
    expect(nx.rcode).toBe('NXDOMAIN');
    expect(nx.authorities![0]).toMatchObject({ type: 'SOA', ttl: 60 });
    const nodata = exchange('dig-ent-nodata').message;
    expect(nodata.rcode).toBe('NOERROR');
    expect(nodata.answers).toEqual([]);
    expect(nodata.authorities![0]).toMatchObject({ type: 'SOA' });
  });
  it('BADVERS for EDNS version 1, truncation without EDNS, glue with NS', () => {
    const badvers = exchange('dig-edns1');
    expect(
      (badvers.message.additionals![0] as any).extendedRcode * 16 + (badvers.response[3] & 0xf),
    ).toBe(RCODE.BADVERS);
    expect(exchange('dig-truncated').message.flag_tc).toBe(true);
    const ns = exchange('dig-ns-glue').message;
    expect(ns.answers!.map((r: any) => r.data)).toEqual(['ns1.example.tld', 'ns2.example.tld']);
    expect(ns.additionals!.some((r) => r.type === 'AAAA')).toBe(true);
  });
});

/** The records of a decoded reply as buildResponse input (dns-packet shape round-trips). */
const records = (rs: DnsRecord[] | undefined) =>
  (rs ?? []).filter((r) => r.type !== 'OPT') as DnsRecord[];

describe('our encoder produces the same bytes as Knot', () => {
  // Knot compresses every name onto the earliest copy, as we do; flags differ only in what
  // the query asked for, so for these replies the bytes must be identical.
  it.each([
    'dig-a-mixed-case',
    'dig-aaaa-cookie',
    'dig-noedns',
    'dig-nxdomain',
    'dig-cname',
    'dig-txt',
    'kdig-mixed-case',
  ])('%s', (label) => {
    const e = exchange(label);
    const { query: queryBytes } = exchanges.get(label)!;
    const reply = buildResponse(
      e.query,
      queryBytes,
      {
        rcode: e.response[3] & 0xf,
        aa: e.message.flag_aa,
        answers: records(e.message.answers),
        authorities: records(e.message.authorities),
        additionals: records(e.message.additionals),
      },
      { maxSize: maxResponseSize(e.query, 'udp') },
    );
    expect(Buffer.from(reply).toString('hex')).toBe(e.response.toString('hex'));
  });

  it("patchStored(prepareStored(Knot's reply)) for a new query in another case", () => {
    const stored = prepareStored(exchanges.get('dig-aaaa-cookie')!.response);
    const mixed = Buffer.from(exchanges.get('dig-aaaa-cookie')!.query);
    mixed[0] = 0x42;
    mixed[13] = 0x57; // 'w' -> 'W'
    const s = scan(mixed);
    if (!s.ok) throw new Error(s.error);
    const reply = patchStored(stored, s.query, mixed, { elapsedSeconds: 100, maxSize: 1232 });
    const m = decode(reply);
    expect(m.ok && m.message).toMatchObject({
      id: 0x42e3,
      answers: [{ name: 'Www.example.tld', type: 'AAAA', ttl: 200 }],
    });
  });
});
