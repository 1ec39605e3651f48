import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertBuilt } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorityConfigSchema } from '../src/config/schema.js';
import { notifyAllowed, notifySenders, notifySourceSet } from '../src/upstream/notify-sources.js';
import { type Authority, decodeAnswer, sendNotify, startAuthority } from './support/authority.js';
import { a, type FakeUpstream, startFakeUpstream } from './support/fake-upstream.js';

// docs/behaviour.md, fanout-authority: NOTIFY is accepted from an upstream's own address or
// from its `notify.allowFrom` ranges (a gateway's NOTIFY leaves from its node's address).

describe('notifyAllowed: source ∈ upstream address ∪ allowFrom', () => {
  const cases: [string, string, string[], string, boolean][] = [
    ['own address', '192.0.2.10', [], '192.0.2.10', true],
    ['another address, no allowFrom', '192.0.2.10', [], '192.0.2.11', false],
    ['inside an allowFrom CIDR', '192.0.2.10', ['10.20.0.0/16'], '10.20.3.4', true],
    ['just outside the CIDR', '192.0.2.10', ['10.20.0.0/16'], '10.21.0.1', false],
    ['a single address in allowFrom', '192.0.2.10', ['198.51.100.7'], '198.51.100.7', true],
    ['IPv4-mapped source', '192.0.2.10', ['10.20.0.0/16'], '::ffff:10.20.0.9', true],
    ['IPv6 CIDR', '2001:db8::53', ['2001:db8:ff::/48'], '2001:db8:ff:1::2', true],
    ['IPv6 outside', '2001:db8::53', ['2001:db8:ff::/48'], '2001:db8:fe::2', false],
    ['IPv6 own address, other spelling', '2001:DB8:0::53', [], '2001:db8::53', true],
    ['an IPv4 source never matches an IPv6 range', '2001:db8::53', ['::/0'], '10.0.0.1', false],
  ];
  for (const [what, address, allowFrom, source, expected] of cases) {
    it(`${what}: ${source} -> ${expected ? 'accepted' : 'refused'}`, () => {
      expect(notifyAllowed(notifySourceSet(address, allowFrom), source)).toBe(expected);
    });
  }

  it('notifySenders: only the zone asked, every upstream whose set holds the source', () => {
    const up = (zone: string, name: string) => ({ zone, name });
    const senders = [
      { upstream: up('a.tld', 'x'), from: notifySourceSet('192.0.2.1', ['10.0.0.0/8']) },
      { upstream: up('a.tld', 'y'), from: notifySourceSet('192.0.2.2', ['10.1.0.0/16']) },
      { upstream: up('b.tld', 'z'), from: notifySourceSet('192.0.2.3', ['10.0.0.0/8']) },
    ];
    expect(notifySenders(senders, 'a.tld', '10.1.2.3').map((u) => u.name)).toEqual(['x', 'y']);
    expect(notifySenders(senders, 'a.tld', '10.9.0.1').map((u) => u.name)).toEqual(['x']);
    expect(notifySenders(senders, 'a.tld', '192.0.2.3')).toEqual([]);
  });
});

describe('config: upstreams[].notify.allowFrom', () => {
  const zone = (allowFrom: unknown) => ({
    zones: [
      {
        name: 'a.tld',
        upstreams: [{ name: 'x', address: '192.0.2.1', notify: { allowFrom } }],
      },
    ],
  });
  it('defaults to none', () => {
    const r = authorityConfigSchema.parse({
      zones: [{ name: 'a.tld', upstreams: [{ name: 'x', address: '192.0.2.1' }] }],
    });
    expect(r.zones[0].upstreams[0].notify.allowFrom).toEqual([]);
  });
  it('takes IPv4/IPv6 CIDRs and addresses', () => {
    const r = authorityConfigSchema.safeParse(zone(['10.0.0.0/8', '2001:db8::/32', '192.0.2.9']));
    expect(r.success).toBe(true);
  });
  it('rejects a bad entry, naming it', () => {
    const r = authorityConfigSchema.safeParse(zone(['10.0.0.0/33']));
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('expected an IPv4/IPv6 CIDR');
    expect(r.error?.issues[0].path).toEqual(['zones', 0, 'upstreams', 0, 'notify', 'allowFrom', 0]);
  });
});

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/main.js');
const ZONE = 'prod.example.tld';

describe('NOTIFY from a node address (real process, real NOTIFY)', () => {
  beforeAll(() => assertBuilt(MAIN));
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  it('is accepted from an allowFrom range, refused from outside it', async () => {
    const records: Record<string, string> = {};
    const x: FakeUpstream = await startFakeUpstream(ZONE, (q) => {
      if (q.name === ZONE) return { kind: 'answer' };
      const ip = records[q.name];
      if (ip === undefined) return { kind: 'answer', rcode: 3 };
      return { kind: 'answer', answers: q.type === 'A' ? [a(q.name, ip)] : [] };
    });
    cleanups.push(() => x.close());
    // The upstream is queried at 127.0.0.1; its NOTIFY comes from 127.0.0.2 (the "node").
    const auth: Authority = await startAuthority(
      [
        'zones:',
        `  - name: ${ZONE}`,
        '    upstreams:',
        `      - { name: x, address: 127.0.0.1, port: ${x.port}, notify: { allowFrom: [127.0.0.2/32] } }`,
        'listen: { host: 127.0.0.1, port: 0 }',
        'ops: { host: 127.0.0.1, metricsPort: 0, healthPort: 0, readyPort: 0 }',
        'explain: { enabled: false }',
        'shutdown: { lameDuckSeconds: 0 }',
        '',
      ].join('\n'),
    );
    cleanups.push(() => auth.stop());

    expect((await auth.query(`new.${ZONE}`, 'A')).rcode).toBe(3);
    records[`new.${ZONE}`] = '10.0.0.5';
    expect((await auth.query(`new.${ZONE}`, 'A')).rcode).toBe(3); // the negative is cached

    const outside = await sendNotify(auth.ports.dns, ZONE, '127.0.0.3');
    expect(outside).not.toBeNull();
    expect(decodeAnswer(outside!, 0).rcode).toBe(5);
    expect((await auth.query(`new.${ZONE}`, 'A')).rcode).toBe(3); // still cached

    const fromNode = await sendNotify(auth.ports.dns, ZONE, '127.0.0.2');
    expect(fromNode).not.toBeNull();
    expect(decodeAnswer(fromNode!, 0)).toMatchObject({ rcode: 0, aa: true });
    const after = await auth.query(`new.${ZONE}`, 'A');
    expect(after.rcode).toBe(0);
    expect(after.answers[0].data).toBe('10.0.0.5');
  });
});
