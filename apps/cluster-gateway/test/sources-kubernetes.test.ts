import { type Standin, startStandin } from '@mdns/kube-standin';
import { afterEach, describe, expect, it } from 'vitest';
import { sourcesConfigSchema } from '../src/sources/config.js';
import { compileFilters } from '../src/sources/filters.js';
import { loadKubeConfig } from '../src/sources/kubernetes/kubeconfig.js';
import { KubernetesSource } from '../src/sources/kubernetes/source.js';
import type { SourceKind } from '../src/sources/types.js';
import { eventually, RecordingLogger, RecordingSink } from './sources-recording.js';

const ZONE = 'prod.example.tld';

function ingress(name: string, ip: string, namespace = 'shop') {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace },
    spec: { rules: [{ host: `${name}.${ZONE}` }] },
    status: { loadBalancer: { ingress: [{ ip }] } },
  };
}

function service(name: string, ip: string) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'shop' },
    spec: { type: 'LoadBalancer' },
    status: { loadBalancer: { ingress: [{ ip }] } },
  };
}

function dnsEndpoint(name: string, ip: string) {
  return {
    apiVersion: 'externaldns.k8s.io/v1alpha1',
    kind: 'DNSEndpoint',
    metadata: { name, namespace: 'shop' },
    spec: { endpoints: [{ dnsName: `${name}.${ZONE}`, recordType: 'A', targets: [ip] }] },
  };
}

function gateway(ip: string) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'public', namespace: 'infra' },
    spec: { gatewayClassName: 'public' },
    status: { addresses: [{ type: 'IPAddress', value: ip }] },
  };
}

const httpRoute = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'shop', namespace: 'shop' },
  spec: { hostnames: [`shop.${ZONE}`], parentRefs: [{ name: 'public', namespace: 'infra' }] },
};

interface Harness {
  standin: Standin;
  source: KubernetesSource;
  sink: RecordingSink;
  logger: RecordingLogger;
}

let running: Harness | null = null;

afterEach(async () => {
  await running?.source.stop();
  await running?.standin.close();
  running = null;
});

async function setup(opts: {
  kinds?: string[];
  objects?: object[];
  resources?: SourceKind[];
  kubernetes?: object;
  filters?: object;
  before?: (s: Standin) => void;
  /** Served version per Kind, e.g. `{ TLSRoute: 'v1' }`. */
  versions?: Record<string, string>;
}): Promise<Harness> {
  const standin = await startStandin({
    kinds: opts.kinds,
    versions: opts.versions,
    objects: opts.objects as never,
    bookmarkIntervalMs: 200,
  });
  opts.before?.(standin);
  const config = sourcesConfigSchema.parse({
    resources: opts.resources,
    kubernetes: {
      kubeconfig: standin.kubeconfigPath,
      crdRecheckSeconds: 0.5,
      watchSilenceSeconds: 2,
      backoff: { initialMs: 50, maxMs: 400 },
      ...opts.kubernetes,
    },
    filters: opts.filters,
  });
  const kc = loadKubeConfig(config.kubernetes);
  if (!kc.ok) throw new Error(kc.error);
  const f = compileFilters(config.filters);
  if (!f.ok) throw new Error(f.error);
  const logger = new RecordingLogger();
  const sink = new RecordingSink();
  const source = new KubernetesSource({
    kc: kc.kc,
    config: config.kubernetes,
    kinds: config.resources,
    zones: [ZONE],
    defaultTtl: 60,
    filters: f.filters,
    logger,
  });
  running = { standin, source, sink, logger };
  await source.start(sink);
  return running;
}

const ALL: SourceKind[] = [
  'HTTPRoute',
  'TLSRoute',
  'GRPCRoute',
  'Ingress',
  'Service',
  'DNSEndpoint',
];

function allSynced(sink: RecordingSink, kinds: SourceKind[] = ALL) {
  for (const k of kinds) expect(sink.phase(k), k).toBe('synced');
}

describe('kubernetes source against kube-standin', () => {
  it('initial sync of every kind, then create / modify / delete events', async () => {
    const { standin, sink } = await setup({
      objects: [
        ingress('web', '192.0.2.1'),
        service('api', '192.0.2.2'),
        dnsEndpoint('ep', '192.0.2.3'),
        gateway('192.0.2.4'),
        httpRoute,
      ],
    });
    await eventually(() => allSynced(sink));
    expect(sink.names('Ingress')).toEqual({ [`web.${ZONE}`]: '192.0.2.1' });
    expect(sink.names('Service')).toEqual({ [`api.shop.${ZONE}`]: '192.0.2.2' });
    expect(sink.names('DNSEndpoint')).toEqual({ [`ep.${ZONE}`]: '192.0.2.3' });
    expect(sink.names('HTTPRoute')).toEqual({ [`shop.${ZONE}`]: '192.0.2.4' });
    expect(sink.states.get('Ingress')?.objects).toBe(1);
    expect(sink.states.get('Ingress')?.lastEventAt).toBeTypeOf('number');

    standin.apply(ingress('new', '192.0.2.5'));
    await eventually(() => expect(sink.names('Ingress')[`new.${ZONE}`]).toBe('192.0.2.5'));
    standin.patchStatus('Ingress', 'shop', 'web', {
      loadBalancer: { ingress: [{ ip: '192.0.2.6' }] },
    });
    await eventually(() => expect(sink.names('Ingress')[`web.${ZONE}`]).toBe('192.0.2.6'));
    standin.delete('Ingress', 'shop', 'new');
    await eventually(() => expect(sink.names('Ingress')).toEqual({ [`web.${ZONE}`]: '192.0.2.6' }));
    // A Gateway change re-emits its routes.
    standin.patchStatus('Gateway', 'infra', 'public', {
      addresses: [{ type: 'IPAddress', value: '192.0.2.7' }],
    });
    await eventually(() =>
      expect(sink.names('HTTPRoute')).toEqual({ [`shop.${ZONE}`]: '192.0.2.7' }),
    );
  });

  it('missing CRD -> absent (one warning) while other kinds sync; installed later -> picked up', async () => {
    const { standin, sink, logger } = await setup({
      kinds: ['Namespace', 'Service', 'Ingress', 'Gateway', 'HTTPRoute', 'GRPCRoute', 'TLSRoute'],
      objects: [ingress('web', '192.0.2.1')],
    });
    await eventually(() => {
      expect(sink.phase('DNSEndpoint')).toBe('absent');
      allSynced(sink, ['HTTPRoute', 'TLSRoute', 'GRPCRoute', 'Ingress', 'Service']);
    });
    expect(sink.names('Ingress')).toEqual({ [`web.${ZONE}`]: '192.0.2.1' });
    // Three more re-checks (discovery requests the stand-in saw) later: still one warning.
    const discoveries = () =>
      standin.requests.filter((r) => r.path.startsWith('/apis/externaldns.k8s.io')).length;
    const before = discoveries();
    expect(before).toBeGreaterThan(0);
    await eventually(() => expect(discoveries()).toBeGreaterThanOrEqual(before + 3));
    expect(logger.at('warn').filter((m) => m.includes('DNSEndpoint'))).toHaveLength(1);

    standin.installKind('DNSEndpoint');
    standin.apply(dnsEndpoint('ep', '192.0.2.9') as never);
    await eventually(() => {
      expect(sink.phase('DNSEndpoint')).toBe('synced');
      expect(sink.names('DNSEndpoint')).toEqual({ [`ep.${ZONE}`]: '192.0.2.9' });
    });
  });

  it('Gateway API versions are discovered per kind: TLSRoute v1, HTTPRoute v1beta1, no config', async () => {
    const route = (kind: string, version: string, host: string) => ({
      apiVersion: `gateway.networking.k8s.io/${version}`,
      kind,
      metadata: { name: host, namespace: 'shop' },
      spec: {
        hostnames: [`${host}.${ZONE}`],
        parentRefs: [{ name: 'public', namespace: 'infra' }],
      },
    });
    const { sink, logger } = await setup({
      kinds: ['Gateway', 'HTTPRoute', 'TLSRoute'],
      versions: { TLSRoute: 'v1', HTTPRoute: 'v1beta1' },
      objects: [
        gateway('192.0.2.45'),
        route('TLSRoute', 'v1', 'tls'),
        route('HTTPRoute', 'v1beta1', 'web'),
      ],
      resources: ['HTTPRoute', 'TLSRoute'],
    });
    await eventually(() => {
      expect(sink.names('TLSRoute')).toEqual({ [`tls.${ZONE}`]: '192.0.2.45' });
      expect(sink.names('HTTPRoute')).toEqual({ [`web.${ZONE}`]: '192.0.2.45' });
    });
    expect(
      logger.lines.some((l) => l.msg === 'HTTPRoute served as gateway.networking.k8s.io/v1beta1'),
    ).toBe(true);
  });

  it('a pinned Gateway API version that is not served -> absent, naming the version', async () => {
    const { sink } = await setup({
      kinds: ['Gateway', 'TLSRoute'],
      versions: { TLSRoute: 'v1' },
      resources: ['TLSRoute'],
      kubernetes: { gatewayApiVersions: { TLSRoute: 'v1alpha2' } },
    });
    await eventually(() => expect(sink.phase('TLSRoute')).toBe('absent'));
    expect(sink.states.get('TLSRoute')?.message).toContain('gateway.networking.k8s.io/v1alpha2');
  });

  it('routes wait for the first Gateway list; Gateway CRD installed later -> routes get addresses', async () => {
    const { standin, sink } = await setup({
      kinds: [
        'Namespace',
        'Service',
        'Ingress',
        'HTTPRoute',
        'GRPCRoute',
        'TLSRoute',
        'DNSEndpoint',
      ],
      objects: [httpRoute],
      resources: ['HTTPRoute'],
    });
    await eventually(() => expect(sink.phase('HTTPRoute')).toBe('synced'));
    expect(sink.names('HTTPRoute')).toEqual({});
    standin.installKind('Gateway');
    standin.apply(gateway('192.0.2.44') as never);
    await eventually(() =>
      expect(sink.names('HTTPRoute')).toEqual({ [`shop.${ZONE}`]: '192.0.2.44' }),
    );
  });

  it('a failing Gateway list holds routes out of synced, with the reason', async () => {
    const { standin, sink } = await setup({
      objects: [gateway('192.0.2.4'), httpRoute],
      resources: ['HTTPRoute', 'Ingress'],
      before: (s) => s.failNext(5, 500, { verb: 'list', kind: 'Gateway' }),
    });
    await eventually(() => expect(sink.phase('Ingress')).toBe('synced'));
    expect(sink.states.get('HTTPRoute')?.phase).not.toBe('synced');
    await eventually(() =>
      expect(sink.names('HTTPRoute')).toEqual({ [`shop.${ZONE}`]: '192.0.2.4' }),
    );
    expect(sink.phases).toContain('HTTPRoute:error');
    expect(standin.count('list', 'Gateway')).toBe(6);
  });

  it('forbidden kind -> forbidden (one warning), others sync; allowed later -> synced', async () => {
    const { standin, sink, logger } = await setup({
      resources: ['Ingress', 'Service'],
      objects: [service('api', '192.0.2.2')],
      before: (s) => s.forbid('Service'),
    });
    await eventually(() => {
      expect(sink.phase('Service')).toBe('forbidden');
      expect(sink.phase('Ingress')).toBe('synced');
    });
    await new Promise((r) => setTimeout(r, 1200));
    expect(logger.at('warn').filter((m) => m.includes('Service'))).toHaveLength(1);
    standin.forbid('Service', false);
    await eventually(() => {
      expect(sink.phase('Service')).toBe('synced');
      expect(sink.names('Service')).toEqual({ [`api.shop.${ZONE}`]: '192.0.2.2' });
    });
  });

  it('410 after compaction + dropped connection -> relist; objects deleted meanwhile vanish', async () => {
    const { standin, sink } = await setup({
      resources: ['Ingress'],
      objects: [ingress('a', '192.0.2.1'), ingress('b', '192.0.2.2')],
    });
    await eventually(() => expect(Object.keys(sink.names('Ingress'))).toHaveLength(2));
    await standin.waitForWatch('Ingress');
    const lists = standin.count('list', 'Ingress');
    await standin.down();
    standin.delete('Ingress', 'shop', 'a');
    standin.apply(ingress('c', '192.0.2.3'));
    standin.compact();
    await standin.up();
    await eventually(() => {
      expect(sink.names('Ingress')).toEqual({
        [`b.${ZONE}`]: '192.0.2.2',
        [`c.${ZONE}`]: '192.0.2.3',
      });
    });
    expect(standin.count('list', 'Ingress')).toBeGreaterThan(lists);
    expect(sink.phase('Ingress')).toBe('synced');
  });

  it('a watch answered with HTTP 410 (not an ERROR event) -> relist; a change made meanwhile arrives', async () => {
    const { standin, sink } = await setup({
      resources: ['Ingress'],
      objects: [ingress('a', '192.0.2.1')],
    });
    await eventually(() => expect(sink.phase('Ingress')).toBe('synced'));
    await standin.waitForWatch('Ingress');
    const lists = standin.count('list', 'Ingress');
    // What an API server does when the resourceVersion is too old at the watch request
    // itself: the HTTP status is 410, no stream is opened.
    standin.failNext(1, 410, { verb: 'watch', kind: 'Ingress' });
    standin.endWatches('Ingress');
    await eventually(() => expect(standin.answered(410, 'Ingress')).toBe(1));
    standin.apply(ingress('b', '192.0.2.2'));
    await eventually(() =>
      expect(sink.names('Ingress')).toEqual({
        [`a.${ZONE}`]: '192.0.2.1',
        [`b.${ZONE}`]: '192.0.2.2',
      }),
    );
    expect(standin.count('list', 'Ingress')).toBeGreaterThan(lists);
    expect(sink.phase('Ingress')).toBe('synced');
  });

  it("a watch stream in the API server's wire form: an event split across chunks applied, a BOOKMARK passed over, ERROR 410 Expired -> relist", async () => {
    const { standin, sink } = await setup({
      resources: ['Ingress'],
      objects: [ingress('a', '192.0.2.1')],
    });
    await eventually(() => expect(sink.phase('Ingress')).toBe('synced'));
    await standin.waitForWatch('Ingress');
    const applied: string[] = [];
    const replaceObject = sink.replaceObject.bind(sink);
    sink.replaceObject = (kind, key, claims) => {
      applied.push(`${key} ${claims.map((c) => c.name).join(',')}`);
      replaceObject(kind, key, claims);
    };
    const rv = standin.resourceVersion;
    const raw = {
      ...ingress('raw', '192.0.2.9'),
      metadata: { name: 'raw', namespace: 'shop', uid: 'b9d3', resourceVersion: String(rv + 1) },
    };
    const added = `${JSON.stringify({ type: 'ADDED', object: raw })}\n`;
    const cut = added.indexOf('"spec"');
    // A bookmark is an empty object of the kind (spec and status present but empty), and
    // the expired watch ends with a Status, as a real API server writes them.
    const bookmark = `{"type":"BOOKMARK","object":{"kind":"Ingress","apiVersion":"networking.k8s.io/v1","metadata":{"resourceVersion":"${rv + 1}","creationTimestamp":null},"spec":{},"status":{"loadBalancer":{}}}}\n`;
    const expired = `{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: ${rv + 1} (${rv + 7})","reason":"Expired","code":410}}\n`;
    standin.replayNextWatch('Ingress', [added.slice(0, cut), added.slice(cut) + bookmark, expired]);
    const lists = standin.count('list', 'Ingress');
    standin.endWatches('Ingress');
    // Cause and effect: the torn event was put together and applied; the 410 made the
    // reflector list again, and the list (the store never held `raw`) replaced it.
    await eventually(() => expect(standin.count('list', 'Ingress')).toBeGreaterThan(lists));
    await eventually(() => expect(sink.names('Ingress')).toEqual({ [`a.${ZONE}`]: '192.0.2.1' }));
    expect(applied).toEqual([`shop/raw raw.${ZONE}`]);
    expect(sink.phase('Ingress')).toBe('synced');
  });

  it('dropped watch connection without compaction -> rewatch from resourceVersion, events kept', async () => {
    const { standin, sink } = await setup({
      resources: ['Ingress'],
      objects: [ingress('a', '192.0.2.1')],
    });
    await eventually(() => expect(sink.phase('Ingress')).toBe('synced'));
    await standin.waitForWatch('Ingress');
    standin.dropConnections();
    standin.apply(ingress('b', '192.0.2.2'));
    await eventually(() => expect(Object.keys(sink.names('Ingress'))).toHaveLength(2));
  });

  it('API down then up -> stays synced meanwhile, recovers and sees changes', async () => {
    const { standin, sink } = await setup({
      resources: ['Ingress'],
      objects: [ingress('a', '192.0.2.1')],
    });
    await eventually(() => expect(sink.phase('Ingress')).toBe('synced'));
    await standin.waitForWatch('Ingress');
    await standin.down();
    await new Promise((r) => setTimeout(r, 1000));
    // The index keeps serving what it had: still synced, with the problem in the message.
    expect(sink.phase('Ingress')).toBe('synced');
    expect(sink.names('Ingress')).toEqual({ [`a.${ZONE}`]: '192.0.2.1' });
    standin.apply(ingress('b', '192.0.2.2'));
    await standin.up();
    await eventually(() => expect(Object.keys(sink.names('Ingress'))).toHaveLength(2));
  });

  it('stalled watch -> restarted after watchSilenceSeconds', async () => {
    const { standin, sink, logger } = await setup({
      resources: ['Ingress'],
      objects: [ingress('a', '192.0.2.1')],
      kubernetes: { watchSilenceSeconds: 1 },
    });
    await eventually(() => expect(sink.phase('Ingress')).toBe('synced'));
    await standin.waitForWatch('Ingress');
    const watches = standin.count('watch', 'Ingress');
    standin.stall(true);
    await eventually(
      () => expect(logger.at('warn').some((m) => m.includes('silent'))).toBe(true),
      10_000,
    );
    standin.stall(false);
    standin.apply(ingress('b', '192.0.2.2'));
    await eventually(() => expect(Object.keys(sink.names('Ingress'))).toHaveLength(2));
    expect(standin.count('watch', 'Ingress')).toBeGreaterThan(watches);
  });

  it('label selector is sent to the API server with list and watch', async () => {
    const labelled = {
      ...ingress('a', '192.0.2.1'),
      metadata: { name: 'a', namespace: 'shop', labels: { dns: 'public' } },
    };
    const { standin, sink } = await setup({
      resources: ['Ingress'],
      objects: [labelled, ingress('b', '192.0.2.2')],
      filters: { labelSelector: 'dns=public' },
    });
    await eventually(() => expect(sink.phase('Ingress')).toBe('synced'));
    expect(sink.names('Ingress')).toEqual({ [`a.${ZONE}`]: '192.0.2.1' });
    await standin.waitForWatch('Ingress');
    const selected = standin.requests.filter(
      (r) => r.kind?.startsWith('ingresses') && r.verb !== 'discovery',
    );
    expect(selected.length).toBeGreaterThanOrEqual(2);
    for (const r of selected)
      expect(decodeURIComponent(r.query)).toContain('labelSelector=dns=public');
  });

  it('lists in pages of 500 (limit + continue) and trims managedFields and unread annotations', async () => {
    const objects = Array.from({ length: 1201 }, (_, i) => ({
      ...ingress(`app-${i}`, `10.0.${i >> 8}.${i & 255}`),
      metadata: {
        name: `app-${i}`,
        namespace: 'shop',
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{"big":"blob"}',
          'external-dns.alpha.kubernetes.io/ttl': '120',
        },
      },
    }));
    const { standin, sink } = await setup({ resources: ['Ingress'], objects });
    await eventually(() => expect(sink.phase('Ingress')).toBe('synced'));
    const names = sink.names('Ingress');
    expect(Object.keys(names)).toHaveLength(1201);
    expect(names[`app-1200.${ZONE}`]).toBe('10.0.4.176');
    // The TTL annotation survived trimming.
    expect(sink.kinds.get('Ingress')?.get('shop/app-0')?.[0].ttl).toBe(120);
    const lists = standin.requests.filter(
      (r) => r.kind?.startsWith('ingresses') && r.verb === 'list',
    );
    expect(lists).toHaveLength(3);
    for (const r of lists) expect(r.query).toContain('limit=500');
    expect(lists[1].query).toContain('continue=');
  });
});
