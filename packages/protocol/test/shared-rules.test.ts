import { describe, expect, it } from 'vitest';
import {
  CLASS,
  type LocalData,
  OPCODE,
  QTYPE,
  RCODE,
  rcodeName,
  type ScannedQuery,
  type SharedRules,
  sharedRules,
  ZoneSet,
} from '../src/index.js';
import { makeQuery, type QueryShape } from './support/query.js';
import { apexOf, ruleZone } from './support/zone.js';

const ZONE = 'prod.example.tld';
const RULE_ZONE = ruleZone(apexOf(ZONE, { a: ['192.0.2.53'], aaaa: [] }));
const zones = new ZoneSet([ZONE]);
const zoneOf = (qname: string) => (zones.match(qname) === undefined ? undefined : RULE_ZONE);

/** The authority's rules: no local data (names it does not decide are fanned out). */
const fanOut: SharedRules = { zoneOf, refuseTransfers: true, local: null };

/** The gateway's rules: local data holding one name, `web.<zone>`. */
function withData(ready = true): SharedRules<string> {
  const local: LocalData<string> = {
    ready: () => ready,
    find: (qname) => (qname === `web.${ZONE}` || qname === ZONE ? qname : null),
  };
  return { zoneOf, refuseTransfers: true, local };
}

function q(shape: QueryShape, override: Partial<ScannedQuery> = {}): ScannedQuery {
  return { ...makeQuery({ edns: null, ...shape }).query, ...override };
}

/** `kind rcode reason` of a decision, the part both servers must agree on. */
function verdict<F>(query: ScannedQuery, rules: SharedRules<F>): string {
  const d = sharedRules(query, rules);
  if (d.kind === 'error') return `error ${rcodeName(d.rcode)} ${d.reason}`;
  if (d.kind === 'answer') return `answer ${rcodeName(d.parts.rcode)} ${d.reason}`;
  return 'data';
}

describe('shared rules: the same verdict on both servers', () => {
  const rows: [string, ScannedQuery, string][] = [
    ['opcode STATUS', q({ name: `web.${ZONE}` }, { opcode: OPCODE.STATUS }), 'error NOTIMP opcode'],
    ['QDCOUNT 2', q({ name: `web.${ZONE}` }, { qdcount: 2 }), 'error FORMERR qdcount'],
    [
      'bytes after the last record',
      q({ name: `web.${ZONE}` }, { trailing: 4 }),
      'error FORMERR trailing',
    ],
    ['class CH', q({ name: `web.${ZONE}` }, { qclass: CLASS.CH }), 'error REFUSED class'],
    [
      'class ANY for SOA',
      q({ name: ZONE, type: 'SOA' }, { qclass: CLASS.ANY }),
      'answer NOERROR apex',
    ],
    [
      'EDNS version 1, even with a bad opcode',
      q({ name: `web.${ZONE}`, edns: { version: 1 } }, { opcode: OPCODE.STATUS }),
      'error BADVERS edns-version',
    ],
    ['outside every zone', q({ name: 'example.org' }), 'error REFUSED zone'],
    ['AXFR', q({ name: ZONE, type: 'AXFR' }), 'error REFUSED transfer'],
    ['IXFR', q({ name: ZONE }, { qtype: QTYPE.IXFR }), 'error REFUSED transfer'],
    ['a dot inside a label', q({ name: `a\\.b.${ZONE}` }), 'answer NXDOMAIN name'],
    ['glue A', q({ name: `ns1.${ZONE}` }), 'answer NOERROR glue'],
    ['glue of the other family', q({ name: `ns1.${ZONE}`, type: 'AAAA' }), 'answer NOERROR glue'],
    ['apex SOA', q({ name: ZONE, type: 'SOA' }), 'answer NOERROR apex'],
    ['apex NS', q({ name: ZONE, type: 'NS' }), 'answer NOERROR apex'],
    ['ANY at an existing name', q({ name: `web.${ZONE}`, type: 'ANY' }), 'answer NOERROR any'],
    ['A at an existing name', q({ name: `web.${ZONE}` }), 'data'],
  ];
  it.each(rows)('%s', (_, query, expected) => {
    expect(verdict(query, fanOut)).toBe(expected);
    expect(verdict(query, withData())).toBe(expected);
  });

  it('an answer carries the zone SOA for negatives and the glue for A', () => {
    const name = sharedRules(q({ name: `a\\.b.${ZONE}` }), fanOut);
    expect(name).toMatchObject({
      kind: 'answer',
      parts: { aa: true, authorities: [RULE_ZONE.negativeSoa] },
    });
    const glue = sharedRules(q({ name: `ns1.${ZONE}` }), fanOut);
    expect(glue).toMatchObject({ parts: { answers: [{ type: 'A', data: '192.0.2.53' }] } });
    const nodata = sharedRules(q({ name: `ns1.${ZONE}`, type: 'AAAA' }), fanOut);
    expect(nodata).toMatchObject({
      parts: { rcode: RCODE.NOERROR, authorities: [{ type: 'SOA' }] },
    });
    const any = sharedRules(q({ name: `web.${ZONE}`, type: 'ANY' }), fanOut);
    expect(any).toMatchObject({
      parts: { answers: [{ type: 'HINFO', data: { cpu: 'RFC8482' } }] },
    });
  });
});

describe('shared rules: local data (the gateway) against none (the authority)', () => {
  it('a name the data lacks is NXDOMAIN there, also for ANY; without data it is left open', () => {
    const missing = q({ name: `gone.${ZONE}` });
    expect(verdict(missing, withData())).toBe('answer NXDOMAIN nxdomain');
    expect(verdict(missing, fanOut)).toBe('data');
    const any = q({ name: `gone.${ZONE}`, type: 'ANY' });
    expect(verdict(any, withData())).toBe('answer NXDOMAIN nxdomain');
    expect(verdict(any, fanOut)).toBe('answer NOERROR any');
  });
  it('unready data gives SERVFAIL after the edge rules, apex included, glue not', () => {
    expect(verdict(q({ name: ZONE, type: 'SOA' }), withData(false))).toBe('error SERVFAIL unready');
    expect(verdict(q({ name: `ns1.${ZONE}` }), withData(false))).toBe('answer NOERROR glue');
    expect(verdict(q({ name: 'example.org' }), withData(false))).toBe('error REFUSED zone');
  });
  it('what the data found travels with the decision', () => {
    expect(sharedRules(q({ name: `web.${ZONE}` }), withData())).toEqual({
      kind: 'data',
      zone: RULE_ZONE,
      found: `web.${ZONE}`,
    });
  });
});

describe('shared rules: transfers are a parameter', () => {
  it('refuseTransfers: false hands AXFR/IXFR to the caller', () => {
    const serving: SharedRules = { ...fanOut, refuseTransfers: false };
    expect(sharedRules(q({ name: ZONE, type: 'AXFR' }), serving)).toEqual({
      kind: 'data',
      zone: RULE_ZONE,
      found: null,
    });
    expect(verdict(q({ name: 'example.org', type: 'AXFR' }), serving)).toBe('error REFUSED zone');
  });
});

describe('rcodeName', () => {
  it.each([
    [0, 'NOERROR'],
    [3, 'NXDOMAIN'],
    [5, 'REFUSED'],
    [9, 'NOTAUTH'],
    [16, 'BADVERS'],
    [23, 'RCODE23'],
  ])('%i is %s', (rcode, name) => expect(rcodeName(rcode)).toBe(name));
  it('an unknown code takes the given name', () => {
    expect(rcodeName(23, 'other')).toBe('other');
    expect(rcodeName(2, 'other')).toBe('SERVFAIL');
  });
});
