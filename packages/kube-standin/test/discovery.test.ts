/** Kinds come and go like CRDs: discovery, 404 for a missing kind, install and uninstall. */
import * as k8s from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Standin, startStandin } from '../src/index.js';
import { dnsEndpoint, getJson, rawWatch, until } from './fixtures.js';

describe('discovery and CRD presence', () => {
  let s: Standin;
  let kc: k8s.KubeConfig;

  beforeEach(async () => {
    s = await startStandin({ kinds: ['services', 'namespaces', 'ingresses'] });
    kc = new k8s.KubeConfig();
    kc.loadFromFile(s.kubeconfigPath);
  });
  afterEach(() => s.close());

  const listDnsEndpoints = () =>
    kc.makeApiClient(k8s.CustomObjectsApi).listClusterCustomObject({
      group: 'externaldns.k8s.io',
      version: 'v1alpha1',
      plural: 'dnsendpoints',
    });

  it('serves only installed groups in /apis and /api/v1', async () => {
    const groups = await kc.makeApiClient(k8s.ApisApi).getAPIVersions();
    expect(groups.groups.map((g) => g.name)).toEqual(['networking.k8s.io']);
    const core = await getJson(`${s.url}/api/v1`);
    expect(core.body.resources.map((r: any) => r.name)).toContain('services');
    expect((await getJson(`${s.url}/api`)).body.versions).toEqual(['v1']);
    expect((await getJson(`${s.url}/apis/externaldns.k8s.io/v1alpha1`)).status).toBe(404);
    expect((await getJson(`${s.url}/apis/externaldns.k8s.io`)).status).toBe(404);
  });

  it('a missing CRD gives 404 for list and watch; after installKind the list works', async () => {
    const err: any = await listDnsEndpoints().catch((e) => e);
    expect(err.code).toBe(404);
    expect(JSON.parse(err.body)).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
    const w = await getJson(`${s.url}/apis/externaldns.k8s.io/v1alpha1/dnsendpoints?watch=true`);
    expect(w.status).toBe(404);
    expect(s.count('list', 'dnsendpoints.externaldns.k8s.io')).toBe(1);
    expect(s.count('watch', 'DNSEndpoint')).toBe(1);

    s.installKind('DNSEndpoint');
    s.apply(dnsEndpoint('e1', 'app.example.test'));
    const list: any = await listDnsEndpoints();
    expect(list.items.map((o: any) => o.metadata.name)).toEqual(['e1']);
    expect(list.items[0].kind).toBe('DNSEndpoint'); // custom resources keep kind in lists
    const apis = await kc.makeApiClient(k8s.ApisApi).getAPIVersions();
    expect(apis.groups.map((g) => g.name)).toContain('externaldns.k8s.io');
  });

  it('uninstallKind deletes the objects (DELETED on the watch), ends the watch, then 404', async () => {
    s.installKind('dnsendpoints');
    s.apply(dnsEndpoint('e1', 'app.example.test'));
    const w = await rawWatch(
      `${s.url}/apis/externaldns.k8s.io/v1alpha1/dnsendpoints?watch=true&resourceVersion=${s.resourceVersion}`,
    );
    await s.waitForWatch('dnsendpoints');
    s.uninstallKind('DNSEndpoint');
    expect(await w.ended).toEqual({ clean: true });
    expect(w.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['DELETED e1']);
    expect((await listDnsEndpoints().catch((e) => e)).code).toBe(404);
    expect(() => s.apply(dnsEndpoint('e2', 'x.example.test'))).toThrow(/not an installed kind/);
  });

  it('the version of each kind is configurable (TLSRoute v1alpha2 by default)', async () => {
    const a = await startStandin({ kinds: ['tlsroutes'] });
    const b = await startStandin({ kinds: ['tlsroutes'], versions: { TLSRoute: 'v1alpha3' } });
    try {
      const gw = 'gateway.networking.k8s.io';
      expect((await getJson(`${a.url}/apis/${gw}/v1alpha2/tlsroutes`)).status).toBe(200);
      expect((await getJson(`${b.url}/apis/${gw}/v1alpha2/tlsroutes`)).status).toBe(404);
      const list = await getJson(`${b.url}/apis/${gw}/v1alpha3/tlsroutes`);
      expect(list.body.kind).toBe('TLSRouteList');
      expect((await getJson(`${b.url}/apis/${gw}`)).body.preferredVersion.version).toBe('v1alpha3');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('an informer on a CRD path with listClusterCustomObject', async () => {
    s.installKind('DNSEndpoint');
    s.apply(dnsEndpoint('e1', 'app.example.test'));
    const informer = k8s.makeInformer<k8s.KubernetesObject>(
      kc,
      '/apis/externaldns.k8s.io/v1alpha1/dnsendpoints',
      () => listDnsEndpoints() as Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>,
    );
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add ${o.metadata?.name}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
    await informer.start();
    await s.waitForWatch('dnsendpoints');
    s.apply(dnsEndpoint('e2', 'b.example.test'));
    s.delete('DNSEndpoint', 'web', 'e1');
    await until('delete e1', () => seen.length === 3);
    expect(seen).toEqual(['add e1', 'add e2', 'delete e1']);
    // Uninstalling the CRD: DELETED for its objects, the watch ends, the re-watch gets 404.
    const errors: any[] = [];
    informer.on('error', (e: any) => errors.push(e));
    s.uninstallKind('DNSEndpoint');
    await until('404 error', () => errors.length === 1);
    expect(errors[0].statusCode).toBe(404);
    expect(seen).toEqual(['add e1', 'add e2', 'delete e1', 'delete e2']);
    await informer.stop();
  });
});
