import { type DnsRecord, heldMarker, normalizeName, type ZoneApex } from '@mdns/protocol';
import { describe, expect, it } from 'vitest';
import type { Policy } from '../src/config/schema.js';
import { type MergeSource, mergedZone } from '../src/primary/merged-zone.js';
import { buildCopy } from '../src/replica/copy.js';

// The merged zone for transfer, from copies built by the replica's own `buildCopy`: the
// records a secondary gets are what the authority answers for each name (docs/behaviour.md,
// "Authority as a primary").

const ZONE = 'tier.test';
const rr = (name: string, type: string, data: unknown, ttl = 60) =>
  ({ name, type, class: 'IN', ttl, data }) as DnsRecord;
const soa = (serial: number) =>
  rr(ZONE, 'SOA', {
    mname: `gw.${ZONE}`,
    rname: `h.${ZONE}`,
    serial,
    refresh: 3600,
    retry: 600,
    expire: 86400,
    minimum: 30,
  });
/** Each gateway's copy has its own apex NS (never in the merge) and nameserver address. */
const gatewayApex = (n: string) => [
  rr(ZONE, 'NS', `${n}.${ZONE}`),
  rr(`${n}.${ZONE}`, 'A', '192.0.2.1'),
];
const copy = (n: string, records: DnsRecord[]) =>
  buildCopy(ZONE, soa(1), [...gatewayApex(n), ...records]);

const APEX: ZoneApex = {
  zone: ZONE,
  soa: {
    mname: `ns1.${ZONE}`,
    rname: `h.${ZONE}`,
    serial: 5,
    refresh: 1,
    retry: 1,
    expire: 1,
    minimum: 30,
  },
  soaTtl: 300,
  ns: [`ns1.${ZONE}`],
  nsTtl: 300,
  glue: new Map([[`ns1.${ZONE}`, { a: ['192.0.2.53'], aaaa: [] }]]),
};

const A = copy('gw-a', [
  rr(`web.${ZONE}`, 'A', '10.0.0.1', 30),
  rr(`both.${ZONE}`, 'A', '10.0.0.5'),
  rr(`onlya.${ZONE}`, 'TXT', ['a']),
  rr(`lb.${ZONE}`, 'CNAME', `web.${ZONE}`),
  // A gateway's address for our own nameserver is not served: the glue is.
  rr(`ns1.${ZONE}`, 'A', '10.9.9.9'),
]);
const B = copy('gw-b', [
  rr(`web.${ZONE}`, 'A', '10.0.0.2', 90),
  rr(`both.${ZONE}`, 'A', '10.0.0.5', 20),
  rr(`both.${ZONE}`, 'TXT', ['b']),
  rr(`lb.${ZONE}`, 'A', '10.0.0.7'),
  rr(`far.${ZONE}`, 'AAAA', '2001:db8::1', 7200),
]);

function merged(policy: Policy, sources: MergeSource[], maxTtl = 3600): string[] {
  const z = mergedZone({ apex: APEX, policy, sources, maxTtl, owns: () => true });
  if (!z.ok) throw new Error(z.why);
  return z.records.map(show).sort();
}

function show(r: DnsRecord): string {
  const data = (r as { data?: unknown }).data;
  const text = Array.isArray(data)
    ? data.map((d) => Buffer.from(d).toString()).join(' ')
    : String(data);
  return `${normalizeName(r.name)} ${(r as { ttl?: number }).ttl} ${r.type} ${text}`;
}

const sources = (order: 'ab' | 'ba' = 'ab', priorities = [1, 2]): MergeSource[] => {
  const list = [
    { name: 'a', priority: priorities[0], copy: A },
    { name: 'b', priority: priorities[1], copy: B },
  ];
  return order === 'ab' ? list : list.reverse();
};

describe('merged zone: listed only from fresh copies of every upstream', () => {
  it('a member without a copy: no zone, and the reason names it', () => {
    const z = mergedZone({
      apex: APEX,
      policy: 'all',
      sources: [
        { name: 'a', priority: 1, copy: A },
        { name: 'b', priority: 1, copy: null },
      ],
      maxTtl: 3600,
      owns: () => true,
    });
    expect(z).toEqual({ ok: false, why: expect.stringContaining('no fresh copy of b') });
  });
});

describe('merged zone: policy all', () => {
  it('the union of RRsets per name and type, deduplicated, each RRset at its lowest TTL', () => {
    expect(merged('all', sources())).toEqual(
      [
        `tier.test 300 NS ns1.tier.test`,
        `ns1.tier.test 300 A 192.0.2.53`,
        `web.tier.test 30 A 10.0.0.1`,
        `web.tier.test 30 A 10.0.0.2`,
        `both.tier.test 20 A 10.0.0.5`,
        `both.tier.test 60 TXT b`,
        `onlya.tier.test 60 TXT a`,
        // Addresses at lb win over a's CNAME (chooseOwnerData, as a live `all` answer).
        `lb.tier.test 60 A 10.0.0.7`,
        `far.tier.test 3600 AAAA 2001:db8::1`,
        // A gateway's nameserver is an ordinary name of its copy, answered as one.
        `gw-a.tier.test 60 A 192.0.2.1`,
        `gw-b.tier.test 60 A 192.0.2.1`,
      ].sort(),
    );
  });

  it('every TTL capped at cache.maxTtl, as the answer path caps it', () => {
    expect(merged('all', sources(), 50)).toContain('far.tier.test 50 AAAA 2001:db8::1');
    expect(merged('all', sources(), 50)).toContain('tier.test 300 NS ns1.tier.test');
  });
});

describe('merged zone: policy first (config order)', () => {
  it('per name and type, the records of the first member holding them', () => {
    const ab = merged('first', sources('ab'));
    expect(ab).toContain('web.tier.test 30 A 10.0.0.1');
    expect(ab).not.toContain('web.tier.test 90 A 10.0.0.2');
    // b alone holds a TXT at both: a TXT query there gets b's (a has NODATA).
    expect(ab).toContain('both.tier.test 60 TXT b');
    expect(ab).toContain('both.tier.test 60 A 10.0.0.5');
    // a's CNAME answers an A query at lb first; b's address answers nothing then.
    expect(ab.filter((r) => r.startsWith('lb.'))).toEqual(['lb.tier.test 60 CNAME web.tier.test']);
    const ba = merged('first', sources('ba'));
    expect(ba).toContain('web.tier.test 90 A 10.0.0.2');
    expect(ba).not.toContain('web.tier.test 30 A 10.0.0.1');
    // b first: its address at lb; a's CNAME beside it would not be a zone: addresses win.
    expect(ba.filter((r) => r.startsWith('lb.'))).toEqual(['lb.tier.test 60 A 10.0.0.7']);
  });
});

describe('merged zone: policy priority', () => {
  it('per name and type, the best priority holding them, whatever the config order', () => {
    const bBest = merged('priority', sources('ab', [2, 1]));
    expect(bBest).toContain('web.tier.test 90 A 10.0.0.2');
    expect(bBest).not.toContain('web.tier.test 30 A 10.0.0.1');
    expect(bBest).toContain('onlya.tier.test 60 TXT a');
    const aBest = merged('priority', sources('ba', [1, 2]));
    expect(aBest).toContain('web.tier.test 30 A 10.0.0.1');
    expect(aBest).not.toContain('web.tier.test 90 A 10.0.0.2');
  });
});

describe('merged zone: the apex and nameservers are the authority own', () => {
  it('no gateway NS or SOA, and our nameserver address is the configured glue', () => {
    const all = merged('all', sources());
    expect(all.filter((r) => r.includes(' NS '))).toEqual(['tier.test 300 NS ns1.tier.test']);
    expect(all.some((r) => r.includes(' SOA '))).toBe(false);
    expect(all.filter((r) => r.startsWith('ns1.'))).toEqual(['ns1.tier.test 300 A 192.0.2.53']);
  });
});

describe('merged zone: names held for health', () => {
  const held = (n: string, records: DnsRecord[]) =>
    copy(n, [...records, heldMarker(`down.${ZONE}`)]);

  it('held in one member and absent elsewhere: the name keeps its marker (NODATA, not NXDOMAIN)', () => {
    const z = mergedZone({
      apex: APEX,
      policy: 'all',
      sources: [
        { name: 'a', priority: 1, copy: held('gw-a', []) },
        { name: 'b', priority: 1, copy: B },
      ],
      maxTtl: 3600,
      owns: () => true,
    });
    if (!z.ok) throw new Error(z.why);
    expect(z.records.filter((r) => r.type === heldMarker('x').type).map((r) => r.name)).toEqual([
      `down.${ZONE}`,
    ]);
  });

  it('held in one member, answered with data by another: the data, no marker', () => {
    const withData = copy('gw-b', [rr(`down.${ZONE}`, 'A', '10.0.0.8')]);
    const all = merged('all', [
      { name: 'a', priority: 1, copy: held('gw-a', []) },
      { name: 'b', priority: 1, copy: withData },
    ]);
    expect(all.filter((r) => r.startsWith('down.'))).toEqual(['down.tier.test 60 A 10.0.0.8']);
  });
});
