import { type DnsRecord, decode, encode, QTYPE } from '@mdns/protocol';
import { describe, expect, it } from 'vitest';
import { answerFromCopy, buildCopy } from '../src/replica/copy.js';
import { copyFromWire, copyToWire } from '../src/replica/share.js';

// A copy crosses from the primary to the workers as wire-format chunks (replica/share.ts):
// what a worker rebuilds must answer exactly as the primary's copy, for every record type.

const ZONE = 'prod.test';
const rr = (name: string, type: string, data: unknown, ttl = 60) =>
  ({ name, type, class: 'IN', ttl, data }) as DnsRecord;
/** As a transfer hands them over: through the decoder (TXT and unknown types as bytes). */
const asTransferred = (records: DnsRecord[]) => {
  const d = decode(encode({ type: 'response', answers: records }));
  if (!d.ok) throw new Error(d.error);
  return (d.message.answers ?? []) as DnsRecord[];
};
const SOA = rr(
  ZONE,
  'SOA',
  {
    mname: `ns1.${ZONE}`,
    rname: `h.${ZONE}`,
    serial: 4_000_000_001,
    refresh: 3600,
    retry: 600,
    expire: 86400,
    minimum: 30,
  },
  300,
);

describe('a replica copy sent to the workers', () => {
  it('is rebuilt with the same serial, SOA and records, and answers the same', () => {
    const records = asTransferred([
      rr(ZONE, 'NS', `ns1.${ZONE}`),
      rr(`ns1.${ZONE}`, 'A', '192.0.2.53'),
      rr(`web.${ZONE}`, 'A', '10.0.0.1'),
      rr(`web.${ZONE}`, 'AAAA', '2001:db8::1'),
      rr(`lb.${ZONE}`, 'CNAME', 'elb.cloud.example'),
      rr(`*.apps.${ZONE}`, 'A', '10.0.0.9'),
      rr(`_http._tcp.${ZONE}`, 'SRV', { priority: 1, weight: 2, port: 80, target: `web.${ZONE}` }),
      rr(`txt.${ZONE}`, 'TXT', ['hello', 'wörld']),
      rr(`mx.${ZONE}`, 'MX', { preference: 10, exchange: `mail.${ZONE}` }),
    ]);
    const copy = buildCopy(ZONE, SOA, records);
    // Through JSON, as over the IPC channel.
    const wire = JSON.parse(JSON.stringify(copyToWire(copy)));
    const rebuilt = copyFromWire(wire);
    expect(rebuilt.serial).toBe(4_000_000_001);
    expect(rebuilt.soa).toEqual(copy.soa);
    expect(rebuilt.soaTtl).toBe(300);
    expect(rebuilt.records).toEqual(copy.records);
    for (const [name, type] of [
      [`web.${ZONE}`, QTYPE.A],
      [`web.${ZONE}`, QTYPE.AAAA],
      [`x.apps.${ZONE}`, QTYPE.A],
      [`lb.${ZONE}`, QTYPE.A],
      [`txt.${ZONE}`, QTYPE.TXT],
      [`mx.${ZONE}`, QTYPE.MX],
      [`_http._tcp.${ZONE}`, QTYPE.SRV],
      [`nope.${ZONE}`, QTYPE.A],
      [ZONE, QTYPE.NS],
    ] as const) {
      expect(answerFromCopy(rebuilt, name, type)).toEqual(answerFromCopy(copy, name, type));
    }
  });

  it('a big zone goes in several chunks and comes back whole, in order', () => {
    const records = asTransferred(
      Array.from({ length: 20_000 }, (_, i) =>
        rr(`n${i}.apps.${ZONE}`, 'A', `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`),
      ),
    );
    const copy = buildCopy(ZONE, SOA, records);
    const wire = copyToWire(copy);
    expect(wire.chunks.length).toBe(3);
    const rebuilt = copyFromWire(JSON.parse(JSON.stringify(wire)));
    expect(rebuilt.records).toEqual(copy.records);
    expect(answerFromCopy(rebuilt, `n19999.apps.${ZONE}`, QTYPE.A)).toEqual(
      answerFromCopy(copy, `n19999.apps.${ZONE}`, QTYPE.A),
    );
  });
});
