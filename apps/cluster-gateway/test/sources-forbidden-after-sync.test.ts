import { type Standin, startStandin } from '@mdns/kube-standin';
import { afterEach, describe, expect, it } from 'vitest';
import { sourcesConfigSchema } from '../src/sources/config.js';
import { compileFilters } from '../src/sources/filters.js';
import { loadKubeConfig } from '../src/sources/kubernetes/kubeconfig.js';
import { KubernetesSource } from '../src/sources/kubernetes/source.js';
import { eventually, RecordingLogger, RecordingSink } from './sources-recording.js';

// Found by reliability/ (kube fault table): a 403 on a kind that had already synced emptied
// it, so every name of that kind became NXDOMAIN while RBAC was being rolled out. The last
// good list must keep serving; the phase still says `forbidden`.
const ZONE = 'prod.example.tld';

const ingress = (name: string, ip: string) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name, namespace: 'shop' },
  spec: { rules: [{ host: `${name}.${ZONE}` }] },
  status: { loadBalancer: { ingress: [{ ip }] } },
});

let standin: Standin | null = null;
let source: KubernetesSource | null = null;

afterEach(async () => {
  await source?.stop();
  await standin?.close();
  source = null;
  standin = null;
});

describe('a kind forbidden after its first sync', () => {
  it('keeps serving its last list, reports forbidden, and resyncs when allowed again', async () => {
    standin = await startStandin({ kinds: ['ingresses'], objects: [ingress('web', '192.0.2.1')] });
    const config = sourcesConfigSchema.parse({
      resources: ['Ingress'],
      kubernetes: {
        kubeconfig: standin.kubeconfigPath,
        crdRecheckSeconds: 0.5,
        watchSilenceSeconds: 2,
        backoff: { initialMs: 50, maxMs: 400 },
      },
    });
    const kc = loadKubeConfig(config.kubernetes);
    if (!kc.ok) throw new Error(kc.error);
    const f = compileFilters(config.filters);
    if (!f.ok) throw new Error(f.error);
    const sink = new RecordingSink();
    source = new KubernetesSource({
      kc: kc.kc,
      config: config.kubernetes,
      kinds: config.resources,
      zones: [ZONE],
      defaultTtl: 60,
      filters: f.filters,
      logger: new RecordingLogger(),
    });
    await source.start(sink);
    await eventually(() => expect(sink.names('Ingress')).toEqual({ [`web.${ZONE}`]: '192.0.2.1' }));
    await standin.waitForWatch('Ingress');

    standin.forbid('Ingress');
    standin.endWatches('Ingress');
    await eventually(() => expect(sink.phase('Ingress')).toBe('forbidden'));
    // Two more re-checks (403s the stand-in sent) later the last list is still there.
    const refusals = standin.answered(403, 'Ingress');
    expect(refusals).toBeGreaterThan(0);
    await eventually(() =>
      expect(standin?.answered(403, 'Ingress')).toBeGreaterThanOrEqual(refusals + 2),
    );
    expect(sink.names('Ingress')).toEqual({ [`web.${ZONE}`]: '192.0.2.1' });
    expect(sink.states.get('Ingress')?.message).toContain('last successful list');

    standin.apply(ingress('new', '192.0.2.2'));
    standin.forbid('Ingress', false);
    await eventually(() => {
      expect(sink.phase('Ingress')).toBe('synced');
      expect(sink.names('Ingress')).toEqual({
        [`web.${ZONE}`]: '192.0.2.1',
        [`new.${ZONE}`]: '192.0.2.2',
      });
    });
  });
});
