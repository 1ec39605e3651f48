import { describe, expect, it } from 'vitest';
import {
  answerQuery,
  type DnsRecord,
  indexFromRecords,
  negativeSoa,
  RCODE,
  type ZoneApex,
  ZoneSet,
} from '../src/index.js';
import { scanned } from './support/query.js';

const ZONE = 'replica.example.tld';
const rr = (name: string, type: string, data: unknown, ttl = 300): DnsRecord =>
  ({ name, type, class: 'IN', ttl, data }) as DnsRecord;

// Records as a zone transfer delivers them (dns-packet's shape), names in mixed case and
// with trailing dots as a zone file writes them.
const RECORDS: DnsRecord[] = [
  rr(`${ZONE}.`, 'SOA', {
    mname: `ns1.${ZONE}`,
    rname: `hostmaster.${ZONE}`,
    serial: 9,
    refresh: 3600,
    retry: 600,
    expire: 86400,
    minimum: 30,
  }),
  rr(ZONE, 'NS', `ns1.${ZONE}`),
  rr(`web.${ZONE}`, 'A', '192.0.2.2', 60),
  rr(`Web.${ZONE}.`, 'A', '192.0.2.1', 120),
  rr(`web.${ZONE}`, 'AAAA', '2001:DB8::1'),
  rr(`web.${ZONE}`, 'TXT', [Buffer.from('v=spf1 '), Buffer.from('-all')], 30),
  rr(`lb.${ZONE}`, 'CNAME', 'abc.elb.example.'),
  rr(`*.apps.${ZONE}`, 'A', '192.0.2.9'),
  rr(`svc.deep.${ZONE}`, 'A', '192.0.2.7'),
  rr(`_sip._tcp.${ZONE}`, 'SRV', { priority: 10, weight: 5, port: 5060, target: `Web.${ZONE}.` }),
  rr(`mail.${ZONE}`, 'MX', { preference: 10, exchange: `web.${ZONE}` }),
  rr(ZONE, 'CAA', { flags: 0, tag: 'issue', value: 'letsencrypt.org' }),
  rr(`sub.${ZONE}`, 'NS', 'ns.elsewhere.example'),
  rr('www.other.example', 'A', '198.51.100.1'),
  { name: `chaos.${ZONE}`, type: 'A', class: 'CH', ttl: 60, data: '192.0.2.3' } as DnsRecord,
  rr(`web.${ZONE}`, 'HINFO', { cpu: 'x', os: 'y' }),
];

const loaded = indexFromRecords(RECORDS, ZONE);
const { index } = loaded;

function recordsAt(name: string) {
  const found = index.lookup(name, ZONE);
  return found.type === 'records' ? found.records : found.type;
}

describe('indexFromRecords: plain records into a zone index', () => {
  it('merges each RRset, keeping its own TTL (the smallest of its records)', () => {
    expect(recordsAt(`web.${ZONE}`)).toMatchObject({
      a: ['192.0.2.1', '192.0.2.2'],
      aTtl: 60,
      aaaa: ['2001:db8::1'],
      aaaaTtl: 300,
      txt: ['v=spf1 -all'],
      txtTtl: 30,
      cname: null,
    });
    expect(recordsAt(`lb.${ZONE}`)).toMatchObject({ cname: 'abc.elb.example', ttl: 300 });
  });

  it('extra types carry the presentation text the index sorts by', () => {
    expect(recordsAt(`_sip._tcp.${ZONE}`)).toMatchObject({
      extra: [{ type: 'SRV', text: `10 5 5060 web.${ZONE}`, ttl: 300 }],
    });
    expect(recordsAt(`mail.${ZONE}`)).toMatchObject({
      extra: [{ type: 'MX', text: `10 web.${ZONE}` }],
    });
    expect(index.recordsAt(ZONE)?.extra).toMatchObject([
      { type: 'CAA', text: '0 issue "letsencrypt.org"' },
    ]);
  });

  it('wildcards and empty non-terminals follow the index rules', () => {
    expect(index.lookup(`a.b.apps.${ZONE}`, ZONE)).toMatchObject({
      type: 'records',
      wildcard: true,
    });
    expect(recordsAt(`deep.${ZONE}`)).toBe('empty');
    expect(recordsAt(`gone.${ZONE}`)).toBe('nxdomain');
  });

  it('keeps the apex SOA/NS apart and names every record it skips, with why', () => {
    expect(loaded.apex.map((r) => r.type)).toEqual(['SOA', 'NS']);
    expect(loaded.skipped).toEqual([
      {
        at: 12,
        name: `sub.${ZONE}`,
        type: 'NS',
        reason: 'NS below the apex (delegation) is not served',
      },
      { at: 13, name: 'www.other.example', type: 'A', reason: `outside the zone ${ZONE}` },
      { at: 14, name: `chaos.${ZONE}`, type: 'A', reason: 'class CH: only IN is served' },
      { at: 15, name: `web.${ZONE}`, type: 'HINFO', reason: 'type HINFO is not served' },
    ]);
    expect(recordsAt(`sub.${ZONE}`)).toBe('nxdomain');
    expect(index.size).toBe(7);
  });

  it('answers through answerQuery like the gateway index', () => {
    const apex: ZoneApex = {
      zone: ZONE,
      soa: { ...(RECORDS[0] as { data: ZoneApex['soa'] }).data },
      soaTtl: 300,
      ns: [`ns1.${ZONE}`],
      nsTtl: 300,
      glue: new Map(),
    };
    const zones = new ZoneSet([ZONE]);
    const zone = { name: ZONE, apex, negativeSoa: negativeSoa(apex) };
    const source = {
      zoneOf: (n: string) => (zones.match(n) === undefined ? undefined : zone),
      lookup: (n: string, z: string) => index.lookup(n, z),
      ready: () => true,
    };
    const mx = answerQuery(scanned(`mail.${ZONE}`, 'MX'), source).parts;
    expect(mx.answers).toMatchObject([{ type: 'MX', data: { exchange: `web.${ZONE}` } }]);
    // The exchange's addresses ride along in the additional section.
    expect(mx.additionals?.map((r) => r.type)).toEqual(['A', 'A', 'AAAA']);
    expect(answerQuery(scanned(`gone.${ZONE}`, 'A'), source).parts.rcode).toBe(RCODE.NXDOMAIN);
    const txt = answerQuery(scanned(`web.${ZONE}`, 'TXT'), source).parts;
    expect(txt.answers).toMatchObject([{ ttl: 30, data: ['v=spf1 -all'] }]);
  });
});
