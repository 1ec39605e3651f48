import { describe, expect, it } from 'vitest';
import { compileFilters } from '../src/sources/filters.js';
import { matchesLabels, parseLabelSelector } from '../src/sources/label-selector.js';
import { ClaimLedger } from '../src/sources/ledger.js';
import { slimIngress, slimService, trimListed } from '../src/sources/slim.js';
import type { Claim, IndexSink, KindState, SourceKind } from '../src/sources/types.js';

describe('slimming', () => {
  const fat = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      creationTimestamp: '2024-05-01T10:00:00Z',
      name: 'web',
      namespace: 'apps',
      uid: 'u1',
      resourceVersion: '42',
      labels: { app: 'web' },
      annotations: {
        'kubectl.kubernetes.io/last-applied-configuration': '{"huge":"blob"}',
        'external-dns.alpha.kubernetes.io/ttl': '30',
        'kubernetes.io/ingress.class': 'nginx',
      },
      managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:spec': {} } }],
      finalizers: ['x'],
    },
    spec: {
      rules: [
        {
          host: 'web.zone',
          http: { paths: [{ path: '/', backend: { service: { name: 'web' } } }] },
        },
      ],
      tls: [{ hosts: ['web.zone'], secretName: 's' }],
    },
    status: { loadBalancer: { ingress: [{ ip: '192.0.2.1', ports: [{ port: 80 }] }] } },
  };

  it('keeps only what the claims read', () => {
    expect(slimIngress(fat)).toEqual({
      metadata: {
        name: 'web',
        namespace: 'apps',
        uid: 'u1',
        resourceVersion: '42',
        // Kept for first-claimant (the oldest claimant's namespace owns a name).
        createdAt: Date.parse('2024-05-01T10:00:00Z'),
        labels: { app: 'web' },
        annotations: {
          'external-dns.alpha.kubernetes.io/ttl': '30',
          'kubernetes.io/ingress.class': 'nginx',
        },
      },
      hosts: ['web.zone'],
      loadBalancer: [{ ip: '192.0.2.1' }],
      // The Services its paths send to: what health follows.
      backends: ['apps/web'],
    });
    expect(JSON.stringify(slimIngress(fat))).not.toContain('managedFields');
    expect(JSON.stringify(slimIngress(fat))).not.toContain('last-applied');
  });

  it('survives garbage shapes (manifest files are untrusted)', () => {
    expect(slimIngress({})).toBeNull();
    expect(slimIngress({ metadata: { name: 3 } })).toBeNull();
    expect(
      slimService({ metadata: { name: 's' }, spec: { externalIPs: 'nope', type: 7 }, status: 'x' }),
    ).toEqual({
      metadata: {
        name: 's',
        namespace: 'default',
        createdAt: Number.POSITIVE_INFINITY,
        labels: {},
        annotations: {},
      },
      type: 'ClusterIP',
      clusterIPs: [],
      headless: false,
      externalIPs: [],
      loadBalancer: [],
    });
  });
});

describe('trimming a listed object', () => {
  it('drops managedFields and unread annotations, keeps the raw shape and what claims read', () => {
    const raw = {
      kind: 'Ingress',
      metadata: {
        name: 'web',
        namespace: 'apps',
        labels: { app: 'web' },
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{"huge":"blob"}',
          'external-dns.alpha.kubernetes.io/ttl': '30',
        },
        managedFields: [{ manager: 'kubectl' }],
      },
      spec: { rules: [{ host: 'web.zone' }] },
    };
    const before = slimIngress(structuredClone(raw));
    expect(trimListed(raw)).toBe(raw);
    expect(raw.metadata).toEqual({
      name: 'web',
      namespace: 'apps',
      labels: { app: 'web' },
      annotations: { 'external-dns.alpha.kubernetes.io/ttl': '30' },
    });
    expect(slimIngress(raw)).toEqual(before);
  });

  it('leaves objects without metadata alone', () => {
    expect(trimListed(null)).toBeNull();
    expect(trimListed({ kind: 'Ingress' })).toEqual({ kind: 'Ingress' });
  });
});

describe('label selector', () => {
  it.each([
    ['', {}, true],
    ['app=web', { app: 'web' }, true],
    ['app==web', { app: 'api' }, false],
    ['app!=web', {}, true],
    ['app in (web, api),tier', { app: 'api', tier: 'x' }, true],
    ['app in (web, api),tier', { app: 'api' }, false],
    ['app notin (web)', { app: 'web' }, false],
    ['!internal', { internal: 'yes' }, false],
    ['example.com/dns=public', { 'example.com/dns': 'public' }, true],
  ])('%j on %j -> %s', (sel, labels, expected) => {
    const p = parseLabelSelector(sel);
    if (!p.ok) throw new Error(p.error);
    expect(matchesLabels(p.selector, labels)).toBe(expected);
  });

  it.each(['a=b,', 'a=(b', 'bad key!=x'])('rejects %j', (sel) => {
    expect(parseLabelSelector(sel).ok).toBe(false);
  });
});

class RecordingSink implements IndexSink {
  objects = new Map<string, Claim[]>();
  calls: string[] = [];
  states = new Map<SourceKind, KindState>();
  replaceObject(kind: SourceKind, key: string, claims: Claim[]) {
    this.calls.push(`object ${kind} ${key} ${claims.map((c) => c.name).join(',')}`);
    if (claims.length) this.objects.set(`${kind} ${key}`, claims);
    else this.objects.delete(`${kind} ${key}`);
  }
  replaceKind(kind: SourceKind, objects: Map<string, Claim[]>) {
    this.calls.push(`kind ${kind} ${objects.size}`);
    for (const k of [...this.objects.keys()]) if (k.startsWith(`${kind} `)) this.objects.delete(k);
    for (const [k, v] of objects) this.objects.set(`${kind} ${k}`, v);
  }
  setKindState(kind: SourceKind, state: KindState) {
    this.states.set(kind, state);
  }
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function ledger(filters: Parameters<typeof compileFilters>[0], sink: IndexSink) {
  const f = compileFilters(filters);
  if (!f.ok) throw new Error(f.error);
  return new ClaimLedger(['HTTPRoute', 'Ingress', 'Service'], ['zone'], 60, f.filters, sink, quiet);
}

const noFilters = { ingressClasses: [], gatewayClasses: [], labelSelector: '', namespaces: [] };

function ing(
  name: string,
  opts: { ns?: string; cls?: string; labels?: Record<string, string> } = {},
) {
  return {
    metadata: { name, namespace: opts.ns ?? 'apps', labels: opts.labels ?? {} },
    spec: { ingressClassName: opts.cls, rules: [{ host: `${name}.zone` }] },
    status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } },
  };
}

function gw(name: string, ip: string, cls = 'public') {
  return {
    metadata: { name, namespace: 'infra' },
    spec: { gatewayClassName: cls },
    status: { addresses: [{ type: 'IPAddress', value: ip }] },
  };
}

const httpRoute = {
  metadata: { name: 'r', namespace: 'apps' },
  spec: { hostnames: ['shop.zone'], parentRefs: [{ name: 'g', namespace: 'infra' }] },
};

describe('filters through the ledger', () => {
  it.each([
    [
      { ...noFilters, ingressClasses: ['nginx'] },
      [ing('a', { cls: 'nginx' }), ing('b', { cls: 'traefik' }), ing('c')],
      ['a'],
    ],
    [{ ...noFilters, namespaces: ['apps'] }, [ing('a'), ing('b', { ns: 'other' })], ['a']],
    [
      { ...noFilters, labelSelector: 'dns=public' },
      [ing('a', { labels: { dns: 'public' } }), ing('b')],
      ['a'],
    ],
  ])('%j', (filters, objects, admitted) => {
    const sink = new RecordingSink();
    ledger(filters, sink).replaceAll('Ingress', objects);
    expect([...sink.objects.keys()].map((k) => k.split('/')[1])).toEqual(admitted);
  });

  it('ingress class from the legacy annotation', () => {
    const sink = new RecordingSink();
    const obj = ing('a');
    (obj.metadata as any).annotations = { 'kubernetes.io/ingress.class': 'nginx' };
    ledger({ ...noFilters, ingressClasses: ['nginx'] }, sink).upsert('Ingress', obj);
    expect(sink.objects.size).toBe(1);
  });

  it('gatewayClasses: a route gets addresses only from Gateways of those classes', () => {
    const sink = new RecordingSink();
    const l = ledger({ ...noFilters, gatewayClasses: ['public'] }, sink);
    l.upsert('Gateway', gw('g', '192.0.2.9', 'internal'));
    l.upsert('HTTPRoute', httpRoute);
    expect(sink.objects.size).toBe(0);
    l.upsert('Gateway', gw('g', '192.0.2.9', 'public'));
    expect(sink.objects.get('HTTPRoute apps/r')?.[0].a).toEqual(['192.0.2.9']);
  });

  it('a label change that stops matching removes the object', () => {
    const sink = new RecordingSink();
    const l = ledger({ ...noFilters, labelSelector: 'dns=public' }, sink);
    l.upsert('Ingress', ing('a', { labels: { dns: 'public' } }));
    expect(sink.objects.size).toBe(1);
    l.upsert('Ingress', ing('a', { labels: { dns: 'private' } }));
    expect(sink.objects.size).toBe(0);
  });
});

describe('ledger', () => {
  it('route before its Gateway, then Gateway address changes, then Gateway deleted', () => {
    const sink = new RecordingSink();
    const l = ledger(noFilters, sink);
    l.upsert('HTTPRoute', httpRoute);
    expect(sink.calls).toEqual([]);
    l.upsert('Gateway', gw('g', '192.0.2.1'));
    expect(sink.objects.get('HTTPRoute apps/r')?.[0].a).toEqual(['192.0.2.1']);
    l.replaceAll('Gateway', [gw('g', '192.0.2.2')]);
    expect(sink.objects.get('HTTPRoute apps/r')?.[0].a).toEqual(['192.0.2.2']);
    l.remove('Gateway', 'infra/g');
    expect(sink.objects.size).toBe(0);
  });

  it('an unchanged object (status churn) is not re-sent', () => {
    const sink = new RecordingSink();
    const l = ledger(noFilters, sink);
    l.upsert('Ingress', ing('a'));
    l.upsert('Ingress', { ...ing('a'), metadata: { ...ing('a').metadata, resourceVersion: '9' } });
    expect(sink.calls).toEqual(['object Ingress apps/a a.zone']);
  });

  it('a changed address, TTL or name is re-sent; an equal one rebuilt from scratch is not', () => {
    const sink = new RecordingSink();
    const l = ledger(noFilters, sink);
    l.upsert('Ingress', ing('a'));
    l.upsert('Ingress', structuredClone(ing('a')));
    const changed = ing('a');
    changed.status.loadBalancer.ingress[0].ip = '192.0.2.99';
    l.upsert('Ingress', changed);
    expect(sink.calls).toEqual(['object Ingress apps/a a.zone', 'object Ingress apps/a a.zone']);
    expect(sink.objects.get('Ingress apps/a')?.[0].a).toEqual(['192.0.2.99']);
  });

  it('replaceAll drops objects gone while disconnected', () => {
    const sink = new RecordingSink();
    const l = ledger(noFilters, sink);
    l.upsert('Ingress', ing('a'));
    l.upsert('Ingress', ing('b'));
    l.replaceAll('Ingress', [ing('b')]);
    expect([...sink.objects.keys()]).toEqual(['Ingress apps/b']);
    expect(l.count('Ingress')).toBe(1);
  });

  it('logs a warning once per change of warnings, not on every resync', () => {
    const warnings: string[] = [];
    const f = compileFilters(noFilters);
    if (!f.ok) throw new Error();
    const l = new ClaimLedger(['Ingress'], ['zone'], 60, f.filters, new RecordingSink(), {
      ...quiet,
      warn: (_o: object, msg?: string) => warnings.push(msg ?? ''),
    });
    const bad = ing('a');
    bad.spec.rules.push({ host: 'bad_.zone' });
    l.upsert('Ingress', bad);
    l.upsert('Ingress', bad);
    l.replaceAll('Ingress', [bad]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('apps/a');
  });
});
