import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Standin, startStandin } from '@mdns/kube-standin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeStates } from '../src/sources/composite.js';
import { sourcesConfigSchema } from '../src/sources/config.js';
import { createSources, type Source } from '../src/sources/types.js';
import { eventually, RecordingLogger, RecordingSink } from './sources-recording.js';

const ctx = { zones: ['prod.example.tld'], defaultTtl: 60, logger: new RecordingLogger() };

describe('mergeStates', () => {
  const s = (phase: any, objects = 0, lastEventAt: number | null = null) => ({
    phase,
    objects,
    lastEventAt,
  });
  it.each([
    [[s('synced'), s('absent')], 'synced'],
    [[s('synced'), s('syncing')], 'syncing'],
    [[s('absent'), s('forbidden')], 'forbidden'],
    [[s('error'), s('synced')], 'error'],
    [[s('absent'), s('absent')], 'absent'],
  ])('%j -> %s', (states, phase) => {
    expect(mergeStates(states).phase).toBe(phase);
  });
  it('sums objects and keeps the newest event time', () => {
    expect(mergeStates([s('synced', 2, 10), s('synced', 3, null)])).toEqual(s('synced', 5, 10));
  });
});

describe('createSources', () => {
  let standin: Standin;
  let dir: string;
  let sources: Source[] = [];

  beforeAll(async () => {
    standin = await startStandin({
      objects: [
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'api', namespace: 'shop' },
          spec: { type: 'LoadBalancer' },
          status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } },
        } as never,
      ],
    });
    dir = await mkdtemp(join(tmpdir(), 'mdns-create-'));
    await writeFile(
      join(dir, 'svc.yaml'),
      `apiVersion: v1
kind: Service
metadata: { name: api, namespace: shop }
spec: { type: LoadBalancer }
status: { loadBalancer: { ingress: [{ ip: 192.0.2.2 }] } }
`,
    );
  });

  afterAll(async () => {
    await Promise.all(sources.map((s) => s.stop()));
    await standin.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('nothing enabled -> no sources', () => {
    expect(
      createSources(sourcesConfigSchema.parse({ kubernetes: { enabled: false } }), ctx),
    ).toEqual([]);
  });

  it('an unloadable kubeconfig -> start rejects naming it, kinds in error', async () => {
    const config = sourcesConfigSchema.parse({
      kubernetes: { kubeconfig: join(dir, 'missing.yaml') },
    });
    const [source] = createSources(config, ctx);
    const sink = new RecordingSink();
    await expect(source.start(sink)).rejects.toThrow(/missing\.yaml/);
    expect(sink.phase('Service')).toBe('error');
  });

  it('kubernetes and manifests together: one source, objects of both, same name unioned by the index', async () => {
    const config = sourcesConfigSchema.parse({
      resources: ['Service'],
      kubernetes: { kubeconfig: standin.kubeconfigPath },
      manifests: { enabled: true, directory: dir },
    });
    sources = createSources(config, ctx);
    expect(sources).toHaveLength(1);
    const sink = new RecordingSink();
    await sources[0].start(sink);
    await eventually(() => {
      expect(sink.phase('Service')).toBe('synced');
      expect([...(sink.kinds.get('Service')?.keys() ?? [])].sort()).toEqual([
        'kubernetes:shop/api',
        'manifests:shop/api',
      ]);
    });
    expect(sink.states.get('Service')?.objects).toBe(2);
  });
});
