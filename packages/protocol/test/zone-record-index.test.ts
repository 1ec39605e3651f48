import { describe, expect, it } from 'vitest';
import { type Claim, QTYPE, RecordIndex, recordsFor } from '../src/index.js';

/** Kind precedence as the gateway configures it by default (k8s_gateway's order). */
const KINDS = ['HTTPRoute', 'TLSRoute', 'GRPCRoute', 'Ingress', 'Service', 'DNSEndpoint'];

const ZONE = 'prod.example.tld';

function claim(name: string, parts: Partial<Claim> = {}): Claim {
  return { name, a: [], aaaa: [], txt: [], ttl: 60, ...parts };
}

function kindOf(index: RecordIndex, qname: string, zone = ZONE): string {
  const r = index.lookup(qname, zone);
  return r.type === 'records' ? `records${r.wildcard ? '*' : ''}` : r.type;
}

function aOf(index: RecordIndex, qname: string): readonly string[] | undefined {
  const r = index.lookup(qname, ZONE);
  return r.type === 'records' ? r.records.a : undefined;
}

describe('RecordIndex: names and existence', () => {
  const index = new RecordIndex(KINDS);
  index.replaceObject('Ingress', 'ns/web', [claim(`svc.ns.${ZONE}`, { a: ['10.0.0.1'] })]);
  index.replaceObject('Ingress', 'ns/wild', [claim(`*.apps.${ZONE}`, { a: ['10.0.0.9'] })]);
  index.replaceObject('Ingress', 'ns/exact', [claim(`exact.apps.${ZONE}`, { a: ['10.0.0.7'] })]);
  index.replaceObject('Ingress', 'ns/deep', [claim(`x.sub.apps.${ZONE}`, { a: ['10.0.0.8'] })]);

  it.each([
    ['exact name', `svc.ns.${ZONE}`, 'records'],
    ['case is the caller’s job: the index holds normalized names', `SVC.ns.${ZONE}`, 'nxdomain'],
    ['empty non-terminal', `ns.${ZONE}`, 'empty'],
    ['zone apex without records', ZONE, 'empty'],
    ['unknown name', `nope.${ZONE}`, 'nxdomain'],
    ['below an existing leaf', `a.svc.ns.${ZONE}`, 'nxdomain'],
    ['wildcard, one label', `a.apps.${ZONE}`, 'records*'],
    ['wildcard, two labels', `a.b.apps.${ZONE}`, 'records*'],
    ['wildcard, four labels', `a.b.c.d.apps.${ZONE}`, 'records*'],
    ['exact beats wildcard', `exact.apps.${ZONE}`, 'records'],
    ['the wildcard parent is an empty non-terminal', `apps.${ZONE}`, 'empty'],
    ['a closer existing name blocks the wildcard (RFC 4592)', `y.sub.apps.${ZONE}`, 'nxdomain'],
    ['an empty non-terminal is not covered by the wildcard', `sub.apps.${ZONE}`, 'empty'],
    ['the wildcard owner itself', `*.apps.${ZONE}`, 'records'],
  ])('%s: %s -> %s', (_label, qname, expected) => {
    expect(kindOf(index, qname)).toBe(expected);
  });

  it('answers the wildcard’s addresses for a synthesized name', () => {
    expect(aOf(index, `q.r.apps.${ZONE}`)).toEqual(['10.0.0.9']);
    expect(aOf(index, `exact.apps.${ZONE}`)).toEqual(['10.0.0.7']);
  });
});

describe('RecordIndex: merging claims', () => {
  it('unions addresses of one kind, deduplicated and sorted', () => {
    const index = new RecordIndex(KINDS);
    index.replaceObject('Ingress', 'b/two', [claim(`n.${ZONE}`, { a: ['10.0.0.3', '10.0.0.1'] })]);
    index.replaceObject('Ingress', 'a/one', [claim(`n.${ZONE}`, { a: ['10.0.0.2', '10.0.0.1'] })]);
    expect(aOf(index, `n.${ZONE}`)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    index.replaceObject('Ingress', 'b/two', []);
    expect(aOf(index, `n.${ZONE}`)).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it.each<[string, string[], string]>([
    ['default order: Ingress beats Service', ['HTTPRoute', 'Ingress', 'Service'], 'Ingress'],
    ['configured order: Service first', ['Service', 'Ingress'], 'Service'],
  ])('different kinds: %s', (_label, order, winner) => {
    const index = new RecordIndex(order);
    index.replaceObject('Service', 'ns/svc', [claim(`svc.ns.${ZONE}`, { a: ['10.1.1.1'] })]);
    index.replaceObject('Ingress', 'ns/ing', [claim(`svc.ns.${ZONE}`, { a: ['10.2.2.2'] })]);
    const r = index.lookup(`svc.ns.${ZONE}`, ZONE);
    expect(r.type === 'records' && r.records.kind).toBe(winner);
    expect(r.type === 'records' && r.records.a.length).toBe(1);
  });

  it('the losing kind takes over when the winner goes away', () => {
    const index = new RecordIndex(KINDS);
    index.replaceObject('Service', 'ns/svc', [claim(`svc.ns.${ZONE}`, { a: ['10.1.1.1'] })]);
    index.replaceObject('Ingress', 'ns/ing', [claim(`svc.ns.${ZONE}`, { a: ['10.2.2.2'] })]);
    index.replaceObject('Ingress', 'ns/ing', []);
    expect(aOf(index, `svc.ns.${ZONE}`)).toEqual(['10.1.1.1']);
  });

  it.each([
    [
      'addresses beat a host name',
      [{ a: ['10.0.0.1'] }, { cname: 'lb.cloud.example' }],
      null,
      ['10.0.0.1'],
    ],
    ['a host name alone is a CNAME', [{ cname: 'lb.cloud.example' }], 'lb.cloud.example', []],
    ['the smallest of several host names', [{ cname: 'z.lb' }, { cname: 'b.lb' }], 'b.lb', []],
  ] as const)('CNAME choice: %s', (_label, parts, cname, a) => {
    const index = new RecordIndex(KINDS);
    parts.forEach((p, i) => {
      index.replaceObject('Ingress', `ns/o${i}`, [claim(`n.${ZONE}`, p as Partial<Claim>)]);
    });
    const r = index.lookup(`n.${ZONE}`, ZONE);
    expect(r.type).toBe('records');
    if (r.type !== 'records') return;
    expect(r.records.cname).toBe(cname);
    expect(r.records.a).toEqual(a);
  });

  it('TTL is the smallest of the merged claims', () => {
    const index = new RecordIndex(KINDS);
    index.replaceObject('Ingress', 'ns/a', [claim(`n.${ZONE}`, { a: ['10.0.0.1'], ttl: 300 })]);
    index.replaceObject('Ingress', 'ns/b', [claim(`n.${ZONE}`, { a: ['10.0.0.2'], ttl: 30 })]);
    const r = index.lookup(`n.${ZONE}`, ZONE);
    expect(r.type === 'records' && r.records.aTtl).toBe(30);
  });

  it('each RRset keeps the TTL of the claims for its own type (DNSEndpoint recordTTL)', () => {
    const index = new RecordIndex(KINDS);
    index.replaceObject('DNSEndpoint', 'ops/legacy', [
      claim(`legacy.${ZONE}`, { a: ['10.0.0.1'], ttl: 120 }),
      claim(`legacy.${ZONE}`, { txt: ['owner=ops'], ttl: 60 }),
      claim(`legacy.${ZONE}`, { aaaa: ['2001:db8::1'], ttl: 300 }),
    ]);
    const r = index.lookup(`legacy.${ZONE}`, ZONE);
    expect(r.type).toBe('records');
    if (r.type !== 'records') return;
    expect([r.records.aTtl, r.records.txtTtl, r.records.aaaaTtl]).toEqual([120, 60, 300]);
    expect(recordsFor(`legacy.${ZONE}`, QTYPE.A, r.records)?.[0]).toMatchObject({ ttl: 120 });
    expect(recordsFor(`legacy.${ZONE}`, QTYPE.TXT, r.records)?.[0]).toMatchObject({ ttl: 60 });
  });

  it('a claim with no data makes no name', () => {
    const index = new RecordIndex(KINDS);
    index.replaceObject('Service', 'ns/pending', [claim(`pending.ns.${ZONE}`)]);
    expect(kindOf(index, `pending.ns.${ZONE}`)).toBe('nxdomain');
    expect(kindOf(index, `ns.${ZONE}`)).toBe('nxdomain');
  });
});

describe('RecordIndex: updates', () => {
  it('moves the generation only when an answer changes', () => {
    const index = new RecordIndex(KINDS);
    const seen: number[] = [];
    index.onChange((g) => seen.push(g));
    index.replaceObject('Ingress', 'ns/a', [claim(`n.${ZONE}`, { a: ['10.0.0.1'] })]);
    index.replaceObject('Ingress', 'ns/a', [claim(`n.${ZONE}`, { a: ['10.0.0.1'] })]);
    expect(index.generation).toBe(1);
    index.replaceObject('Ingress', 'ns/a', [claim(`n.${ZONE}`, { a: ['10.0.0.2'] })]);
    expect(index.generation).toBe(2);
    expect(seen).toEqual([1, 2]);
  });

  it('empty non-terminals disappear with their last descendant', () => {
    const index = new RecordIndex(KINDS);
    index.replaceObject('Ingress', 'ns/a', [claim(`a.b.c.${ZONE}`, { a: ['10.0.0.1'] })]);
    index.replaceObject('Ingress', 'ns/b', [claim(`d.b.c.${ZONE}`, { a: ['10.0.0.2'] })]);
    expect(kindOf(index, `b.c.${ZONE}`)).toBe('empty');
    index.replaceObject('Ingress', 'ns/a', []);
    expect(kindOf(index, `b.c.${ZONE}`)).toBe('empty');
    index.replaceObject('Ingress', 'ns/b', []);
    expect(kindOf(index, `b.c.${ZONE}`)).toBe('nxdomain');
    expect(kindOf(index, `c.${ZONE}`)).toBe('nxdomain');
    expect(index.size).toBe(0);
  });

  it('replaceKind swaps a whole kind: stale objects go, others stay', () => {
    const index = new RecordIndex(KINDS);
    index.replaceObject('Ingress', 'ns/old', [claim(`old.${ZONE}`, { a: ['10.0.0.1'] })]);
    index.replaceObject('Service', 'ns/svc', [claim(`svc.${ZONE}`, { a: ['10.0.0.2'] })]);
    index.replaceKind(
      'Ingress',
      new Map([['ns/new', [claim(`new.${ZONE}`, { a: ['10.0.0.3'] })]]]),
    );
    expect(kindOf(index, `old.${ZONE}`)).toBe('nxdomain');
    expect(kindOf(index, `new.${ZONE}`)).toBe('records');
    expect(kindOf(index, `svc.${ZONE}`)).toBe('records');
    expect(index.namesPerKind().get('Ingress')).toBe(1);
    expect(index.objectsPerKind('Ingress')).toBe(1);
  });

  it('an object changing its name moves the claim', () => {
    const index = new RecordIndex(KINDS);
    index.replaceObject('Ingress', 'ns/a', [claim(`one.${ZONE}`, { a: ['10.0.0.1'] })]);
    index.replaceObject('Ingress', 'ns/a', [claim(`two.${ZONE}`, { a: ['10.0.0.1'] })]);
    expect(kindOf(index, `one.${ZONE}`)).toBe('nxdomain');
    expect(kindOf(index, `two.${ZONE}`)).toBe('records');
  });

  it('a removed wildcard stops matching', () => {
    const index = new RecordIndex(KINDS);
    index.replaceObject('Ingress', 'ns/w', [claim(`*.${ZONE}`, { a: ['10.0.0.1'] })]);
    expect(kindOf(index, `any.thing.${ZONE}`)).toBe('records*');
    index.replaceObject('Ingress', 'ns/w', []);
    expect(kindOf(index, `any.thing.${ZONE}`)).toBe('nxdomain');
  });

  it('keeps apex records beside other names', () => {
    const index = new RecordIndex(KINDS);
    index.replaceObject('Ingress', 'ns/apex', [claim(ZONE, { a: ['10.9.9.9'] })]);
    expect(index.recordsAt(ZONE)?.a).toEqual(['10.9.9.9']);
    expect(kindOf(index, ZONE)).toBe('records');
  });
});
