import { describe, expect, it } from 'vitest';
import { compileFilters } from '../src/sources/filters.js';
import {
  endpointReady,
  slimEndpointSlice,
  trimEndpointSlice,
} from '../src/sources/health/endpoint-slice.js';
import { nextState } from '../src/sources/health/service-health.js';
import { HealthTally } from '../src/sources/health/tally.js';
import { claimHealthy } from '../src/sources/health/verdict.js';
import { ClaimLedger, defaultTenancy } from '../src/sources/ledger.js';
import { eventually, RecordingLogger, RecordingSink } from './sources-recording.js';

// Rows "answers follow application health" of docs/behaviour.md, below the index: which
// claims the ledger hands the index as EndpointSlices change.

const ZONE = 'prod.example.tld';

function slice(service: string, endpoints: unknown[], name = `${service}-abc`, ns = 'shop') {
  return {
    metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': service } },
    endpoints,
  };
}
const READY = { addresses: ['10.0.0.1'], conditions: { ready: true } };
const NOT_READY = { addresses: ['10.0.0.2'], conditions: { ready: false } };

function lbService(name: string, ip: string, annotations: Record<string, string> = {}) {
  return {
    metadata: { name, namespace: 'shop', annotations },
    spec: { type: 'LoadBalancer' },
    status: { loadBalancer: { ingress: [{ ip }] } },
  };
}

function ingress(name: string, ip: string, backends: string[]) {
  return {
    metadata: { name, namespace: 'shop' },
    spec: {
      defaultBackend: { service: { name: backends[0], port: { number: 80 } } },
      rules: [
        {
          host: `${name}.${ZONE}`,
          http: {
            paths: backends
              .slice(1)
              .map((b) => ({ path: `/${b}`, backend: { service: { name: b } } })),
          },
        },
      ],
    },
    status: { loadBalancer: { ingress: [{ ip }] } },
  };
}

function ledger(opts: { require?: 'any' | 'all'; graceMs?: number; health?: boolean } = {}) {
  const f = compileFilters({
    ingressClasses: [],
    gatewayClasses: [],
    labelSelector: '',
    namespaces: [],
  });
  if (!f.ok) throw new Error(f.error);
  const sink = new RecordingSink();
  const tally = new HealthTally();
  const l = new ClaimLedger(
    ['HTTPRoute', 'Ingress', 'Service', 'DNSEndpoint'],
    [ZONE],
    60,
    f.filters,
    sink,
    new RecordingLogger(),
    defaultTenancy(),
    opts.health === false
      ? null
      : { require: opts.require ?? 'any', graceMs: opts.graceMs ?? 0, tally },
  );
  return { l, sink, tally };
}

describe('EndpointSlice conditions (discovery.k8s.io/v1 documented defaults)', () => {
  it.each([
    [{ ready: true }, true],
    [{ ready: false }, false],
    [{}, true], // ready unset: "should be interpreted as true"
    [undefined, true], // no conditions at all: the same
    [{ ready: true, terminating: true }, false], // going away: never counts
    [{ ready: true, terminating: false }, true],
  ])('conditions %j -> ready %s', (conditions, ready) => {
    expect(endpointReady({ addresses: ['10.0.0.1'], conditions })).toBe(ready);
  });

  it('counts a slice without endpoints as 0/0 and one without service label as no service', () => {
    expect(slimEndpointSlice(slice('web', []))).toEqual({
      key: 'shop/web-abc',
      service: 'shop/web',
      ready: 0,
      total: 0,
      addresses: [],
    });
    expect(slimEndpointSlice({ metadata: { name: 'x', namespace: 'shop' } })?.service).toBeNull();
    expect(slimEndpointSlice({ endpoints: [] })).toBeNull();
  });
});

describe('a listed EndpointSlice is trimmed to what health reads', () => {
  // What the API server sends: everything health does not read must go, the verdict must not move.
  const full = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'web-abc',
      namespace: 'shop',
      uid: 'u-1',
      resourceVersion: '42',
      labels: {
        'kubernetes.io/service-name': 'web',
        'endpointslice.kubernetes.io/managed-by': 'x',
      },
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2026-01-01T00:00:00Z' },
      ownerReferences: [{ kind: 'Service', name: 'web' }],
      managedFields: [{ manager: 'kube-controller-manager' }],
    },
    addressType: 'IPv4',
    endpoints: [
      {
        addresses: ['10.0.0.1'],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: 'node-1',
        targetRef: { kind: 'Pod', name: 'web-1', namespace: 'shop' },
        zone: 'a',
      },
      { addresses: ['10.0.0.2', '10.0.0.3'], conditions: {} },
      { addresses: ['10.0.0.4'] },
      { addresses: ['10.0.0.5'], conditions: { ready: false, serving: false } },
      { addresses: ['10.0.0.6'], conditions: { ready: true, terminating: true } },
      { addresses: [7, '10.0.0.7'], conditions: { ready: true } },
      { conditions: { ready: true } },
      null,
    ],
    ports: [{ name: 'https', port: 443, protocol: 'TCP' }],
  };

  it('keeps name, namespace, service label, and per endpoint whether it counts and its addresses', () => {
    const trimmed = trimEndpointSlice(structuredClone(full));
    expect(trimmed).toEqual({
      metadata: {
        name: 'web-abc',
        namespace: 'shop',
        labels: { 'kubernetes.io/service-name': 'web' },
      },
      endpoints: [
        { addresses: ['10.0.0.1'] },
        { addresses: ['10.0.0.2', '10.0.0.3'] },
        { addresses: ['10.0.0.4'] },
        { conditions: { ready: false } },
        { conditions: { ready: false } },
        { addresses: [7, '10.0.0.7'] },
        { addresses: undefined },
        { addresses: undefined },
      ],
    });
    expect(slimEndpointSlice(trimmed)).toEqual(slimEndpointSlice(full));
  });

  it.each([
    ['no endpoints', slice('web', [])],
    ['endpoints not a list', { ...slice('web', []), endpoints: { a: 1 } }],
    ['no service label', { metadata: { name: 'x', namespace: 'shop' }, endpoints: [READY] }],
    ['no namespace', { metadata: { name: 'x' }, endpoints: [READY, NOT_READY] }],
    ['empty namespace', { metadata: { name: 'x', namespace: '' }, endpoints: [READY] }],
    ['empty service label', slice('', [READY])],
    ['no name', { metadata: { namespace: 'shop' }, endpoints: [READY] }],
    ['name not a string', { metadata: { name: 7 }, endpoints: [READY] }],
    ['labels not an object', { metadata: { name: 'x', labels: 'web' }, endpoints: [READY] }],
    ['not an object', null],
  ])('%s: slimEndpointSlice sees the same slice', (_, raw) => {
    expect(slimEndpointSlice(trimEndpointSlice(structuredClone(raw)))).toEqual(
      slimEndpointSlice(raw),
    );
  });
});

describe('health verdict', () => {
  const states = {
    'a/up': 'ready',
    'a/down': 'down',
    'a/grace': 'grace',
    'a/new': 'unknown',
  } as const;
  const stateOf = (s: string) => states[s as keyof typeof states];
  it.each([
    [['a/up', 'a/down'], 'any', true],
    [['a/up', 'a/down'], 'all', false],
    [['a/down'], 'any', false],
    [['a/grace'], 'any', true],
    [['a/new', 'a/down'], 'all', false],
    [['a/new'], 'all', true], // unknown counts as healthy: health never blocks answers
    [[], 'all', true],
  ] as const)('%j with require %s -> %s', (backends, require, healthy) => {
    expect(claimHealthy([...backends], stateOf, require)).toBe(healthy);
  });

  it('grace only after having been ready; no slice is unknown', () => {
    expect(nextState({ ready: 0, total: 1, slices: 1 }, 'ready', 5000)).toBe('grace');
    expect(nextState({ ready: 0, total: 1, slices: 1 }, 'unknown', 5000)).toBe('down');
    expect(nextState({ ready: 0, total: 1, slices: 1 }, 'ready', 0)).toBe('down');
    expect(nextState({ ready: 1, total: 1, slices: 1 }, 'down', 5000)).toBe('ready');
    expect(nextState({ ready: 0, total: 0, slices: 0 }, 'down', 5000)).toBe('unknown');
  });
});

describe('answers follow application health (ledger -> index)', () => {
  it('a Service with no ready endpoint keeps its name but not its address; back at once', () => {
    const { l, sink, tally } = ledger();
    l.replaceAll('EndpointSlice', [slice('web', [READY])]);
    l.replaceAll('Service', [lbService('web', '192.0.2.10')]);
    expect(sink.names('Service')).toEqual({ [`web.shop.${ZONE}`]: '192.0.2.10' });

    l.upsert('EndpointSlice', slice('web', [NOT_READY]));
    expect(sink.names('Service')).toEqual({ [`web.shop.${ZONE}`]: '' });
    expect(tally.unhealthy('Service')).toBe(1);

    l.upsert('EndpointSlice', slice('web', [NOT_READY, READY]));
    expect(sink.names('Service')).toEqual({ [`web.shop.${ZONE}`]: '192.0.2.10' });
    expect(tally.transitions).toEqual({ healthy: 1, unhealthy: 1 });
    expect(tally.unhealthy('Service')).toBe(0);
  });

  it('terminating endpoints do not count; slices of one Service are summed', () => {
    const { l, sink } = ledger();
    l.replaceAll('Service', [lbService('web', '192.0.2.10')]);
    l.replaceAll('EndpointSlice', [
      slice('web', [{ conditions: { ready: true, terminating: true } }], 'web-1'),
      slice('web', [NOT_READY], 'web-2'),
    ]);
    expect(sink.names('Service')).toEqual({ [`web.shop.${ZONE}`]: '' });
    l.upsert('EndpointSlice', slice('web', [READY], 'web-2'));
    expect(sink.names('Service')).toEqual({ [`web.shop.${ZONE}`]: '192.0.2.10' });
    // The ready slice deleted: the other one has no ready endpoint left.
    l.remove('EndpointSlice', 'shop/web-2', slice('web', [READY], 'web-2'));
    expect(sink.names('Service')).toEqual({ [`web.shop.${ZONE}`]: '' });
  });

  it('no EndpointSlice for a backend (ExternalName, no selector, API absent): healthy', () => {
    const { l, sink } = ledger();
    l.replaceAll('EndpointSlice', [slice('other', [NOT_READY])]);
    l.replaceAll('Service', [lbService('web', '192.0.2.10')]);
    expect(sink.names('Service')).toEqual({ [`web.shop.${ZONE}`]: '192.0.2.10' });
    // Slices of Services nobody claims through, or without a service label: no effect, no error.
    l.upsert('EndpointSlice', {
      metadata: { name: 'stray', namespace: 'shop' },
      endpoints: [NOT_READY],
    });
    expect(sink.names('Service')).toEqual({ [`web.shop.${ZONE}`]: '192.0.2.10' });
  });

  it('an Ingress follows every backend.service and its defaultBackend: require any / all', () => {
    for (const [require, expected] of [
      ['any', '192.0.2.20'],
      ['all', ''],
    ] as const) {
      const { l, sink } = ledger({ require });
      l.replaceAll('EndpointSlice', [slice('front', [READY]), slice('api', [NOT_READY])]);
      l.replaceAll('Ingress', [ingress('shop', '192.0.2.20', ['front', 'api'])]);
      expect(sink.names('Ingress'), require).toEqual({ [`shop.${ZONE}`]: expected });
    }
  });

  it('an HTTPRoute follows its Service backendRefs (namespace defaults to the route’s)', () => {
    const { l, sink } = ledger();
    l.replaceAll('Gateway', [
      {
        metadata: { name: 'public', namespace: 'infra' },
        status: { addresses: [{ value: '192.0.2.30' }] },
      },
    ]);
    l.replaceAll('EndpointSlice', [
      slice('cart', [NOT_READY]),
      slice('pay', [READY], 'pay-1', 'billing'),
    ]);
    const route = (refs: object[]) => ({
      metadata: { name: 'shop', namespace: 'shop' },
      spec: {
        hostnames: [`shop.${ZONE}`],
        parentRefs: [{ name: 'public', namespace: 'infra' }],
        rules: [{ backendRefs: refs }],
      },
    });
    l.replaceAll('HTTPRoute', [route([{ name: 'cart', port: 80 }])]);
    expect(sink.names('HTTPRoute')).toEqual({ [`shop.${ZONE}`]: '' });
    l.upsert('HTTPRoute', route([{ name: 'cart' }, { name: 'pay', namespace: 'billing' }]));
    expect(sink.names('HTTPRoute')).toEqual({ [`shop.${ZONE}`]: '192.0.2.30' });
  });

  it('DNSEndpoints and objects annotated mdns.io/health: ignore are always answered', () => {
    const { l, sink } = ledger();
    l.replaceAll('EndpointSlice', [slice('web', [NOT_READY])]);
    l.replaceAll('Service', [lbService('web', '192.0.2.10', { 'mdns.io/health': 'ignore' })]);
    l.replaceAll('DNSEndpoint', [
      {
        metadata: { name: 'web', namespace: 'shop' },
        spec: { endpoints: [{ dnsName: `web.${ZONE}`, recordType: 'A', targets: ['192.0.2.40'] }] },
      },
    ]);
    expect(sink.names('Service')).toEqual({ [`web.shop.${ZONE}`]: '192.0.2.10' });
    expect(sink.names('DNSEndpoint')).toEqual({ [`web.${ZONE}`]: '192.0.2.40' });
  });

  it('health off (sources.health.enabled: false): slices change nothing', () => {
    const { l, sink } = ledger({ health: false });
    l.replaceAll('Service', [lbService('web', '192.0.2.10')]);
    l.replaceAll('EndpointSlice', [slice('web', [NOT_READY])]);
    expect(sink.names('Service')).toEqual({ [`web.shop.${ZONE}`]: '192.0.2.10' });
  });

  it('grace: still answered right after losing the last ready endpoint, held back after it', async () => {
    const { l, sink } = ledger({ graceMs: 300 });
    l.replaceAll('EndpointSlice', [slice('web', [READY])]);
    l.replaceAll('Service', [lbService('web', '192.0.2.10')]);
    l.upsert('EndpointSlice', slice('web', [NOT_READY]));
    expect(sink.names('Service')).toEqual({ [`web.shop.${ZONE}`]: '192.0.2.10' });
    await eventually(() => expect(sink.names('Service')).toEqual({ [`web.shop.${ZONE}`]: '' }));
    // Flapping back: answered at once, no grace on the way up.
    l.upsert('EndpointSlice', slice('web', [READY]));
    expect(sink.names('Service')).toEqual({ [`web.shop.${ZONE}`]: '192.0.2.10' });
    l.stop();
  });

  it('a relist that no longer holds a slice forgets its counts', () => {
    const { l, sink } = ledger();
    l.replaceAll('Service', [lbService('web', '192.0.2.10')]);
    l.replaceAll('EndpointSlice', [slice('web', [NOT_READY])]);
    expect(sink.names('Service')).toEqual({ [`web.shop.${ZONE}`]: '' });
    l.replaceAll('EndpointSlice', []);
    expect(sink.names('Service')).toEqual({ [`web.shop.${ZONE}`]: '192.0.2.10' });
  });
});

describe('headless Services that name their hosts answer their ready endpoints (#14)', () => {
  const headless = (annotations: Record<string, string>) => ({
    metadata: { name: 'db', namespace: 'shop', annotations },
    spec: { type: 'ClusterIP', clusterIP: 'None' },
  });
  const HOST = { 'external-dns.alpha.kubernetes.io/hostname': `db.${ZONE}` };
  const ep = (ip: string, ready: boolean) => ({ addresses: [ip], conditions: { ready } });

  it('ready endpoints only, sorted; follows every slice change; none ready: no name', () => {
    const { l, sink } = ledger();
    l.replaceAll('EndpointSlice', [
      slice('db', [ep('10.0.0.2', true), ep('10.0.0.9', false)], 'db-1'),
      slice('db', [ep('10.0.0.1', true)], 'db-2'),
    ]);
    l.replaceAll('Service', [headless(HOST)]);
    expect(sink.names('Service')).toEqual({ [`db.${ZONE}`]: '10.0.0.1 10.0.0.2' });

    l.upsert('EndpointSlice', slice('db', [ep('10.0.0.2', true), ep('10.0.0.9', true)], 'db-1'));
    expect(sink.names('Service')).toEqual({ [`db.${ZONE}`]: '10.0.0.1 10.0.0.2 10.0.0.9' });

    l.upsert('EndpointSlice', slice('db', [ep('10.0.0.2', false)], 'db-1'));
    l.remove('EndpointSlice', 'shop/db-2', slice('db', [], 'db-2'));
    expect(sink.names('Service')).toEqual({});
    l.upsert('EndpointSlice', slice('db', [ep('10.0.0.4', true)], 'db-1'));
    expect(sink.names('Service')).toEqual({ [`db.${ZONE}`]: '10.0.0.4' });
  });

  it('stays out unless it names its hosts; mdns.io/health: ignore still follows the addresses', () => {
    const { l, sink } = ledger();
    l.replaceAll('EndpointSlice', [slice('db', [ep('10.0.0.1', true)])]);
    l.replaceAll('Service', [headless({})]);
    expect(sink.names('Service')).toEqual({});
    l.upsert('Service', headless({ ...HOST, 'mdns.io/health': 'ignore' }));
    expect(sink.names('Service')).toEqual({ [`db.${ZONE}`]: '10.0.0.1' });
    l.upsert('EndpointSlice', slice('db', [ep('10.0.0.7', true)]));
    expect(sink.names('Service')).toEqual({ [`db.${ZONE}`]: '10.0.0.7' });
  });

  it('without EndpointSlices (sources.health off): not published, one warning naming why', () => {
    const logger = new RecordingLogger();
    const f = compileFilters({
      ingressClasses: [],
      gatewayClasses: [],
      labelSelector: '',
      namespaces: [],
    });
    if (!f.ok) throw new Error(f.error);
    const sink = new RecordingSink();
    const l = new ClaimLedger(['Service'], [ZONE], 60, f.filters, sink, logger);
    l.replaceAll('Service', [headless(HOST)]);
    expect(sink.names('Service')).toEqual({});
    expect(logger.lines.filter((x) => x.level === 'warn').map((x) => x.msg)).toEqual([
      expect.stringMatching(
        /headless Service is published with its ready endpoints, which need EndpointSlices/,
      ),
    ]);
  });
});
