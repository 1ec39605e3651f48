import {
  decode,
  negativeSoa,
  queryNameCacheSlots,
  RCODE,
  type ZoneApex,
  ZoneSet,
} from '@mdns/protocol';
import { describe, expect, it } from 'vitest';
import { createGatewayHandler, nameCacheSlotsFor } from '../src/dns/handler.js';
import { GatewayIndex } from '../src/index/gateway-index.js';
import type { Claim } from '../src/sources/types.js';
import { queryBytes } from './support/query.js';

const ZONE = 'prod.example.tld';
const APEX: ZoneApex = {
  zone: ZONE,
  soa: {
    mname: `ns1.${ZONE}`,
    rname: `hostmaster.${ZONE}`,
    serial: 1,
    refresh: 3600,
    retry: 600,
    expire: 86400,
    minimum: 30,
  },
  soaTtl: 60,
  ns: [`ns1.${ZONE}`],
  nsTtl: 3600,
  glue: new Map(),
};
const RULE_ZONE = { name: ZONE, apex: APEX, negativeSoa: negativeSoa(APEX) };

function claim(name: string, parts: Partial<Claim>): Claim {
  return { name, a: [], aaaa: [], txt: [], ttl: 60, ...parts };
}

function setup(ready = true, maxStoredAnswers?: number) {
  const index = new GatewayIndex();
  const zones = new ZoneSet([ZONE]);
  const observed: string[] = [];
  let isReady = ready;
  const handler = createGatewayHandler({
    source: {
      zoneOf: (n) => (zones.match(n) === undefined ? undefined : RULE_ZONE),
      lookup: (n, z) => index.lookup(n, z),
      ready: () => isReady,
    },
    generation: () => index.generation,
    serverUdpSize: 1232,
    observe: (zone, qtype, rcode) => observed.push(`${zone} ${qtype} ${rcode}`),
    maxStoredAnswers,
  });
  const ask = (bytes: Uint8Array, transport: 'udp' | 'tcp' = 'udp') => {
    const out = handler.handle(bytes, { transport, address: '127.0.0.1' });
    if (!out) return null;
    if (Array.isArray(out)) throw new Error('several messages for one query');
    const d = decode(out);
    if (!d.ok) throw new Error(d.error);
    return { bytes: out, msg: d.message as any };
  };
  return { index, handler, ask, observed, setReady: (r: boolean) => (isReady = r) };
}

describe('handler: stored answers', () => {
  it('a repeat is served from stored bytes with the new ID and the client’s case', () => {
    const { index, handler, ask } = setup();
    index.replaceObject('Ingress', 'ns/web', [claim(`web.${ZONE}`, { a: ['10.0.0.1'] })]);
    const first = ask(queryBytes(`web.${ZONE}`, 'A', { id: 1 }))!;
    const second = ask(queryBytes(`WeB.${ZONE.toUpperCase()}`, 'A', { id: 2 }))!;
    expect(handler.counters).toMatchObject({ storedHits: 1, storedMisses: 1 });
    expect(second.msg.id).toBe(2);
    expect(second.msg.questions[0].name).toBe(`WeB.${ZONE.toUpperCase()}`);
    expect(second.msg.answers.map((a: any) => a.data)).toEqual(['10.0.0.1']);
    expect(first.bytes.length).toBe(second.bytes.length);
  });

  it('an index change drops stored answers', () => {
    const { index, ask } = setup();
    index.replaceObject('Ingress', 'ns/web', [claim(`web.${ZONE}`, { a: ['10.0.0.1'] })]);
    expect(ask(queryBytes(`web.${ZONE}`, 'A'))!.msg.answers.map((a: any) => a.data)).toEqual([
      '10.0.0.1',
    ]);
    index.replaceObject('Ingress', 'ns/web', [claim(`web.${ZONE}`, { a: ['10.0.0.2'] })]);
    expect(ask(queryBytes(`web.${ZONE}`, 'A'))!.msg.answers.map((a: any) => a.data)).toEqual([
      '10.0.0.2',
    ]);
  });

  it('EDNS is per client: OPT echoed for one, absent for the next', () => {
    const { index, ask } = setup();
    index.replaceObject('Ingress', 'ns/web', [claim(`web.${ZONE}`, { a: ['10.0.0.1'] })]);
    const withOpt = ask(queryBytes(`web.${ZONE}`, 'A', { edns: { dnssecOk: true } }))!;
    const without = ask(queryBytes(`web.${ZONE}`, 'A'))!;
    expect(withOpt.msg.additionals.some((r: any) => r.type === 'OPT')).toBe(true);
    expect(without.msg.additionals).toEqual([]);
  });

  it('BADVERS for EDNS version 1, even for a stored answer', () => {
    const { index, ask } = setup();
    index.replaceObject('Ingress', 'ns/web', [claim(`web.${ZONE}`, { a: ['10.0.0.1'] })]);
    ask(queryBytes(`web.${ZONE}`, 'A'));
    const r = ask(queryBytes(`web.${ZONE}`, 'A', { edns: { version: 1 } }))!;
    const opt = r.msg.additionals.find((x: any) => x.type === 'OPT') as any;
    expect(r.msg.answers).toEqual([]);
    expect(((opt?.extendedRcode ?? 0) << 4) | (r.msg.flags & 0xf)).toBe(RCODE.BADVERS);
  });

  it('truncates at an RRset boundary over UDP 512, full over TCP', () => {
    const { index, ask } = setup();
    const many = Array.from({ length: 40 }, (_, i) => `10.0.1.${i + 1}`);
    index.replaceObject('Ingress', 'ns/many', [claim(`many.${ZONE}`, { a: many })]);
    const udp = ask(queryBytes(`many.${ZONE}`, 'A'))!;
    expect(udp.bytes.length).toBeLessThanOrEqual(512);
    expect(udp.msg.flags & 0x0200).toBe(0x0200);
    const tcp = ask(queryBytes(`many.${ZONE}`, 'A'), 'tcp')!;
    expect(tcp.msg.flags & 0x0200).toBe(0);
    expect(tcp.msg.answers).toHaveLength(40);
  });
});

describe('handler: the store is bounded', () => {
  it('keeps the recently asked half: an old answer asked again is kept, a forgotten one rebuilt', () => {
    const { index, handler, ask } = setup(true, 4);
    for (let i = 0; i < 6; i++)
      index.replaceObject('Ingress', `ns/n${i}`, [claim(`n${i}.${ZONE}`, { a: [`10.0.0.${i}`] })]);
    // Young half holds 2: n0 n1 | n2 n3 (n0 n1 now old) | n4 ... (n0 n1 dropped).
    for (let i = 0; i < 4; i++) ask(queryBytes(`n${i}.${ZONE}`, 'A'));
    ask(queryBytes(`n2.${ZONE}`, 'A')); // old -> young again
    expect(handler.counters).toMatchObject({ storedHits: 1, storedMisses: 4 });
    ask(queryBytes(`n4.${ZONE}`, 'A')); // the young half (n2 n4...) fills: n3 drops later
    ask(queryBytes(`n5.${ZONE}`, 'A'));
    ask(queryBytes(`n0.${ZONE}`, 'A')); // dropped long ago: rebuilt
    expect(handler.counters).toMatchObject({ storedHits: 1, storedMisses: 7 });
    const r = ask(queryBytes(`n5.${ZONE}`, 'A'))!;
    expect(r.msg.answers.map((x: any) => x.data)).toEqual(['10.0.0.5']);
    expect(handler.counters.storedHits).toBe(2);
  });

  it('thousands of stored answers all answer right (shared TTL/cut tables, packed bytes)', () => {
    const { index, handler, ask } = setup();
    const n = 3000;
    for (let i = 0; i < n; i++) {
      const ip = `10.1.${i >> 8}.${i & 255}`;
      index.replaceObject('Ingress', `ns/h${i}`, [claim(`h${i}.${ZONE}`, { a: [ip] })]);
    }
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < n; i += 7) {
        const r = ask(queryBytes(`h${i}.${ZONE}`, 'A', { id: i }))!;
        expect(r.msg.id).toBe(i);
        expect(r.msg.answers.map((x: any) => `${x.name} ${x.ttl} ${x.data}`)).toEqual([
          `h${i}.${ZONE} 60 10.1.${i >> 8}.${i & 255}`,
        ]);
      }
    }
    expect(handler.counters.storedHits).toBe(handler.counters.storedMisses);
  });
});

describe('handler: what is never answered or never stored', () => {
  it('garbage and responses get no answer', () => {
    const { handler } = setup();
    expect(
      handler.handle(new Uint8Array([1, 2, 3]), { transport: 'udp', address: '127.0.0.1' }),
    ).toBeNull();
    const response = queryBytes(`web.${ZONE}`, 'A');
    response[2] |= 0x80;
    expect(handler.handle(response, { transport: 'udp', address: '127.0.0.1' })).toBeNull();
    expect(handler.counters.malformed).toBe(2);
  });

  it('SERVFAIL before sync is not kept once synced', () => {
    const { index, ask, setReady } = setup(false);
    index.replaceObject('Ingress', 'ns/web', [claim(`web.${ZONE}`, { a: ['10.0.0.1'] })]);
    expect(ask(queryBytes(`web.${ZONE}`, 'A'))!.msg.rcode).toBe('SERVFAIL');
    setReady(true);
    expect(ask(queryBytes(`web.${ZONE}`, 'A'))!.msg.rcode).toBe('NOERROR');
  });

  it('observes zone, qtype and rcode; out of zone as "none"', () => {
    const { ask, observed } = setup();
    ask(queryBytes(`nope.${ZONE}`, 'A'));
    ask(queryBytes(`nope.${ZONE}`, 'A'));
    ask(queryBytes('example.com', 'AAAA'));
    expect(observed).toEqual([`${ZONE} 1 3`, `${ZONE} 1 3`, 'none 28 5']);
  });

  it('flags: AA set, RA clear, RD copied', () => {
    const { ask } = setup();
    const r = ask(queryBytes(ZONE, 'SOA'))!;
    expect(r.msg.flags & 0x0400).toBe(0x0400);
    expect(r.msg.flags & 0x0080).toBe(0);
    expect(r.msg.flags & 0x0100).toBe(0x0100);
  });
});

describe('handler: names no object can claim', () => {
  it('are NXDOMAIN with the SOA under a wildcard, and never kept as reused answers', () => {
    const { index, handler, ask } = setup();
    index.replaceObject('Ingress', 'ns/apps', [claim(`*.apps.${ZONE}`, { a: ['10.0.0.9'] })]);
    // 0xFF 0xFF as the first label: no host can have it, although the wildcard would match.
    const good = queryBytes(`xx.apps.${ZONE}`, 'A');
    const bad = Uint8Array.from(good);
    bad[13] = 0xff; // the first label's two bytes follow its length byte at offset 12
    bad[14] = 0xff;
    for (let i = 0; i < 3; i++) {
      const r = ask(bad);
      expect(r?.msg.rcode).toBe('NXDOMAIN');
      expect(r?.msg.flag_aa).toBe(true);
      expect(r?.msg.authorities.map((a: { type: string }) => a.type)).toEqual(['SOA']);
    }
    expect(handler.counters.storedHits).toBe(0);
    expect(ask(good)?.msg.answers.map((a: { data: string }) => a.data)).toEqual(['10.0.0.9']);
  });
});

describe("handler: scan's name cache", () => {
  it('holds a full young half of names (a power of two, at most 65 536), never shrunk', () => {
    expect(nameCacheSlotsFor(1)).toBe(8192);
    expect(nameCacheSlotsFor(3000)).toBe(8192);
    expect(nameCacheSlotsFor(10_000)).toBe(16384);
    expect(nameCacheSlotsFor(50_000)).toBe(65536);
    expect(nameCacheSlotsFor(5_000_000)).toBe(65536);
    // The default bound (100 000 answers, halves of 50 000).
    setup();
    expect(queryNameCacheSlots()).toBe(65536);
    setup(true, 4);
    expect(queryNameCacheSlots()).toBe(65536);
  });
});
