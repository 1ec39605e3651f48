import { describe, expect, it } from 'vitest';
import {
  type AnswerSource,
  answerQuery,
  type Claim,
  QTYPE,
  RCODE,
  RecordIndex,
  ZoneSet,
} from '../src/index.js';
import { type QueryOptions, scanned } from './support/query.js';
import { apexOf, ruleZone } from './support/zone.js';

const ZONE = 'prod.example.tld';
/** Kind precedence as the gateway configures it by default (k8s_gateway's order). */
const KINDS = ['HTTPRoute', 'TLSRoute', 'GRPCRoute', 'Ingress', 'Service', 'DNSEndpoint'];

const OTHER = 'other.example';

function claim(name: string, parts: Partial<Claim>): Claim {
  return { name, a: [], aaaa: [], txt: [], ttl: 60, ...parts };
}

const index = new RecordIndex(KINDS);
index.replaceObject('Ingress', 'ns/web', [
  claim(`web.ns.${ZONE}`, { a: ['10.0.0.1', '10.0.0.2'] }),
]);
index.replaceObject('Ingress', 'ns/lb', [
  claim(`lb.ns.${ZONE}`, { cname: 'abc.elb.amazonaws.com' }),
]);
index.replaceObject('Ingress', 'ns/v6', [claim(`v6.ns.${ZONE}`, { aaaa: ['2001:db8::1'] })]);
index.replaceObject('Ingress', 'ns/wild', [claim(`*.apps.${ZONE}`, { a: ['10.0.0.9'] })]);
index.replaceObject('Ingress', 'ns/apex', [claim(ZONE, { a: ['10.0.0.100'] })]);
index.replaceObject('DNSEndpoint', 'ns/txt', [claim(`txt.${ZONE}`, { txt: ['hello'], ttl: 5 })]);
index.replaceObject('Ingress', 'o/x', [claim(`x.${OTHER}`, { a: ['10.1.0.1'] })]);
// Three labels below the zone: `deep.team` and `team` are empty non-terminals one and two
// labels above it.
index.replaceObject('Ingress', 'ns/deep', [claim(`svc.deep.team.${ZONE}`, { a: ['10.0.0.7'] })]);

const zones = new ZoneSet([ZONE, OTHER]);
const ruleZones = new Map([ZONE, OTHER].map((z) => [z, ruleZone(apexOf(z))]));

function source(ready = true): AnswerSource {
  return {
    zoneOf: (n) => ruleZones.get(zones.match(n) ?? ''),
    lookup: (n, z) => index.lookup(n, z),
    ready: () => ready,
  };
}

function ask(name: string, type: string, options: QueryOptions = {}, ready = true) {
  return answerQuery(scanned(name, type, options), source(ready));
}

/** Records as plain objects: the test reads fields that dns-packet's union type hides. */
const plain = (records: readonly unknown[] | undefined) =>
  (records ?? []) as { name: string; type: string; ttl: number; data: unknown }[];

/** Compact view: rcode, answer types/data, authority types. */
function summary(name: string, type: string, options: QueryOptions = {}, ready = true) {
  const { parts, zone } = ask(name, type, options, ready);
  return {
    rcode: parts.rcode,
    zone,
    answers: plain(parts.answers).map((r) => `${r.type} ${JSON.stringify(r.data)}`),
    authority: plain(parts.authorities).map((r) => r.type),
  };
}

describe('answer: shared rules (errors)', () => {
  it.each<[string, string, string, QueryOptions, number]>([
    ['NOTIFY opcode', `web.ns.${ZONE}`, 'SOA', { opcode: 4 }, RCODE.NOTIMP],
    ['UPDATE opcode', `web.ns.${ZONE}`, 'SOA', { opcode: 5 }, RCODE.NOTIMP],
    ['two questions', `web.ns.${ZONE}`, 'A', { qdcount: 2 }, RCODE.FORMERR],
    ['no question', `web.ns.${ZONE}`, 'A', { qdcount: 0 }, RCODE.FORMERR],
    ['class CH', `web.ns.${ZONE}`, 'A', { class: 'CH' }, RCODE.REFUSED],
    ['class ANY for A', `web.ns.${ZONE}`, 'A', { class: 'ANY' }, RCODE.REFUSED],
    ['out of zone', 'example.com', 'A', {}, RCODE.REFUSED],
    ['parent of the zone', 'example.tld', 'SOA', {}, RCODE.REFUSED],
    ['AXFR', ZONE, 'AXFR', {}, RCODE.REFUSED],
    ['IXFR', ZONE, 'IXFR', {}, RCODE.REFUSED],
  ])('%s -> rcode %i', (_label, name, type, options, rcode) => {
    const { parts, cacheable } = ask(name, type, options);
    expect(parts.rcode).toBe(rcode);
    expect(parts.answers ?? []).toEqual([]);
    expect(cacheable).toBe(false);
  });

  it('class ANY is allowed for SOA', () => {
    expect(summary(ZONE, 'SOA', { class: 'ANY' }).answers).toHaveLength(1);
  });

  it('out of zone has no AA and no zone label', () => {
    const { parts, zone } = ask('example.com', 'A');
    expect(parts.aa ?? false).toBe(false);
    expect(zone).toBeNull();
  });
});

describe('answer: before the first full sync', () => {
  it.each([
    [`web.ns.${ZONE}`, 'A'],
    [ZONE, 'SOA'],
  ])('%s %s -> SERVFAIL', (name, type) => {
    const a = ask(name, type, {}, false);
    expect(a.parts.rcode).toBe(RCODE.SERVFAIL);
    expect(a.cacheable).toBe(false);
  });
  it('out of zone is still REFUSED', () => {
    expect(ask('example.com', 'A', {}, false).parts.rcode).toBe(RCODE.REFUSED);
  });
});

describe('answer: the zone apex', () => {
  it('SOA, AA=1', () => {
    const { parts } = ask(ZONE, 'SOA');
    expect(parts.aa).toBe(true);
    expect(parts.answers?.map((r) => r.type)).toEqual(['SOA']);
  });
  it('NS with glue for in-zone nameservers only', () => {
    const { parts } = ask(ZONE, 'NS');
    expect(plain(parts.answers).map((r) => r.data)).toEqual([`ns1.${ZONE}`, 'ns.outside.example']);
    expect(plain(parts.additionals).map((r) => `${r.type} ${r.data}`)).toEqual([
      'A 192.0.2.53',
      'AAAA 2001:db8::53',
    ]);
  });
  it('A at the apex from an Ingress, beside SOA/NS', () => {
    expect(summary(ZONE, 'A').answers).toEqual(['A "10.0.0.100"']);
  });
  it('AAAA at the apex: NODATA with the SOA', () => {
    expect(summary(ZONE, 'AAAA')).toMatchObject({ rcode: 0, answers: [], authority: ['SOA'] });
  });
});

describe('answer: names in the index', () => {
  it.each([
    ['A union', `web.ns.${ZONE}`, 'A', 0, ['A "10.0.0.1"', 'A "10.0.0.2"'], []],
    ['AAAA on an IPv4-only name: NODATA', `web.ns.${ZONE}`, 'AAAA', 0, [], ['SOA']],
    ['A on an IPv6-only name: NODATA', `v6.ns.${ZONE}`, 'A', 0, [], ['SOA']],
    ['AAAA', `v6.ns.${ZONE}`, 'AAAA', 0, ['AAAA "2001:db8::1"'], []],
    ['unknown type: NODATA', `web.ns.${ZONE}`, 'TYPE666', 0, [], ['SOA']],
    ['MX: NODATA', `web.ns.${ZONE}`, 'MX', 0, [], ['SOA']],
    [
      'hostname address as CNAME (A)',
      `lb.ns.${ZONE}`,
      'A',
      0,
      ['CNAME "abc.elb.amazonaws.com"'],
      [],
    ],
    [
      'hostname address as CNAME (AAAA)',
      `lb.ns.${ZONE}`,
      'AAAA',
      0,
      ['CNAME "abc.elb.amazonaws.com"'],
      [],
    ],
    ['CNAME asked directly', `lb.ns.${ZONE}`, 'CNAME', 0, ['CNAME "abc.elb.amazonaws.com"'], []],
    ['CNAME asked on an address name: NODATA', `web.ns.${ZONE}`, 'CNAME', 0, [], ['SOA']],
    ['TXT', `txt.${ZONE}`, 'TXT', 0, ['TXT ["hello"]'], []],
    ['empty non-terminal: NODATA', `ns.${ZONE}`, 'A', 0, [], ['SOA']],
    ['empty non-terminal one label up: NODATA', `deep.team.${ZONE}`, 'A', 0, [], ['SOA']],
    ['empty non-terminal two labels up: NODATA', `team.${ZONE}`, 'A', 0, [], ['SOA']],
    ['below a deep empty non-terminal: NXDOMAIN', `x.team.${ZONE}`, 'A', 3, [], ['SOA']],
    ['missing name: NXDOMAIN', `nope.${ZONE}`, 'A', 3, [], ['SOA']],
    ['wildcard, one level', `a.apps.${ZONE}`, 'A', 0, ['A "10.0.0.9"'], []],
    ['wildcard, three levels', `a.b.c.apps.${ZONE}`, 'A', 0, ['A "10.0.0.9"'], []],
    ['SOA below the apex: NODATA', `web.ns.${ZONE}`, 'SOA', 0, [], ['SOA']],
    ['second zone', `x.${OTHER}`, 'A', 0, ['A "10.1.0.1"'], []],
    ['second zone NXDOMAIN', `y.${OTHER}`, 'A', 3, [], ['SOA']],
  ])('%s', (_label, name, type, rcode, answers, authority) => {
    expect(summary(name, type)).toMatchObject({ rcode, answers, authority });
  });

  it('owner of a wildcard answer is the query name', () => {
    const { parts } = ask(`q.apps.${ZONE}`, 'A');
    expect(parts.answers?.[0].name).toBe(`q.apps.${ZONE}`);
  });

  it('the negative SOA TTL is min(SOA TTL, minimum) and names the matched zone', () => {
    const { parts } = ask(`nope.${OTHER}`, 'A');
    expect(parts.authorities?.[0]).toMatchObject({ name: OTHER, ttl: 30 });
  });

  it('record TTL comes from the claim', () => {
    expect(plain(ask(`txt.${ZONE}`, 'TXT').parts.answers)[0].ttl).toBe(5);
  });
});

describe('answer: QTYPE ANY (RFC 8482)', () => {
  it('one HINFO for an existing name', () => {
    expect(summary(`web.ns.${ZONE}`, 'ANY').answers).toEqual(['HINFO {"cpu":"RFC8482","os":""}']);
  });
  it('NXDOMAIN for a missing name', () => {
    expect(summary(`nope.${ZONE}`, 'ANY').rcode).toBe(RCODE.NXDOMAIN);
  });
  it('ANY at the apex', () => {
    expect(ask(ZONE, 'ANY').parts.answers).toHaveLength(1);
  });
});

it('qtype constants used by the table are the protocol’s', () => {
  expect(QTYPE.ANY).toBe(255);
});
