import { describe, expect, it } from 'vitest';
import { parseTtlAnnotation, reportUnsupported } from '../src/sources/claims/annotations.js';
import { emptyResult } from '../src/sources/claims/build.js';
import type { ClaimContext } from '../src/sources/claims/context.js';
import { newRejectionCounts } from '../src/sources/claims/context.js';
import { ingressClaims } from '../src/sources/claims/ingress.js';
import { gatewayTarget, routeClaims } from '../src/sources/claims/route.js';
import { serviceClaims } from '../src/sources/claims/service.js';
import { admitsGateway, compileFilters } from '../src/sources/filters.js';
import { ClaimLedger } from '../src/sources/ledger.js';
import { OPEN_POLICY } from '../src/sources/ownership.js';
import { slimGateway, slimIngress, slimMeta, slimRoute, slimService } from '../src/sources/slim.js';
import type { Claim, IndexSink, KindState, SourceKind } from '../src/sources/types.js';

const ZONES = ['prod.example.tld', 'alt.example'];
const ctx: ClaimContext = {
  zones: ZONES,
  defaultTtl: 60,
  externalIPs: false,
  internalHostnames: false,
  // The external-dns users' setting; the default (off) has its own describe below.
  targetAnnotation: true,
  gateway: (key) =>
    key === 'infra/gw' ? { a: ['192.0.2.10'], aaaa: [], hostnames: [] } : undefined,
};

const NEW = 'external-dns.kubernetes.io/';
const OLD = 'external-dns.alpha.kubernetes.io/';

function ingress(annotations: Record<string, string>, lb: object[] = [{ ip: '192.0.2.1' }]) {
  return slimIngress({
    metadata: { name: 'web', namespace: 'apps', annotations },
    spec: { rules: [{ host: 'web.prod.example.tld' }] },
    status: { loadBalancer: { ingress: lb } },
  })!;
}

function service(
  annotations: Record<string, string>,
  spec: object = { type: 'LoadBalancer', clusterIP: '10.96.0.7' },
  lb: object[] = [{ ip: '198.51.100.7' }],
) {
  return slimService({
    metadata: { name: 'svc', namespace: 'shop', annotations },
    spec,
    status: { loadBalancer: { ingress: lb } },
  })!;
}

describe('TTL annotation values (external-dns formats)', () => {
  it.each([
    ['60', 60],
    [' 300 ', 300],
    ['0', 0],
    ['1m', 60],
    ['1h30m', 5400],
    ['1.5h', 5400],
    ['90s', 90],
    ['2m30s', 150],
    ['1500ms', 1],
    // Go's two micro signs (U+00B5 MICRO SIGN, U+03BC GREEK SMALL LETTER MU) and `us`.
    ['2000000\u00b5s', 2],
    ['3000000\u03bcs', 3],
    ['1s500000us', 1],
    ['2147483647', 2_147_483_647],
  ])('%j -> %d seconds', (raw, seconds) => {
    expect(parseTtlAnnotation(raw)).toBe(seconds);
  });

  it.each(['', 'abc', '-1m', '1d', '1 m', 'm', '60s5', '2147483648', '1e3'])(
    '%j is no TTL',
    (raw) => {
      expect(parseTtlAnnotation(raw)).toBeNull();
    },
  );
});

describe('both external-dns prefixes', () => {
  it.each([
    [{ [`${NEW}ttl`]: '5m' }, 300],
    [{ [`${OLD}ttl`]: '120' }, 120],
    [{ [`${OLD}ttl`]: '1h' }, 3600],
  ])('ttl %j', (annotations, ttl) => {
    const r = ingressClaims(ingress(annotations), ctx);
    expect(r.warnings).toEqual([]);
    expect(r.claims[0].ttl).toBe(ttl);
  });

  it('the current prefix wins over the legacy one, and the ignored value is named', () => {
    const r = ingressClaims(ingress({ [`${NEW}ttl`]: '30', [`${OLD}ttl`]: '600' }), ctx);
    expect(r.claims[0].ttl).toBe(30);
    expect(r.warnings).toEqual([
      `Ingress apps/web: annotation ${OLD}ttl "600" ignored, ${NEW}ttl wins`,
    ]);
  });

  it('the same value under both prefixes is no conflict', () => {
    const r = ingressClaims(ingress({ [`${NEW}ttl`]: '30', [`${OLD}ttl`]: '30' }), ctx);
    expect(r.warnings).toEqual([]);
  });

  it('an invalid ttl is a warning naming object and key, counted, and the default TTL', () => {
    const r = ingressClaims(ingress({ [`${NEW}ttl`]: 'soon' }), ctx);
    expect(r.claims[0].ttl).toBe(60);
    expect(r.rejected).toEqual(['unsupported']);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toContain(`Ingress apps/web: annotation ${NEW}ttl "soon" is not a TTL`);
  });

  it.each([NEW, OLD])('Service %shostname, comma list', (prefix) => {
    const r = serviceClaims(
      service({ [`${prefix}hostname`]: 'a.prod.example.tld, b.alt.example' }),
      ctx,
    );
    expect(r.claims.map((c) => c.name)).toEqual(['a.prod.example.tld', 'b.alt.example']);
  });

  it('Ingress hostname annotation adds to spec.rules hosts', () => {
    const r = ingressClaims(ingress({ [`${NEW}hostname`]: 'extra.alt.example' }), ctx);
    expect(r.claims.map((c) => c.name)).toEqual(['web.prod.example.tld', 'extra.alt.example']);
  });

  it('route hostname annotation adds to spec.hostnames', () => {
    const route = slimRoute({
      metadata: {
        name: 'r',
        namespace: 'apps',
        annotations: { [`${OLD}hostname`]: 'more.prod.example.tld' },
      },
      spec: { hostnames: ['r.prod.example.tld'], parentRefs: [{ name: 'gw', namespace: 'infra' }] },
    })!;
    const r = routeClaims('HTTPRoute', route, ctx);
    expect(r.claims.map((c) => c.name)).toEqual(['r.prod.example.tld', 'more.prod.example.tld']);
  });
});

describe('coredns.io/hostname (k8s_gateway)', () => {
  it('a relative name stands for itself under each served zone', () => {
    const r = serviceClaims(service({ 'coredns.io/hostname': 'web' }), ctx);
    expect(r.claims.map((c) => c.name)).toEqual(['web.prod.example.tld', 'web.alt.example']);
  });

  it('a name under a served zone, or ending in a dot, is absolute', () => {
    const r = serviceClaims(
      service({ 'coredns.io/hostname': 'x.prod.example.tld,y.alt.example.,web.team' }),
      ctx,
    );
    expect(r.claims.map((c) => c.name)).toEqual([
      'x.prod.example.tld',
      'y.alt.example',
      'web.team.prod.example.tld',
      'web.team.alt.example',
    ]);
  });

  it('wins over the external-dns hostname, which is named in a warning', () => {
    const r = serviceClaims(
      service({ 'coredns.io/hostname': 'c', [`${NEW}hostname`]: 'x.alt.example' }),
      ctx,
    );
    expect(r.claims.map((c) => c.name)).toEqual(['c.prod.example.tld', 'c.alt.example']);
    expect(r.warnings).toEqual([
      `Service shop/svc: annotation ${NEW}hostname "x.alt.example" ignored, coredns.io/hostname wins`,
    ]);
  });
});

describe('target annotation', () => {
  it('IPs replace the load balancer addresses of an Ingress (A and AAAA)', () => {
    const r = ingressClaims(ingress({ [`${NEW}target`]: '203.0.113.9, 2001:db8::9' }), ctx);
    expect(r.claims[0]).toMatchObject({ a: ['203.0.113.9'], aaaa: ['2001:db8::9'] });
    expect(r.claims[0].cname).toBeUndefined();
  });

  it('a host name becomes the CNAME, even while the load balancer is pending', () => {
    const r = ingressClaims(ingress({ [`${OLD}target`]: 'Edge.Example.NET' }, []), ctx);
    expect(r.claims[0]).toMatchObject({ a: [], aaaa: [], cname: 'edge.example.net' });
  });

  it('replaces the load balancer addresses of a Service', () => {
    const r = serviceClaims(service({ [`${NEW}target`]: '203.0.113.9' }), ctx);
    expect(r.claims[0]).toMatchObject({ name: 'svc.shop.prod.example.tld', a: ['203.0.113.9'] });
  });

  it('a bad IP in it is a warning naming the key', () => {
    const r = ingressClaims(ingress({ [`${NEW}target`]: '10.0.0.300' }), ctx);
    expect(r.claims).toEqual([]);
    expect(r.warnings[0]).toBe(
      `Ingress apps/web annotation ${NEW}target: "10.0.0.300" is not an IP address`,
    );
  });
});

describe('target annotation on a Gateway (external-dns gateway sources)', () => {
  const gw = (annotations: Record<string, string>) =>
    slimGateway({
      metadata: { name: 'gw', namespace: 'infra', annotations },
      status: { addresses: [{ type: 'IPAddress', value: '192.0.2.10' }] },
    })!;

  it('replaces status.addresses for every route attached', () => {
    const r = gatewayTarget(gw({ [`${NEW}target`]: '203.0.113.20, Edge.Example.NET' }), true);
    expect(r.target).toEqual({ a: ['203.0.113.20'], aaaa: [], hostnames: ['edge.example.net'] });
    expect(r.warnings).toEqual([]);
  });

  it('an unsupported key on a Gateway is a counted warning', () => {
    const r = gatewayTarget(gw({ [`${OLD}hostname`]: 'x.prod.example.tld' }), true);
    expect(r.target.a).toEqual(['192.0.2.10']);
    expect(r.rejected).toEqual(['unsupported']);
    expect(r.warnings).toEqual([
      `Gateway infra/gw: annotation ${OLD}hostname is not supported on Gateway; ignored`,
    ]);
  });
});

describe('target annotation off (sources.annotations.target: false, the default)', () => {
  const off = { ...ctx, targetAnnotation: false };

  it('an Ingress publishes its load balancer address; the key is named and counted', () => {
    const r = ingressClaims(ingress({ [`${NEW}target`]: '203.0.113.9' }), off);
    expect(r.claims[0]).toMatchObject({ a: ['192.0.2.1'], aaaa: [] });
    expect(r.rejected).toEqual(['target']);
    expect(r.warnings).toEqual([
      `Ingress apps/web: annotation ${NEW}target "203.0.113.9" ignored (sources.annotations.target is false); its own addresses are published`,
    ]);
  });

  it('an Ingress whose load balancer is pending gets no name from a target host name', () => {
    const r = ingressClaims(ingress({ [`${OLD}target`]: 'edge.example.net' }, []), off);
    expect(r.claims).toEqual([]);
    expect(r.rejected).toEqual(['target']);
  });

  it('a Service keeps its load balancer address', () => {
    const r = serviceClaims(service({ [`${NEW}target`]: '203.0.113.9' }), off);
    expect(r.claims[0]).toMatchObject({ a: ['198.51.100.7'] });
    expect(r.rejected).toEqual(['target']);
  });

  it('a Gateway keeps its status.addresses', () => {
    const gw = slimGateway({
      metadata: {
        name: 'gw',
        namespace: 'infra',
        annotations: { [`${NEW}target`]: '203.0.113.20' },
      },
      status: { addresses: [{ type: 'IPAddress', value: '192.0.2.10' }] },
    })!;
    const r = gatewayTarget(gw, false);
    expect(r.target).toEqual({ a: ['192.0.2.10'], aaaa: [], hostnames: [] });
    expect(r.rejected).toEqual(['target']);
  });
});

describe('cluster IPs', () => {
  const clusterIp = { type: 'ClusterIP', clusterIPs: ['10.96.0.7', 'fd00::7'] };

  it('a ClusterIP Service is not published by default', () => {
    expect(serviceClaims(service({}, clusterIp, []), ctx).claims).toEqual([]);
  });

  it('mdns.io/publish-cluster-ip: "true" publishes its cluster IPs', () => {
    const r = serviceClaims(service({ 'mdns.io/publish-cluster-ip': 'true' }, clusterIp, []), ctx);
    expect(r.warnings).toEqual([]);
    expect(r.claims[0]).toMatchObject({
      name: 'svc.shop.prod.example.tld',
      a: ['10.96.0.7'],
      aaaa: ['fd00::7'],
    });
  });

  it('a headless Service stays out even when asked, with a counted warning', () => {
    const headless = { type: 'ClusterIP', clusterIP: 'None' };
    const r = serviceClaims(service({ 'mdns.io/publish-cluster-ip': 'true' }, headless, []), ctx);
    expect(r.claims).toEqual([]);
    expect(r.rejected).toEqual(['unsupported']);
    expect(r.warnings[0]).toContain('headless Service');
  });

  it('a value other than "true"/"false" is reported and read as false', () => {
    const r = serviceClaims(service({ 'mdns.io/publish-cluster-ip': 'yes' }, clusterIp, []), ctx);
    expect(r.claims).toEqual([]);
    expect(r.rejected).toEqual(['unsupported']);
    expect(r.warnings[0]).toContain('annotation mdns.io/publish-cluster-ip "yes"');
  });

  it('internal-hostname is refused with a counted warning unless sources.services.internalHostnames', () => {
    const svc = service({ [`${NEW}internal-hostname`]: 'svc.internal.prod.example.tld' });
    const off = serviceClaims(svc, ctx);
    expect(off.claims.map((c) => c.name)).toEqual([
      'svc.shop.prod.example.tld',
      'svc.shop.alt.example',
    ]);
    expect(off.rejected).toEqual(['unsupported']);
    expect(off.warnings[0]).toContain('sources.services.internalHostnames is false');
    const on = serviceClaims(svc, { ...ctx, internalHostnames: true });
    expect(on.warnings).toEqual([]);
    expect(on.claims.find((c) => c.name === 'svc.internal.prod.example.tld')).toMatchObject({
      a: ['10.96.0.7'],
    });
  });
});

describe('unsupported annotations', () => {
  it.each([
    ['Ingress', `${OLD}cloudflare-proxied`],
    ['Ingress', `${NEW}set-identifier`],
    ['Ingress', 'coredns.io/hostname'],
    ['Route', `${NEW}target`],
    ['DNSEndpoint', `${NEW}hostname`],
    ['Service', 'mdns.io/typo'],
  ] as const)('%s with %s: one warning naming it, counted', (kind, key) => {
    const meta = slimMeta({
      metadata: { name: 'o', namespace: 'ns', annotations: { [key]: 'x' } },
    })!;
    const r = emptyResult();
    reportUnsupported(kind, meta, `${kind} ns/o`, r);
    expect(r.warnings).toEqual([
      `${kind} ns/o: annotation ${key} is not supported on ${kind}; ignored`,
    ]);
    expect(r.rejected).toEqual(['unsupported']);
  });

  it.each([
    ['Service', `${NEW}internal-hostname`],
    ['Service', 'coredns.io/hostname'],
    ['Ingress', 'kubernetes.io/ingress.class'],
    ['Route', `${OLD}ttl`],
    ['DNSEndpoint', 'mdns.io/exclude'],
  ] as const)('%s with %s: supported, silent', (kind, key) => {
    const value = key === 'mdns.io/exclude' ? 'false' : 'x';
    const meta = slimMeta({
      metadata: { name: 'o', namespace: 'ns', annotations: { [key]: value } },
    })!;
    const r = emptyResult();
    reportUnsupported(kind, meta, `${kind} ns/o`, r);
    expect(r.warnings).toEqual([]);
  });

  it('an exclude value other than "true"/"false" is reported: the object stays published', () => {
    const meta = slimMeta({
      metadata: { name: 'o', namespace: 'ns', annotations: { 'mdns.io/exclude': 'yes' } },
    })!;
    const r = emptyResult();
    reportUnsupported('Ingress', meta, 'Ingress ns/o', r);
    expect(r.warnings).toEqual([
      'Ingress ns/o: annotation mdns.io/exclude "yes" is not "true"; object not excluded',
    ]);
    expect(r.rejected).toEqual(['unsupported']);
  });

  it('slimming keeps the keys it reports on and drops unrelated ones', () => {
    const meta = slimMeta({
      metadata: {
        name: 'o',
        annotations: { [`${NEW}alias`]: 'true', 'mdns.io/exclude': 'true', 'team.io/owner': 'x' },
      },
    })!;
    expect(Object.keys(meta.annotations).sort()).toEqual([`${NEW}alias`, 'mdns.io/exclude']);
  });
});

class Sink implements IndexSink {
  objects = new Map<string, Claim[]>();
  replaceObject(kind: SourceKind, key: string, claims: Claim[]) {
    if (claims.length === 0) this.objects.delete(`${kind} ${key}`);
    else this.objects.set(`${kind} ${key}`, claims);
  }
  replaceKind(kind: SourceKind, objects: Map<string, Claim[]>) {
    for (const k of [...this.objects.keys()]) if (k.startsWith(`${kind} `)) this.objects.delete(k);
    for (const [key, claims] of objects) this.objects.set(`${kind} ${key}`, claims);
  }
  setKindState(_kind: SourceKind, _state: KindState) {}
}

describe('exclusion and counting through the ledger', () => {
  function setup() {
    const f = compileFilters({
      ingressClasses: [],
      gatewayClasses: [],
      labelSelector: '',
      namespaces: [],
    });
    if (!f.ok) throw new Error(f.error);
    const sink = new Sink();
    const warnings: string[] = [];
    const rejected = newRejectionCounts();
    const quiet = { debug() {}, info() {}, error() {} };
    const ledger = new ClaimLedger(
      ['Ingress'],
      ['zone'],
      60,
      f.filters,
      sink,
      {
        ...quiet,
        warn: (_o: object, msg?: string) => warnings.push(msg ?? ''),
      },
      { externalIPs: false, ownership: OPEN_POLICY, rejected },
    );
    return { ledger, sink, warnings, rejected };
  }
  const obj = (
    name: string,
    labels: Record<string, string>,
    annotations: Record<string, string>,
  ) => ({
    metadata: { name, namespace: 'apps', labels, annotations },
    spec: { rules: [{ host: `${name}.zone` }] },
    status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } },
  });

  it.each([
    ['k8s-gateway.dns/ignore label', { 'k8s-gateway.dns/ignore': 'true' }, {}],
    ['k8s-gateway.dns/ignore annotation', {}, { 'k8s-gateway.dns/ignore': 'true' }],
    ['mdns.io/exclude annotation', {}, { 'mdns.io/exclude': 'true' }],
  ])('%s excludes the object', (_what, labels, annotations) => {
    const { ledger, sink } = setup();
    ledger.upsert('Ingress', obj('kept', {}, { 'mdns.io/exclude': 'false' }));
    ledger.upsert('Ingress', obj('gone', labels, annotations));
    expect([...sink.objects.keys()]).toEqual(['Ingress apps/kept']);
  });

  it('an excluded Gateway gives its routes no addresses', () => {
    const f = compileFilters({
      ingressClasses: [],
      gatewayClasses: [],
      labelSelector: '',
      namespaces: [],
    });
    if (!f.ok) throw new Error(f.error);
    const gw = (labels: Record<string, string>) =>
      slimGateway({ metadata: { name: 'gw', namespace: 'infra', labels } })!;
    expect(admitsGateway(f.filters, gw({}))).toBe(true);
    expect(admitsGateway(f.filters, gw({ 'k8s-gateway.dns/ignore': 'true' }))).toBe(false);
  });

  it('an unsupported key is logged once and counted once per change', () => {
    const { ledger, warnings, rejected } = setup();
    const o = obj('a', {}, { [`${OLD}cloudflare-proxied`]: 'true' });
    ledger.upsert('Ingress', o);
    ledger.upsert('Ingress', o);
    expect(warnings).toEqual([
      `Ingress apps/a: Ingress apps/a: annotation ${OLD}cloudflare-proxied is not supported on Ingress; ignored`,
    ]);
    expect(rejected.unsupported).toBe(1);
  });
});
