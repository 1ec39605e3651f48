/**
 * The real @kubernetes/client-node 1.4 informer against the stand-in: what a cluster-gateway
 * sees on changes, 410 Expired, dropped and cleanly ended watches, stalls and outages.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Standin, startStandin } from '../src/index.js';
import { ingress, sleep, until } from './fixtures.js';

interface Seen {
  events: string[];
  errors: any[];
  connects: number;
}

function watchIngresses(s: Standin) {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(s.kubeconfigPath);
  const api = kc.makeApiClient(k8s.NetworkingV1Api);
  const informer = k8s.makeInformer(kc, '/apis/networking.k8s.io/v1/ingresses', () =>
    api.listIngressForAllNamespaces(),
  );
  const seen: Seen = { events: [], errors: [], connects: 0 };
  for (const verb of ['add', 'update', 'delete'] as const) {
    informer.on(verb, (o: k8s.V1Ingress) => seen.events.push(`${verb} ${o.metadata?.name}`));
  }
  informer.on('connect', () => seen.connects++);
  informer.on('error', (e: any) => seen.errors.push(e));
  return { informer, seen };
}

const names = (inf: k8s.Informer<k8s.V1Ingress> & k8s.ObjectCache<k8s.V1Ingress>) =>
  inf
    .list()
    .map((o) => o.metadata?.name)
    .sort();

describe('client-node informer against the stand-in', () => {
  let s: Standin;
  let inf: ReturnType<typeof watchIngresses>;

  beforeEach(async () => {
    s = await startStandin({ objects: [ingress('a', 'a.example.test')] });
    inf = watchIngresses(s);
    await inf.informer.start();
    await s.waitForWatch('ingresses');
  });

  afterEach(async () => {
    await inf.informer.stop();
    await s.close();
  });

  it('lists, then receives ADDED, MODIFIED and DELETED', async () => {
    expect(inf.seen.events).toEqual(['add a']);
    s.apply(ingress('b', 'b.example.test'));
    s.apply(ingress('b', 'b2.example.test'));
    s.delete('ingresses', 'web', 'b');
    await until('delete b', () => inf.seen.events.length === 4);
    expect(inf.seen.events).toEqual(['add a', 'add b', 'update b', 'delete b']);
    expect(s.count('list', 'ingresses')).toBe(1);
    expect(s.count('watch', 'ingresses')).toBe(1);
  });

  it('a status-only change arrives as update with the new status', async () => {
    s.patchStatus('Ingress', 'web', 'a', { loadBalancer: { ingress: [{ ip: '192.0.2.7' }] } });
    await until('update a', () => inf.seen.events.includes('update a'));
    const a = inf.informer.get('a', 'web');
    expect(a?.status?.loadBalancer?.ingress?.[0]?.ip).toBe('192.0.2.7');
  });

  it('a cleanly ended watch is re-opened from the last resourceVersion, no error', async () => {
    const rv = (inf.informer as any).latestResourceVersion();
    expect(s.endWatches()).toBe(1);
    await until('re-watch', () => s.count('watch', 'ingresses') === 2 && s.openWatches() === 1);
    expect(inf.seen.errors).toEqual([]);
    expect(inf.seen.connects).toBe(2);
    expect(s.count('list', 'ingresses')).toBe(1);
    expect(s.requests.at(-1)?.query).toContain(`resourceVersion=${rv}`);
  });

  it('410 on re-watch: the informer re-lists by itself and reports deletions, no error', async () => {
    s.stall(true); // hold the live events so the informer's resourceVersion stays old
    s.delete('ingresses', 'web', 'a');
    s.apply(ingress('c', 'c.example.test'));
    s.compact();
    s.endWatches();
    s.stall(false);
    await until('relist', () => s.count('list', 'ingresses') === 2 && s.openWatches() === 1);
    await until('c added', () => inf.seen.events.includes('add c'));
    expect(inf.seen.events).toEqual(['add a', 'delete a', 'add c']);
    expect(inf.seen.errors).toEqual([]);
    expect(inf.seen.connects).toBe(3); // start, 410 watch, watch after relist
    expect(names(inf.informer)).toEqual(['c']);
  });

  it('a dropped connection is an error that stops the informer; a restart catches up', async () => {
    expect(s.dropConnections()).toBe(1);
    await until('error', () => inf.seen.errors.length === 1);
    expect(inf.seen.errors[0].code).toBe('ERR_STREAM_PREMATURE_CLOSE');
    await sleep(200);
    expect(s.openWatches()).toBe(0); // it does not retry on its own
    s.delete('ingresses', 'web', 'a');
    s.compact(); // the informer's resourceVersion is now too old
    await inf.informer.start();
    await until('delete a', () => inf.seen.events.includes('delete a'));
    expect(names(inf.informer)).toEqual([]);
    expect(s.count('list', 'ingresses')).toBe(2);
    expect(inf.seen.errors).toHaveLength(1);
  });

  it('a torn event line (cutMidEvent) is ignored, then the same error as a drop', async () => {
    s.dropConnections({ cutMidEvent: true });
    await until('error', () => inf.seen.errors.length === 1);
    expect(inf.seen.errors[0].code).toBe('ERR_STREAM_PREMATURE_CLOSE');
    expect(inf.seen.events).toEqual(['add a']);
    expect(names(inf.informer)).toEqual(['a']);
  });

  it('stall: no events while stalled, all of them after', async () => {
    s.stall(true);
    s.apply(ingress('d', 'd.example.test'));
    await sleep(300);
    expect(inf.seen.events).toEqual(['add a']);
    s.stall(false);
    await until('add d', () => inf.seen.events.includes('add d'));
  });

  it('down: error ECONNREFUSED on restart; up: same port, restart works', async () => {
    const port = s.port;
    await s.down();
    await until('drop error', () => inf.seen.errors.length === 1);
    await inf.informer.start();
    await until('refused', () => inf.seen.errors.length === 2);
    expect(inf.seen.errors[1].code).toBe('ECONNREFUSED');
    s.apply(ingress('e', 'e.example.test'));
    await s.up();
    expect(s.port).toBe(port);
    await inf.informer.start();
    await until('add e', () => inf.seen.events.includes('add e'));
  });

  it('injected 500 and forbid (403) on the watch are errors carrying statusCode', async () => {
    s.failNext(1, 500, { verb: 'watch' });
    s.endWatches();
    await until('500', () => inf.seen.errors.length === 1);
    expect(inf.seen.errors[0].statusCode).toBe(500);
    s.forbid('ingresses');
    await inf.informer.start();
    await until('403', () => inf.seen.errors.length === 2);
    expect(inf.seen.errors[1].statusCode).toBe(403);
    s.forbid('ingresses', false);
    await inf.informer.start();
    await s.waitForWatch('ingresses');
  });
});

describe('client-node typed calls', () => {
  let s: Standin;
  let kc: k8s.KubeConfig;
  beforeAll(async () => {
    s = await startStandin();
    kc = new k8s.KubeConfig();
    kc.loadFromFile(s.kubeconfigPath);
  });
  afterAll(() => s.close());

  it('plain http is accepted only with insecure-skip-tls-verify (as the kubeconfig sets)', async () => {
    const list = await kc.makeApiClient(k8s.CoreV1Api).listServiceForAllNamespaces();
    expect(list.items).toEqual([]);
    const strict = new k8s.KubeConfig();
    strict.loadFromString(s.kubeconfigYaml.replace('insecure-skip-tls-verify: true', ''));
    await expect(strict.makeApiClient(k8s.CoreV1Api).listServiceForAllNamespaces()).rejects.toThrow(
      /HTTP protocol is not allowed/,
    );
  });

  it('a forbidden list rejects with ApiException code 403 and a Status body', async () => {
    s.forbid('services');
    const err: any = await kc
      .makeApiClient(k8s.CoreV1Api)
      .listServiceForAllNamespaces()
      .catch((e) => e);
    expect(err.code).toBe(403);
    expect(JSON.parse(err.body).reason).toBe('Forbidden');
    s.forbid('services', false);
  });
});
