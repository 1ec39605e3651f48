import { type Standin, startStandin } from '@mdns/kube-standin';
import { afterEach, describe, expect, it } from 'vitest';
import { newRejectionCounts } from '../src/sources/claims/context.js';
import { sourcesConfigSchema } from '../src/sources/config.js';
import { compileFilters } from '../src/sources/filters.js';
import { loadKubeConfig } from '../src/sources/kubernetes/kubeconfig.js';
import { listHead, objectRefIn } from '../src/sources/kubernetes/oversize.js';
import { KubernetesSource } from '../src/sources/kubernetes/source.js';
import { EventLines } from '../src/sources/kubernetes/watch-stream.js';
import { OPEN_POLICY } from '../src/sources/ownership.js';
import { eventually, RecordingLogger, RecordingSink } from './sources-recording.js';

const ZONE = 'prod.example.tld';
const KiB = 1024;

/** A LoadBalancer Service; `padding` bytes of spec the claims never read make it large. */
function service(name: string, ip: string, padding = 0) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'shop' },
    spec: {
      type: 'LoadBalancer',
      ...(padding > 0 ? { selector: { junk: 'x'.repeat(padding) } } : {}),
    },
    status: { loadBalancer: { ingress: [{ ip }] } },
  };
}

let running: { standin: Standin; source: KubernetesSource } | null = null;

afterEach(async () => {
  await running?.source.stop();
  await running?.standin.close();
  running = null;
});

async function start(objects: object[], caps: { maxPageBytes: number; maxEventBytes: number }) {
  const standin = await startStandin({
    kinds: ['services'],
    objects: objects as never,
    bookmarkIntervalMs: 200,
  });
  const config = sourcesConfigSchema.parse({
    resources: ['Service'],
    kubernetes: {
      kubeconfig: standin.kubeconfigPath,
      watchSilenceSeconds: 5,
      backoff: { initialMs: 50, maxMs: 400 },
      ...caps,
    },
  });
  const kc = loadKubeConfig(config.kubernetes);
  if (!kc.ok) throw new Error(kc.error);
  const f = compileFilters(config.filters);
  if (!f.ok) throw new Error(f.error);
  const logger = new RecordingLogger();
  const sink = new RecordingSink();
  const rejected = newRejectionCounts();
  const source = new KubernetesSource({
    kc: kc.kc,
    config: config.kubernetes,
    kinds: config.resources,
    zones: [ZONE],
    defaultTtl: 60,
    filters: f.filters,
    logger,
    tenancy: { externalIPs: false, ownership: OPEN_POLICY, rejected },
  });
  running = { standin, source };
  await source.start(sink);
  return { standin, sink, logger, rejected };
}

describe('byte caps on what the API server sends (kube stand-in)', () => {
  it('a list page over maxPageBytes is halved; the one object over it alone is skipped, the rest served', async () => {
    const objects = [
      service('a', '10.0.0.1'),
      service('huge', '10.0.0.66', 300 * KiB),
      service('z', '10.0.0.26'),
    ];
    const { standin, sink, logger, rejected } = await start(objects, {
      maxPageBytes: 128 * KiB,
      maxEventBytes: 128 * KiB,
    });
    await eventually(() => expect(sink.phase('Service')).toBe('synced'));
    expect(sink.names('Service')).toEqual({
      [`a.shop.${ZONE}`]: '10.0.0.1',
      [`z.shop.${ZONE}`]: '10.0.0.26',
    });
    expect(logger.at('warn')).toContain(
      'Service shop/huge skipped: over sources.kubernetes.maxPageBytes 131072 bytes (list)',
    );
    expect(rejected.object_too_large).toBe(1);
    // Pages went down from 500 to 1 object, and never a body over the cap was parsed.
    const limits = standin.requests
      .filter((r) => r.verb === 'list')
      .map((r) => new URLSearchParams(r.query).get('limit'));
    expect(limits).toContain('1');
    // A relist (after several failed watches) meets the object again: not said twice.
    const lists = standin.count('list', 'services');
    standin.failNext(5, 500, { verb: 'watch', kind: 'services' });
    standin.endWatches('services');
    await eventually(() => expect(standin.count('list', 'services')).toBeGreaterThan(lists));
    standin.apply(service('late', '10.0.0.30'));
    await eventually(() => expect(sink.names('Service')[`late.shop.${ZONE}`]).toBe('10.0.0.30'));
    expect(logger.at('warn').filter((m) => m.includes('shop/huge skipped'))).toHaveLength(1);
    expect(rejected.object_too_large).toBe(1);
  });

  it('a watch event over maxEventBytes is dropped, its object loses its claims, the watch goes on', async () => {
    const { standin, sink, logger, rejected } = await start([service('a', '10.0.0.1')], {
      maxPageBytes: 16 * 1024 * KiB,
      maxEventBytes: 128 * KiB,
    });
    await eventually(() =>
      expect(sink.names('Service')).toEqual({ [`a.shop.${ZONE}`]: '10.0.0.1' }),
    );
    await standin.waitForWatch('services');
    standin.apply(service('a', '10.0.0.1', 300 * KiB));
    standin.apply(service('b', '10.0.0.2'));
    await eventually(() =>
      expect(sink.names('Service')).toEqual({ [`b.shop.${ZONE}`]: '10.0.0.2' }),
    );
    expect(logger.at('warn')).toContain(
      'Service shop/a skipped: over sources.kubernetes.maxEventBytes 131072 bytes (watch)',
    );
    expect(rejected.object_too_large).toBe(1);
  });
});

describe('reading a cut body', () => {
  it('listHead reads the continue token and the first object from a page start', () => {
    const head =
      '{"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"42","continue":"abc"},"items":[{"metadata":{"name":"huge","namespace":"shop","annotations":{"x":"yyyy';
    expect(listHead(head)).toEqual({ resourceVersion: '42', continue: 'abc', first: 'shop/huge' });
    // No list metadata: nothing says how to go on.
    expect(listHead('{"kind":"ServiceList","items":[')).toBeNull();
    expect(listHead('{"items":')).toBeNull();
    expect(objectRefIn('{"type":"ADDED","object":{"metadata":{"name":"n"')).toBe('n');
  });

  it('EventLines never holds more than the cap of one line, and keeps the lines around it', () => {
    const lines: string[] = [];
    const dropped: { head: string; bytes: number }[] = [];
    const reader = new EventLines(
      10,
      (l) => lines.push(l),
      (head, bytes) => dropped.push({ head, bytes }),
    );
    reader.push(Buffer.from('short\nthis line is too'));
    reader.push(Buffer.from(' long\nok\n'));
    expect(lines).toEqual(['short', 'ok']);
    expect(dropped).toEqual([{ head: 'this line is too', bytes: 21 }]);
  });
});
