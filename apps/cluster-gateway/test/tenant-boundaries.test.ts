import { characterStrings } from '@mdns/protocol';
import { describe, expect, it } from 'vitest';
import { GatewayIndex } from '../src/index/gateway-index.js';
import { emptyResult } from '../src/sources/claims/build.js';
import {
  dnsEndpointClaims,
  MAX_TXT_BYTES,
  txtProblem,
} from '../src/sources/claims/dns-endpoint.js';
import { sourcesConfigSchema } from '../src/sources/config.js';
import { applyOwnership, compileOwnership, ownershipProblem } from '../src/sources/ownership.js';
import { slimDnsEndpoint, slimMeta } from '../src/sources/slim.js';
import type { Claim, ClaimOrigin } from '../src/sources/types.js';

const ZONE = 'prod.example.tld';

function policy(ownership: object) {
  return compileOwnership(sourcesConfigSchema.parse({ ownership }).ownership);
}

describe('ownership policy: namespace -> allowed suffixes', () => {
  const p = policy({
    namespaces: { 'team-a': [`a.${ZONE}`], 'team-b': [`b.${ZONE}`, `shared.${ZONE}`] },
  });

  it.each([
    ['team-a', `a.${ZONE}`, null],
    ['team-a', `web.a.${ZONE}`, null],
    ['team-b', `x.shared.${ZONE}`, null],
    ['team-a', `web.b.${ZONE}`, 'ownership'],
    // A suffix is a whole-label match: "xa.prod..." is not under "a.prod...".
    ['team-a', `xa.${ZONE}`, 'ownership'],
    ['team-c', `web.a.${ZONE}`, 'ownership'],
    // With a policy, wildcards are opt-in and refused by default.
    ['team-a', `*.a.${ZONE}`, 'wildcard'],
  ])('%s claims %s -> %s', (ns, name, reason) => {
    expect(ownershipProblem(p, ns, name)?.reason ?? null).toBe(reason);
  });

  it('no policy: every namespace, every name, wildcards too (the default)', () => {
    const open = policy({});
    expect(ownershipProblem(open, 'anyone', `*.${ZONE}`)).toBeNull();
    expect(ownershipProblem(open, 'anyone', `web.${ZONE}`)).toBeNull();
  });

  it('wildcardNamespaces opens wildcards to the listed namespaces (inside their suffixes)', () => {
    const w = policy({ namespaces: { 'team-a': [`a.${ZONE}`] }, wildcardNamespaces: ['team-a'] });
    expect(ownershipProblem(w, 'team-a', `*.a.${ZONE}`)).toBeNull();
    expect(ownershipProblem(w, 'team-a', `*.${ZONE}`)?.reason).toBe('ownership');
    const onlyWild = policy({ wildcardNamespaces: ['infra'] });
    expect(ownershipProblem(onlyWild, 'infra', `*.${ZONE}`)).toBeNull();
    expect(ownershipProblem(onlyWild, 'team-a', `*.apps.${ZONE}`)?.reason).toBe('wildcard');
  });

  it('a refused claim is dropped with a warning naming object, name and rule; the rest is stamped', () => {
    const meta = slimMeta({
      metadata: { name: 'steal', namespace: 'team-b', creationTimestamp: '2024-01-01T00:00:00Z' },
    })!;
    const result = emptyResult();
    const mk = (name: string): Claim => ({ name, a: ['10.0.0.1'], aaaa: [], txt: [], ttl: 60 });
    // A DNSEndpoint name with two TTLs comes as two claims: refused and counted once.
    const txt: Claim = { name: `api.a.${ZONE}`, a: [], aaaa: [], txt: ['x'], ttl: 300 };
    result.claims.push(mk(`api.a.${ZONE}`), txt, mk(`api.b.${ZONE}`));
    applyOwnership(p, 'Ingress team-b/steal', meta, result);
    expect(result.claims.map((c) => c.name)).toEqual([`api.b.${ZONE}`]);
    expect(result.claims[0].origin).toEqual({
      namespace: 'team-b',
      createdAt: Date.parse('2024-01-01T00:00:00Z'),
    });
    expect(result.rejected).toEqual(['ownership']);
    expect(result.warnings).toEqual([
      `Ingress team-b/steal: name api.a.${ZONE} refused: namespace team-b may claim only names under b.${ZONE}, shared.${ZONE} (sources.ownership.namespaces)`,
    ]);
  });

  it.each([
    [{ namespaces: { 'team-a': ['not a name'] } }, 'ownership.namespaces.team-a.0'],
    [{ namespaces: { Team_A: [`a.${ZONE}`] } }, 'ownership.namespaces.Team_A'],
    [{ conflicts: 'last' }, 'ownership.conflicts'],
    [{ wildcardNamespaces: 'all' }, 'ownership.wildcardNamespaces'],
  ])('config %j is rejected at %s', (ownership, path) => {
    const r = sourcesConfigSchema.safeParse({ ownership });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});

describe('first claimant wins across namespaces', () => {
  const at = (namespace: string, iso: string): ClaimOrigin => ({
    namespace,
    createdAt: Date.parse(iso),
  });
  const name = `api.${ZONE}`;
  const cname = (origin: ClaimOrigin): Claim => ({
    name,
    a: [],
    aaaa: [],
    txt: [],
    cname: 'lb-a.elb.example.net',
    ttl: 60,
    origin,
  });
  const addr = (ip: string, origin: ClaimOrigin): Claim => ({
    name,
    a: [ip],
    aaaa: [],
    txt: [],
    ttl: 60,
    origin,
  });
  const answer = (index: GatewayIndex) => {
    const r = index.lookup(name, ZONE);
    return r.type === 'records' ? { a: r.records.a, cname: r.records.cname } : r.type;
  };

  it("another team's newer A claim no longer wipes the owner's CNAME (merge: it did)", () => {
    const teamA = at('team-a', '2024-01-01T00:00:00Z');
    const teamB = at('team-b', '2024-06-01T00:00:00Z');
    for (const [conflicts, expected] of [
      ['first-claimant', { a: [], cname: 'lb-a.elb.example.net' }],
      ['merge', { a: ['203.0.113.66'], cname: null }],
    ] as const) {
      const index = new GatewayIndex(undefined, conflicts);
      index.replaceObject('Ingress', 'team-a/api', [cname(teamA)]);
      index.replaceObject('Ingress', 'team-b/steal', [addr('203.0.113.66', teamB)]);
      expect(answer(index)).toEqual(expected);
    }
  });

  it('the order is creationTimestamp, then the key; event order does not matter', () => {
    const same = '2024-01-01T00:00:00Z';
    const orders = [
      ['b', 'a'],
      ['a', 'b'],
    ];
    for (const order of orders) {
      const index = new GatewayIndex();
      for (const ns of order)
        index.replaceObject('Ingress', `${ns}/x`, [
          addr(`10.0.0.${ns === 'a' ? 1 : 2}`, at(ns, same)),
        ]);
      expect(answer(index)).toEqual({ a: ['10.0.0.1'], cname: null });
    }
    const index = new GatewayIndex();
    index.replaceObject('Ingress', 'a/x', [addr('10.0.0.1', at('a', '2024-02-01T00:00:00Z'))]);
    index.replaceObject('Service', 'z/x', [addr('10.0.0.26', at('z', '2024-01-01T00:00:00Z'))]);
    // Older beats kind precedence across namespaces: a team cannot take a name by kind.
    expect(answer(index)).toEqual({ a: ['10.0.0.26'], cname: null });
  });

  it('objects of the owning namespace still merge; the owner leaving hands the name on', () => {
    const index = new GatewayIndex();
    const seen: string[][] = [];
    index.onContest((c) => seen.push(c.refused));
    index.replaceObject('Ingress', 'a/one', [addr('10.0.0.1', at('a', '2024-01-01T00:00:00Z'))]);
    index.replaceObject('Ingress', 'a/two', [addr('10.0.0.2', at('a', '2024-03-01T00:00:00Z'))]);
    index.replaceObject('Ingress', 'b/x', [addr('10.0.0.9', at('b', '2024-02-01T00:00:00Z'))]);
    expect(answer(index)).toEqual({ a: ['10.0.0.1', '10.0.0.2'], cname: null });
    expect(index.contested).toBe(1);
    expect(seen).toEqual([['Ingress b/x']]);
    index.replaceObject('Ingress', 'a/one', []);
    index.replaceObject('Ingress', 'a/two', []);
    expect(answer(index)).toEqual({ a: ['10.0.0.9'], cname: null });
    expect(index.contested).toBe(0);
  });
});

describe('TXT values: validated and split by UTF-8 bytes', () => {
  it('splits at <= 255 bytes, never inside a character, and loses nothing', () => {
    const text = 'héllo '.repeat(100); // 700 bytes, 600 UTF-16 units
    const parts = characterStrings(text);
    for (const p of parts) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(255);
    expect(parts.join('')).toBe(text);
    expect(parts.length).toBe(3);
    // 4-byte characters (surrogate pairs) stay whole too.
    const emoji = '🙂'.repeat(100);
    expect(characterStrings(emoji).join('')).toBe(emoji);
    for (const p of characterStrings(emoji)) expect(p).not.toMatch(/\uFFFD/);
    expect(characterStrings('short')).toEqual(['short']);
  });

  it('refuses lone surrogates and values over the byte limit, with a warning naming the endpoint', () => {
    expect(txtProblem('ok é')).toBeNull();
    expect(txtProblem('bad \uD800 half')).toMatch(/lone surrogate/);
    expect(txtProblem('é'.repeat(MAX_TXT_BYTES / 2 + 1))).toMatch(/4098 bytes/);
    const ep = slimDnsEndpoint({
      metadata: { name: 'txt', namespace: 'dns' },
      spec: {
        endpoints: [{ dnsName: `t.${ZONE}`, recordType: 'TXT', targets: ['fine', 'x\uDC00'] }],
      },
    })!;
    const r = dnsEndpointClaims(ep, {
      zones: [ZONE],
      defaultTtl: 60,
      externalIPs: false,
      internalHostnames: false,
      targetAnnotation: false,
      gateway: () => undefined,
    });
    expect(r.claims[0].txt).toEqual(['fine']);
    expect(r.rejected).toEqual(['txt']);
    expect(r.warnings[0]).toMatch(
      /^DNSEndpoint dns\/txt spec\.endpoints\[0\]\.targets: TXT value .* skipped/,
    );
  });
});
