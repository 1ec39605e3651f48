import { type DnsRecord, QTYPE } from '@mdns/protocol';
import { describe, expect, it } from 'vitest';
import type { Policy } from '../src/config/schema.js';
import { positiveAnswer } from '../src/fanout/fanout.js';
import { chooseOwnerData, decide, type UpstreamState } from '../src/fanout/merge.js';
import { classifyReply } from '../src/upstream/classify.js';

// The authority's rows of docs/behaviour.md "one name, different data in different
// clusters": what the client gets for A, AAAA, CNAME and TXT queries under each policy.
// Two clusters: `a` has the better priority, `b` answers first, so `first`, `priority` and
// `all` each pick differently. Each cluster's reply is given as the records a gateway sends
// for that question (a name that is a CNAME answers its CNAME for every type; a name with
// other data answers NODATA for a type it lacks); the real classifier turns it into an outcome.
const Q = 'web.prod.test';

type Rec = [type: 'A' | 'AAAA' | 'CNAME' | 'TXT', data: string, owner?: string];

function rr([type, data, owner]: Rec): DnsRecord {
  return { name: owner ?? Q, type, ttl: 60, data: type === 'TXT' ? [data] : data } as DnsRecord;
}

function upstreams(qtype: number, a: Rec[], b: Rec[]): UpstreamState[] {
  const state = (name: string, priority: number, order: number, recs: Rec[]): UpstreamState => ({
    name,
    priority,
    status: 'done',
    order,
    unhealthy: false,
    outcome: classifyReply({ rcode: 0, answers: recs.map(rr) }, Q, qtype),
  });
  return [state('a', 0, 1, a), state('b', 1, 0, b)];
}

function answer(policy: Policy, qtype: number, a: Rec[], b: Rec[]): string[] {
  const states = upstreams(qtype, a, b);
  const d = decide({ policy, upstreams: states });
  if (d.kind !== 'positive') return [d.kind];
  return positiveAnswer(d.winners, Q, states).records.map((r) => {
    const raw = (r as { data?: unknown }).data;
    const data = Array.isArray(raw) ? String(raw[0]) : String(raw);
    return `${r.name === Q ? '' : `${r.name} `}${r.type} ${data}`;
  });
}

const CNAME_1: Rec[] = [['CNAME', 'lb-1.elb.example.com']];
const A_2: Rec[] = [['A', '10.0.0.2']];
const NODATA: Rec[] = [];

// [row, qtype, a replies, b replies, first, priority, all]
const table: Array<[string, number, Rec[], Rec[], string[], string[], string[]]> = [
  // a: CNAME lb-1 / b: addresses (the issue's case): addresses win the merge
  [
    'CNAME | A, query A',
    QTYPE.A,
    CNAME_1,
    A_2,
    ['A 10.0.0.2'],
    ['CNAME lb-1.elb.example.com'],
    ['A 10.0.0.2'],
  ],
  [
    'CNAME | AAAA, query AAAA',
    QTYPE.AAAA,
    CNAME_1,
    [['AAAA', '2001:db8::2']],
    ['AAAA 2001:db8::2'],
    ['CNAME lb-1.elb.example.com'],
    ['AAAA 2001:db8::2'],
  ],
  // b has only A: its AAAA and CNAME replies are NODATA, so only a's CNAME is POSITIVE
  [
    'CNAME | A, query AAAA',
    QTYPE.AAAA,
    CNAME_1,
    NODATA,
    ['CNAME lb-1.elb.example.com'],
    ['CNAME lb-1.elb.example.com'],
    ['CNAME lb-1.elb.example.com'],
  ],
  [
    'CNAME | A, query CNAME',
    QTYPE.CNAME,
    CNAME_1,
    NODATA,
    ['CNAME lb-1.elb.example.com'],
    ['CNAME lb-1.elb.example.com'],
    ['CNAME lb-1.elb.example.com'],
  ],
  // a CNAME chain inside the zone (a's reply carries the target's A): dropped whole
  [
    'in-zone CNAME chain | A, query A',
    QTYPE.A,
    [
      ['CNAME', 'lb.prod.test'],
      ['A', '10.0.0.9', 'lb.prod.test'],
    ],
    A_2,
    ['A 10.0.0.2'],
    ['CNAME lb.prod.test', 'lb.prod.test A 10.0.0.9'],
    ['A 10.0.0.2'],
  ],
  // two host names: the smallest wins the merge, not the one that arrived first
  ...([QTYPE.A, QTYPE.AAAA, QTYPE.CNAME] as const).map(
    (qtype): [string, number, Rec[], Rec[], string[], string[], string[]] => [
      `CNAME lb-2 | CNAME lb-3, query ${qtype}`,
      qtype,
      [['CNAME', 'lb-2.elb.example.com']],
      [['CNAME', 'LB-3.elb.example.com']],
      ['CNAME LB-3.elb.example.com'],
      ['CNAME lb-2.elb.example.com'],
      ['CNAME lb-2.elb.example.com'],
    ],
  ),
  // a: CNAME / b: only TXT: the CNAME stays and the TXT goes, as in one cluster
  [
    'CNAME | TXT, query TXT',
    QTYPE.TXT,
    CNAME_1,
    [['TXT', 'owner=ops']],
    ['TXT owner=ops'],
    ['CNAME lb-1.elb.example.com'],
    ['CNAME lb-1.elb.example.com'],
  ],
  [
    'CNAME | TXT, query A',
    QTYPE.A,
    CNAME_1,
    NODATA,
    ['CNAME lb-1.elb.example.com'],
    ['CNAME lb-1.elb.example.com'],
    ['CNAME lb-1.elb.example.com'],
  ],
  [
    'CNAME | TXT, query CNAME',
    QTYPE.CNAME,
    CNAME_1,
    NODATA,
    ['CNAME lb-1.elb.example.com'],
    ['CNAME lb-1.elb.example.com'],
    ['CNAME lb-1.elb.example.com'],
  ],
  // no CNAME anywhere: the plain union (active-active)
  [
    'A | A, query A',
    QTYPE.A,
    [['A', '10.0.0.1']],
    A_2,
    ['A 10.0.0.2'],
    ['A 10.0.0.1'],
    ['A 10.0.0.2', 'A 10.0.0.1'],
  ],
];

describe('merge: one name, different data in different clusters', () => {
  it.each(table)('%s', (_row, qtype, a, b, first, priority, all) => {
    expect(answer('first', qtype, a, b)).toEqual(first);
    expect(answer('priority', qtype, a, b)).toEqual(priority);
    expect(answer('all', qtype, a, b)).toEqual(all);
  });

  it('never leaves a CNAME beside other data at the name under `all`', () => {
    for (const [, qtype, a, b] of table) {
      // Records at the name itself are printed without an owner.
      const types = new Set(answer('all', qtype, a, b).map((s) => s.split(' ')[0]));
      types.delete('lb.prod.test');
      if (types.has('CNAME')) expect([...types]).toEqual(['CNAME']);
    }
  });
});

describe('chooseOwnerData', () => {
  it('says what it left out and why', () => {
    const lists = [[rr(CNAME_1[0])], [rr(A_2[0])]];
    expect(chooseOwnerData(lists, 'WEB.prod.test.')).toEqual({
      kept: [1],
      dropped: [0],
      why: 'addresses win over a CNAME',
    });
    const none = chooseOwnerData([[rr(A_2[0])], [rr(['A', '10.0.0.3'])]], Q);
    expect(none).toEqual({ kept: [0, 1], dropped: [], why: '' });
  });
});
