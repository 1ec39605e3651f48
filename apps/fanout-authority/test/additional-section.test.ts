import { type DnsRecord, QTYPE } from '@mdns/protocol';
import { describe, expect, it } from 'vitest';
import { mergeRecords, positiveAnswer, rdataKey } from '../src/fanout/fanout.js';
import type { UpstreamState } from '../src/fanout/merge.js';
import { additionalFor, classifyReply } from '../src/upstream/classify.js';

// docs/behaviour.md, fanout-authority: the additional section of SRV/MX answers, and the
// `all` merge of records whose data holds names. The e2e view (real gateways, dig/kdig) is
// e2e-gateway-record-types.test.ts.
const ZONE = 'prod.test';
const Q = `_https._tcp.${ZONE}`;

const srv = (target: string, ttl = 60): DnsRecord =>
  ({
    name: Q,
    type: 'SRV',
    ttl,
    data: { priority: 10, weight: 5, port: 443, target },
  }) as DnsRecord;
const mx = (exchange: string, ttl = 60): DnsRecord =>
  ({ name: `mx.${ZONE}`, type: 'MX', ttl, data: { preference: 10, exchange } }) as DnsRecord;
const a = (name: string, data: string, ttl = 60): DnsRecord => ({ name, type: 'A', ttl, data });
const opt = { name: '.', type: 'OPT', udpPayloadSize: 1232 } as unknown as DnsRecord;

describe('additionalFor: what of an upstream’s additional section is passed on', () => {
  it('the A/AAAA of SRV targets and MX exchanges in the zone, names compared case-insensitively', () => {
    const extra = [
      a(`WEB.${ZONE}`, '192.0.2.1'),
      { name: `web.${ZONE}`, type: 'AAAA', ttl: 60, data: '2001:db8::1' } as DnsRecord,
      a(`mail.${ZONE}`, '192.0.2.25'),
      opt,
    ];
    expect(additionalFor([srv(`web.${ZONE}`)], extra, ZONE).map((r) => r.type)).toEqual([
      'A',
      'AAAA',
    ]);
    expect(additionalFor([mx(`Mail.${ZONE}.`)], extra, ZONE)).toEqual([extra[2]]);
  });

  it('no address of a name outside the zone, of a name no record points at, or of another type', () => {
    const extra = [
      a('backup.example.net', '203.0.113.9'),
      a(`other.${ZONE}`, '192.0.2.9'),
      { name: `web.${ZONE}`, type: 'TXT', ttl: 60, data: ['x'] } as DnsRecord,
    ];
    expect(additionalFor([srv('backup.example.net'), srv(`web.${ZONE}`)], extra, ZONE)).toEqual([]);
  });

  it('only SRV and MX answers carry additional data', () => {
    const ptr = { name: Q, type: 'PTR', ttl: 60, data: `web.${ZONE}` } as DnsRecord;
    expect(additionalFor([ptr], [a(`web.${ZONE}`, '192.0.2.1')], ZONE)).toEqual([]);
  });

  it('classifyReply keeps them on a POSITIVE outcome', () => {
    const c = classifyReply(
      {
        rcode: 0,
        answers: [srv(`web.${ZONE}`)],
        additionals: [a(`web.${ZONE}`, '192.0.2.1'), opt],
      },
      Q,
      QTYPE.SRV,
      ZONE,
    );
    expect(c.additionals).toEqual([a(`web.${ZONE}`, '192.0.2.1')]);
  });
});

describe('positiveAnswer: additional data only from the answers that formed the reply', () => {
  const state = (name: string, order: number, answers: DnsRecord[], extra: DnsRecord[]) =>
    ({
      name,
      priority: 0,
      status: 'done',
      order,
      unhealthy: false,
      outcome: classifyReply({ rcode: 0, answers, additionals: extra }, Q, QTYPE.SRV, ZONE),
    }) as UpstreamState;

  it('all: the winners’ additional records merged, deduplicated', () => {
    const states = [
      state('a', 0, [srv(`web.${ZONE}`)], [a(`web.${ZONE}`, '192.0.2.1', 60)]),
      state('b', 1, [srv(`web.${ZONE}`)], [a(`web.${ZONE}`, '192.0.2.1', 30)]),
    ];
    const r = positiveAnswer([0, 1], Q, states);
    expect(r.records).toHaveLength(1);
    expect(r.additionals).toEqual([a(`web.${ZONE}`, '192.0.2.1', 30)]);
  });

  it('an answer left out by the owner-data rule brings no additional records', () => {
    const cname = { name: Q, type: 'CNAME', ttl: 60, data: `srv.elsewhere.${ZONE}` } as DnsRecord;
    const states = [
      state('a', 0, [srv(`web.${ZONE}`)], [a(`web.${ZONE}`, '192.0.2.1')]),
      state('b', 1, [cname], []),
    ];
    const r = positiveAnswer([0, 1], Q, states);
    expect(r.records).toEqual([cname]);
    expect(r.additionals).toEqual([]);
  });
});

describe('mergeRecords: records with names in their data', () => {
  it('an MX exchange or PTR target in another letter case is the same record (0x20 replies)', () => {
    const merged = mergeRecords([[mx(`mail.PrOd.test`, 300)], [mx(`mail.pRoD.TEST`, 120)]]);
    expect(merged).toHaveLength(1);
    const ptr = (data: string) => ({ name: Q, type: 'PTR', ttl: 60, data }) as DnsRecord;
    expect(rdataKey(ptr('Web.Prod.Test.'))).toBe(rdataKey(ptr('web.prod.test')));
  });

  it('the RRset takes the lowest TTL even when that record was a duplicate', () => {
    const merged = mergeRecords([[mx(`mail.${ZONE}`, 300)], [mx(`mail.${ZONE}`, 120)]]);
    expect(merged.map((r) => (r as { ttl: number }).ttl)).toEqual([120]);
  });

  it('TXT and CAA values stay case-sensitive', () => {
    const txt = (v: string) => ({ name: Q, type: 'TXT', ttl: 60, data: [v] }) as DnsRecord;
    expect(mergeRecords([[txt('A')], [txt('a')]])).toHaveLength(2);
  });
});
