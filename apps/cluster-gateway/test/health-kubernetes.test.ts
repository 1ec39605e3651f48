import { type Standin, startStandin } from '@mdns/kube-standin';
import { afterEach, describe, expect, it } from 'vitest';
import { sourcesConfigSchema } from '../src/sources/config.js';
import { compileFilters } from '../src/sources/filters.js';
import { loadKubeConfig } from '../src/sources/kubernetes/kubeconfig.js';
import { KubernetesSource } from '../src/sources/kubernetes/source.js';
import { eventually, RecordingLogger, RecordingSink } from './sources-recording.js';

// Health through the real list+watch path: the stand-in serves EndpointSlices like the
// API server, the gateway's reflector follows them, and the sink sees what the index gets.

const ZONE = 'prod.example.tld';
const NAME = `web.shop.${ZONE}`;

const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'shop' },
  spec: { type: 'LoadBalancer', selector: { app: 'web' } },
  status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } },
};

/** The slice the EndpointSlice controller keeps for `web`, with `ready` endpoints ready. */
function slice(ready: number, total = 2) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'web-x7k2p',
      namespace: 'shop',
      labels: { 'kubernetes.io/service-name': 'web' },
    },
    addressType: 'IPv4',
    endpoints: Array.from({ length: total }, (_, i) => ({
      addresses: [`10.1.0.${i + 1}`],
      conditions: { ready: i < ready, serving: i < ready, terminating: false },
    })),
  };
}

let running: { standin: Standin; source: KubernetesSource } | null = null;
afterEach(async () => {
  await running?.source.stop();
  await running?.standin.close();
  running = null;
});

async function setup(opts: {
  kinds?: string[];
  objects: object[];
  before?: (s: Standin) => void;
  onAllListed?: () => void;
}) {
  const standin = await startStandin({
    kinds: opts.kinds,
    objects: opts.objects as never,
    bookmarkIntervalMs: 200,
  });
  opts.before?.(standin);
  const config = sourcesConfigSchema.parse({
    resources: ['Service'],
    kubernetes: {
      kubeconfig: standin.kubeconfigPath,
      crdRecheckSeconds: 0.5,
      watchSilenceSeconds: 2,
      backoff: { initialMs: 50, maxMs: 400 },
    },
    health: { graceSeconds: 0 },
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
    health: { require: config.health.require, graceMs: 0 },
    onAllListed: opts.onAllListed,
  });
  running = { standin, source };
  await source.start(sink);
  return { standin, source, sink, logger };
}

describe('answers follow application health (Kubernetes list+watch)', () => {
  it('scaled to zero: the address is held back; scaled up: answered again; across a dropped watch', async () => {
    const { standin, sink } = await setup({ objects: [service, slice(2)] });
    await eventually(() => expect(sink.names('Service')).toEqual({ [NAME]: '192.0.2.10' }));
    await standin.waitForWatch('endpointslices');

    standin.apply(slice(0));
    await eventually(() => expect(sink.names('Service')).toEqual({ [NAME]: '' }));

    // The watch drops mid-event: the reflector reopens it and the next change still arrives.
    standin.dropConnections({ cutMidEvent: true });
    standin.apply(slice(1));
    await eventually(() => expect(sink.names('Service')).toEqual({ [NAME]: '192.0.2.10' }));
  });

  it('a slice deleted while the watch is down is forgotten at the relist (410)', async () => {
    const { standin, sink } = await setup({ objects: [service, slice(0)] });
    await eventually(() => expect(sink.names('Service')).toEqual({ [NAME]: '' }));
    await standin.waitForWatch('endpointslices');
    standin.down();
    standin.delete('EndpointSlice', 'shop', 'web-x7k2p');
    standin.compact();
    standin.up();
    // No slice left for `web`: its health cannot be known, so it is answered.
    await eventually(() => expect(sink.names('Service')).toEqual({ [NAME]: '192.0.2.10' }));
  });

  it('start-up ends (onAllListed, once) when the slices are listed too, though answers do not wait for them', async () => {
    let listed = 0;
    const { standin, sink } = await setup({
      objects: [service, slice(2)],
      // Backoff 50, 100, 200, 400, 400 ms: the slices list ends ~1 s after the Service list.
      before: (s) => s.failNext(5, 500, { verb: 'list', kind: 'EndpointSlice' }),
      onAllListed: () => listed++,
    });
    await eventually(() => expect(sink.phase('Service')).toBe('synced'));
    expect(standin.count('list', 'EndpointSlice')).toBeLessThan(6);
    expect(listed).toBe(0);
    await eventually(() => expect(listed).toBe(1));
    expect(standin.count('list', 'EndpointSlice')).toBe(6);
    // A relist later is not start-up.
    await standin.waitForWatch('endpointslices');
    standin.down();
    standin.apply(slice(1));
    standin.compact();
    standin.up();
    await eventually(() => expect(standin.count('list', 'EndpointSlice')).toBeGreaterThan(6));
    expect(listed).toBe(1);
  });

  it('EndpointSlice API absent: every object answered, one warning', async () => {
    let listed = 0;
    const { sink, logger } = await setup({
      kinds: ['services'],
      objects: [service],
      onAllListed: () => listed++,
    });
    await eventually(() => expect(sink.names('Service')).toEqual({ [NAME]: '192.0.2.10' }));
    await new Promise((r) => setTimeout(r, 1200)); // two re-checks (crdRecheckSeconds 0.5)
    const warnings = logger.lines.filter((l) => l.level === 'warn' && /EndpointSlice/.test(l.msg));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].msg).toMatch(/not served/);
    // Absent counts as listed: start-up is over all the same.
    expect(listed).toBe(1);
  });

  it('EndpointSlices forbidden (403): every object answered, one warning', async () => {
    const { sink, logger } = await setup({
      objects: [service, slice(0)],
      before: (s) => s.forbid('endpointslices'),
    });
    await eventually(() => expect(sink.names('Service')).toEqual({ [NAME]: '192.0.2.10' }));
    await new Promise((r) => setTimeout(r, 1200));
    const warnings = logger.lines.filter((l) => l.level === 'warn' && /EndpointSlice/.test(l.msg));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].msg).toMatch(/forbidden/);
  });
});
