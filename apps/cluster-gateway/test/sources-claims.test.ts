import { describe, expect, it } from 'vitest';
import type { ClaimContext, GatewayTarget } from '../src/sources/claims/context.js';
import { dnsEndpointClaims } from '../src/sources/claims/dns-endpoint.js';
import { ingressClaims } from '../src/sources/claims/ingress.js';
import { gatewayTarget, routeClaims } from '../src/sources/claims/route.js';
import { serviceClaims } from '../src/sources/claims/service.js';
import {
  slimDnsEndpoint,
  slimGateway,
  slimIngress,
  slimRoute,
  slimService,
} from '../src/sources/slim.js';

const gateways = new Map<string, GatewayTarget>([
  ['infra/gw-ip', { a: ['192.0.2.10'], aaaa: ['2001:db8::10'], hostnames: [] }],
  ['infra/gw-host', { a: [], aaaa: [], hostnames: ['lb-123.elb.example.net'] }],
  ['apps/gw-local', { a: ['192.0.2.20'], aaaa: [], hostnames: [] }],
]);

const ctx: ClaimContext = {
  zones: ['prod.example.tld', 'alt.example'],
  defaultTtl: 60,
  externalIPs: true,
  internalHostnames: false,
  targetAnnotation: false,
  gateway: (key) => gateways.get(key),
};

function meta(name: string, namespace = 'apps', annotations: Record<string, string> = {}) {
  return { name, namespace, annotations };
}

function ingress(hosts: string[], lb: object[], annotations: Record<string, string> = {}) {
  return slimIngress({
    metadata: meta('web', 'apps', annotations),
    spec: { rules: hosts.map((host) => ({ host })) },
    status: { loadBalancer: { ingress: lb } },
  })!;
}

describe('Ingress claims', () => {
  it.each([
    {
      what: 'ip -> A, ipv6 -> AAAA, hosts normalized',
      obj: ingress(
        ['Web.Prod.Example.TLD.', 'api.prod.example.tld'],
        [{ ip: '192.0.2.1' }, { ip: '2001:DB8::1' }],
      ),
      names: ['web.prod.example.tld', 'api.prod.example.tld'],
      claim: { a: ['192.0.2.1'], aaaa: ['2001:db8::1'], txt: [], ttl: 60 },
    },
    {
      what: 'hostname -> cname, never resolved',
      obj: ingress(['web.prod.example.tld'], [{ hostname: 'LB-1.elb.example.net' }]),
      names: ['web.prod.example.tld'],
      claim: { a: [], aaaa: [], cname: 'lb-1.elb.example.net', txt: [], ttl: 60 },
    },
    {
      what: 'wildcard host allowed',
      obj: ingress(['*.apps.prod.example.tld'], [{ ip: '192.0.2.1' }]),
      names: ['*.apps.prod.example.tld'],
      claim: { a: ['192.0.2.1'], aaaa: [], txt: [], ttl: 60 },
    },
    {
      what: 'apex host',
      obj: ingress(['prod.example.tld'], [{ ip: '192.0.2.1' }]),
      names: ['prod.example.tld'],
      claim: { a: ['192.0.2.1'], aaaa: [], txt: [], ttl: 60 },
    },
    {
      what: 'ttl annotation',
      obj: ingress(['web.prod.example.tld'], [{ ip: '192.0.2.1' }], {
        'external-dns.alpha.kubernetes.io/ttl': '300',
      }),
      names: ['web.prod.example.tld'],
      claim: { a: ['192.0.2.1'], aaaa: [], txt: [], ttl: 300 },
    },
  ])('$what', ({ obj, names, claim }) => {
    const r = ingressClaims(obj, ctx);
    expect(r.warnings).toEqual([]);
    expect(r.claims).toEqual(names.map((name) => ({ name, ...claim })));
  });

  it('no load balancer address yet -> no claims, no warning', () => {
    const r = ingressClaims(ingress(['web.prod.example.tld'], []), ctx);
    expect(r).toEqual({ claims: [], warnings: [], outside: [], rejected: [] });
    const noStatus = slimIngress({
      metadata: meta('web'),
      spec: { rules: [{ host: 'web.prod.example.tld' }] },
    })!;
    expect(ingressClaims(noStatus, ctx).claims).toEqual([]);
  });

  it('invalid host skipped with a warning naming Kind namespace/name and field', () => {
    const r = ingressClaims(
      ingress(['bad_host.prod.example.tld', 'ok.prod.example.tld'], [{ ip: '192.0.2.1' }]),
      ctx,
    );
    expect(r.claims.map((c) => c.name)).toEqual(['ok.prod.example.tld']);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toContain('Ingress apps/web spec.rules[].host');
    expect(r.warnings[0]).toContain('bad_host.prod.example.tld');
  });

  it('host outside every zone skipped quietly', () => {
    const r = ingressClaims(
      ingress(['web.other.tld', 'web.alt.example'], [{ ip: '192.0.2.1' }]),
      ctx,
    );
    expect(r.claims.map((c) => c.name)).toEqual(['web.alt.example']);
    expect(r.warnings).toEqual([]);
    expect(r.outside).toEqual(['web.other.tld']);
  });

  it('IPs win over host names (no CNAME beside A), with a warning', () => {
    const r = ingressClaims(
      ingress(['web.prod.example.tld'], [{ ip: '192.0.2.1' }, { hostname: 'lb.example.net' }]),
      ctx,
    );
    expect(r.claims[0]).toMatchObject({ a: ['192.0.2.1'] });
    expect(r.claims[0].cname).toBeUndefined();
    expect(r.warnings[0]).toContain('ignored beside IP addresses');
  });

  it.each(['sixty', '-5', '1.5', ''])(
    'ttl annotation garbage %j -> warning, default used',
    (ttl) => {
      const r = ingressClaims(
        ingress(['web.prod.example.tld'], [{ ip: '192.0.2.1' }], {
          'external-dns.alpha.kubernetes.io/ttl': ttl,
        }),
        ctx,
      );
      expect(r.claims[0].ttl).toBe(60);
      expect(r.warnings).toHaveLength(1);
      expect(r.warnings[0]).toContain('Ingress apps/web');
      expect(r.warnings[0]).toContain('external-dns.alpha.kubernetes.io/ttl');
    },
  );

  it('a bad ip in status is a warning, the rest is used', () => {
    const r = ingressClaims(
      ingress(['web.prod.example.tld'], [{ ip: '999.1.1.1' }, { ip: '192.0.2.2' }]),
      ctx,
    );
    expect(r.claims[0].a).toEqual(['192.0.2.2']);
    expect(r.warnings[0]).toContain('999.1.1.1');
  });
});

function service(
  spec: object,
  status: object | undefined,
  annotations: Record<string, string> = {},
) {
  return slimService({ metadata: meta('svc', 'shop', annotations), spec, status })!;
}

describe('Service claims', () => {
  const lb = { loadBalancer: { ingress: [{ ip: '198.51.100.7' }] } };

  it('default names <name>.<namespace>.<zone> for each zone', () => {
    const r = serviceClaims(service({ type: 'LoadBalancer' }, lb), ctx);
    expect(r.claims.map((c) => c.name)).toEqual([
      'svc.shop.prod.example.tld',
      'svc.shop.alt.example',
    ]);
    expect(r.claims[0]).toMatchObject({ a: ['198.51.100.7'], ttl: 60 });
  });

  it.each([
    [
      { 'coredns.io/hostname': 'a.prod.example.tld, B.prod.example.tld' },
      ['a.prod.example.tld', 'b.prod.example.tld'],
    ],
    [
      { 'external-dns.alpha.kubernetes.io/hostname': 'x.alt.example,y.alt.example' },
      ['x.alt.example', 'y.alt.example'],
    ],
    [
      {
        'coredns.io/hostname': 'c.prod.example.tld',
        'external-dns.alpha.kubernetes.io/hostname': 'x.alt.example',
      },
      ['c.prod.example.tld'],
    ],
  ])('hostname annotation %j', (annotations, names) => {
    const r = serviceClaims(service({ type: 'LoadBalancer' }, lb, annotations), ctx);
    expect(r.claims.map((c) => c.name)).toEqual(names);
  });

  it('externalIPs are ignored (warning, counted) unless sources.services.externalIPs', () => {
    const svc = service({ type: 'LoadBalancer', externalIPs: ['203.0.113.5'] }, lb);
    const r = serviceClaims(svc, { ...ctx, externalIPs: false });
    expect(r.claims[0]).toMatchObject({ a: ['198.51.100.7'] });
    expect(r.claims[0].a).not.toContain('203.0.113.5');
    expect(r.rejected).toEqual(['external_ips']);
    expect(r.warnings[0]).toMatch(/Service shop\/svc spec.externalIPs 203.0.113.5 ignored/);
  });

  it('externalIPs take precedence over status when enabled', () => {
    const r = serviceClaims(
      service({ type: 'LoadBalancer', externalIPs: ['203.0.113.5', '2001:db8::5'] }, lb),
      ctx,
    );
    expect(r.claims[0]).toMatchObject({ a: ['203.0.113.5'], aaaa: ['2001:db8::5'] });
  });

  it('status hostname -> cname', () => {
    const r = serviceClaims(
      service(
        { type: 'LoadBalancer' },
        { loadBalancer: { ingress: [{ hostname: 'lb.example.net' }] } },
      ),
      ctx,
    );
    expect(r.claims[0]).toMatchObject({ cname: 'lb.example.net', a: [], aaaa: [] });
  });

  it.each(['ClusterIP', 'NodePort', undefined])('type %s claims nothing', (type) => {
    expect(serviceClaims(service({ type, externalIPs: ['203.0.113.5'] }, lb), ctx).claims).toEqual(
      [],
    );
  });

  it('pending load balancer claims nothing', () => {
    expect(serviceClaims(service({ type: 'LoadBalancer' }, {}), ctx).claims).toEqual([]);
  });

  it('bad annotated host is a warning naming the annotation', () => {
    const r = serviceClaims(
      service({ type: 'LoadBalancer' }, lb, { 'coredns.io/hostname': '-bad.prod.example.tld' }),
      ctx,
    );
    expect(r.claims).toEqual([]);
    expect(r.warnings[0]).toContain('Service shop/svc annotation coredns.io/hostname');
  });
});

describe('Route claims', () => {
  function route(hostnames: string[], parentRefs: object[], namespace = 'apps') {
    return slimRoute({ metadata: { name: 'r', namespace }, spec: { hostnames, parentRefs } })!;
  }

  it.each(['HTTPRoute', 'GRPCRoute', 'TLSRoute'] as const)(
    '%s: hostnames -> parent Gateway addresses',
    (kind) => {
      const r = routeClaims(
        kind,
        route(['shop.prod.example.tld'], [{ name: 'gw-ip', namespace: 'infra' }]),
        ctx,
      );
      expect(r.claims).toEqual([
        {
          name: 'shop.prod.example.tld',
          a: ['192.0.2.10'],
          aaaa: ['2001:db8::10'],
          txt: [],
          ttl: 60,
        },
      ]);
    },
  );

  it('parentRef namespace defaults to the route namespace', () => {
    const r = routeClaims(
      'HTTPRoute',
      route(['shop.prod.example.tld'], [{ name: 'gw-local' }]),
      ctx,
    );
    expect(r.claims[0].a).toEqual(['192.0.2.20']);
  });

  it('union of several parents', () => {
    const r = routeClaims(
      'HTTPRoute',
      route(
        ['shop.prod.example.tld'],
        [{ name: 'gw-local' }, { name: 'gw-ip', namespace: 'infra' }],
      ),
      ctx,
    );
    expect(r.claims[0].a).toEqual(['192.0.2.20', '192.0.2.10']);
  });

  it('Hostname gateway address -> cname', () => {
    const r = routeClaims(
      'HTTPRoute',
      route(['shop.prod.example.tld'], [{ name: 'gw-host', namespace: 'infra' }]),
      ctx,
    );
    expect(r.claims[0]).toMatchObject({ cname: 'lb-123.elb.example.net', a: [] });
  });

  it('unknown gateway, or a parent that is not a Gateway -> no claims', () => {
    expect(
      routeClaims('HTTPRoute', route(['s.prod.example.tld'], [{ name: 'nope' }]), ctx).claims,
    ).toEqual([]);
    const svcParent = route(
      ['s.prod.example.tld'],
      [{ name: 'gw-local', kind: 'Service', group: '' }],
    );
    expect(routeClaims('HTTPRoute', svcParent, ctx).claims).toEqual([]);
  });

  it('gatewayTarget splits IPAddress and Hostname, warns on garbage', () => {
    const gw = slimGateway({
      metadata: { name: 'g', namespace: 'infra' },
      status: {
        addresses: [
          { type: 'IPAddress', value: '192.0.2.1' },
          { value: '2001:db8::1' },
          { type: 'Hostname', value: 'lb.example.net' },
          { type: 'IPAddress', value: 'not-ip' },
          { type: 'NamedAddress', value: 'x' },
        ],
      },
    })!;
    const { target, warnings } = gatewayTarget(gw, false);
    expect(target).toEqual({
      a: ['192.0.2.1'],
      aaaa: ['2001:db8::1'],
      hostnames: ['lb.example.net'],
    });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('Gateway infra/g');
  });
});

describe('DNSEndpoint claims', () => {
  function dnsEndpoint(endpoints: object[], annotations: Record<string, string> = {}) {
    return slimDnsEndpoint({ metadata: meta('ep', 'dns', annotations), spec: { endpoints } })!;
  }

  it('each endpoint gets only its own targets and TTL', () => {
    const r = dnsEndpointClaims(
      dnsEndpoint([
        { dnsName: 'a.prod.example.tld', recordType: 'A', targets: ['192.0.2.1'], recordTTL: 30 },
        { dnsName: 'b.prod.example.tld', recordType: 'A', targets: ['192.0.2.2'] },
        { dnsName: 'c.prod.example.tld', recordType: 'CNAME', targets: ['Target.Example.NET'] },
        { dnsName: 't.prod.example.tld', recordType: 'TXT', targets: ['v=spf1 -all'] },
        {
          dnsName: 'a.prod.example.tld',
          recordType: 'AAAA',
          targets: ['2001:db8::1'],
          recordTTL: 120,
        },
      ]),
      ctx,
    );
    expect(r.warnings).toEqual([]);
    expect(r.claims).toEqual([
      // One name, two TTLs: one claim per TTL, so the index keeps A at 30 and AAAA at 120.
      { name: 'a.prod.example.tld', a: ['192.0.2.1'], aaaa: [], txt: [], ttl: 30 },
      { name: 'a.prod.example.tld', a: [], aaaa: ['2001:db8::1'], txt: [], ttl: 120 },
      { name: 'b.prod.example.tld', a: ['192.0.2.2'], aaaa: [], txt: [], ttl: 60 },
      {
        name: 'c.prod.example.tld',
        a: [],
        aaaa: [],
        txt: [],
        cname: 'target.example.net',
        ttl: 60,
      },
      { name: 't.prod.example.tld', a: [], aaaa: [], txt: ['v=spf1 -all'], ttl: 60 },
    ]);
  });

  it('types of one name sharing a TTL stay one claim; the smallest TTL of a type wins', () => {
    const r = dnsEndpointClaims(
      dnsEndpoint([
        { dnsName: 'a.prod.example.tld', recordType: 'A', targets: ['192.0.2.1'], recordTTL: 90 },
        { dnsName: 'a.prod.example.tld', recordType: 'A', targets: ['192.0.2.2'], recordTTL: 30 },
        { dnsName: 'a.prod.example.tld', recordType: 'TXT', targets: ['x'], recordTTL: 30 },
        { dnsName: 'a.prod.example.tld', recordType: 'MX', targets: ['10 mx.example.net'] },
      ]),
      ctx,
    );
    expect(r.claims).toHaveLength(1);
    expect(r.claims[0]).toMatchObject({ a: ['192.0.2.1', '192.0.2.2'], txt: ['x'], ttl: 30 });
    expect(r.claims[0].extra?.map((e) => [e.text, e.ttl])).toEqual([['10 mx.example.net', 60]]);
  });

  it('object ttl annotation is the default for endpoints without recordTTL', () => {
    const r = dnsEndpointClaims(
      dnsEndpoint([{ dnsName: 'a.prod.example.tld', recordType: 'A', targets: ['192.0.2.1'] }], {
        'external-dns.alpha.kubernetes.io/ttl': '15',
      }),
      ctx,
    );
    expect(r.claims[0].ttl).toBe(15);
  });

  it.each([
    [
      { dnsName: 'a.prod.example.tld', recordType: 'A', targets: ['2001:db8::1'] },
      'not an IPv4 address',
    ],
    [
      { dnsName: 'a.prod.example.tld', recordType: 'NAPTR', targets: ['100 10 "" "" "" .'] },
      'NAPTR is not supported',
    ],
    [
      { dnsName: 'a.prod.example.tld', recordType: 'MX', targets: ['mx.example'] },
      'MX target "mx.example" skipped: expected preference exchange',
    ],
    [
      { dnsName: 'a..prod.example.tld', recordType: 'A', targets: ['192.0.2.1'] },
      'spec.endpoints[0].dnsName',
    ],
    [
      { dnsName: 'a.prod.example.tld', recordType: 'A', targets: ['192.0.2.1'], recordTTL: 'x' },
      'recordTTL',
    ],
  ])('%j -> warning containing %s', (ep, text) => {
    const r = dnsEndpointClaims(dnsEndpoint([ep]), ctx);
    expect(r.warnings.join('\n')).toContain(text);
    expect(r.warnings.join('\n')).toContain('DNSEndpoint dns/ep');
  });

  it.each([
    [{ recordType: 'MX', targets: ['mx.example'] }, 'unsupported'],
    [{ recordType: 'SRV', targets: ['10 5 web.example'] }, 'unsupported'],
    [{ recordType: 'A', targets: ['192.0.2.1'], recordTTL: '1m' }, 'unsupported'],
    [{ recordType: 'NS', targets: ['ns.example'] }, 'record_type'],
  ])('a value it cannot read is counted, never a silent fallback: %j -> %s', (ep, reason) => {
    const r = dnsEndpointClaims(dnsEndpoint([{ dnsName: 'a.prod.example.tld', ...ep }]), ctx);
    expect(r.rejected).toEqual([reason]);
  });

  it('CNAME beside A in one object: CNAME dropped with a warning', () => {
    const r = dnsEndpointClaims(
      dnsEndpoint([
        { dnsName: 'a.prod.example.tld', recordType: 'CNAME', targets: ['x.example'] },
        { dnsName: 'a.prod.example.tld', recordType: 'A', targets: ['192.0.2.1'] },
      ]),
      ctx,
    );
    expect(r.claims).toEqual([
      { name: 'a.prod.example.tld', a: ['192.0.2.1'], aaaa: [], txt: [], ttl: 60 },
    ]);
    expect(r.warnings[0]).toContain('CNAME');
  });
});
