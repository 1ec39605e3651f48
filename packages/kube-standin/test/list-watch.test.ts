/** The wire protocol as seen by a plain HTTP client: list, get, watch, faults, writes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Standin, startStandin } from '../src/index.js';
import { getJson, httpChunks, ingress, rawWatch, sleep, until } from './fixtures.js';

const ING = '/apis/networking.k8s.io/v1';

describe('list and get', () => {
  let s: Standin;
  beforeAll(async () => {
    s = await startStandin({
      objects: [
        ingress('a', 'a.test', 'web', { app: 'shop', tier: 'front' }),
        ingress('b', 'b.test', 'web', { app: 'blog' }),
        ingress('c', 'c.test', 'ops', { app: 'shop' }),
        ingress('d', 'd.test', 'ops'),
      ],
    });
  });
  afterAll(() => s.close());

  const names = async (path: string) =>
    (await getJson(s.url + path)).body.items.map(
      (o: any) => `${o.metadata.namespace}/${o.metadata.name}`,
    );

  it('cluster-wide and namespaced, with the list resourceVersion', async () => {
    const all = await getJson(`${s.url}${ING}/ingresses`);
    expect(all.body.kind).toBe('IngressList');
    expect(all.body.metadata.resourceVersion).toBe(String(s.resourceVersion));
    expect(all.body.items[0].kind).toBeUndefined(); // built-in kinds: no per-item kind
    expect(all.body.items[0].metadata).toMatchObject({ generation: 1, uid: expect.any(String) });
    expect(await names(`${ING}/namespaces/ops/ingresses`)).toEqual(['ops/c', 'ops/d']);
  });

  it('label selectors: =, !=, in, notin, exists, !exists', async () => {
    const q = (sel: string) => names(`${ING}/ingresses?labelSelector=${encodeURIComponent(sel)}`);
    expect(await q('app=shop')).toEqual(['ops/c', 'web/a']);
    expect(await q('app!=shop')).toEqual(['ops/d', 'web/b']);
    expect(await q('app in (shop, blog),tier')).toEqual(['web/a']);
    expect(await q('app notin (shop)')).toEqual(['ops/d', 'web/b']);
    expect(await q('!app')).toEqual(['ops/d']);
    expect((await getJson(`${s.url}${ING}/ingresses?labelSelector=a%20in%20x`)).status).toBe(400);
  });

  it('field selectors on metadata.namespace and metadata.name', async () => {
    expect(await names(`${ING}/ingresses?fieldSelector=metadata.namespace%3Dweb`)).toEqual([
      'web/a',
      'web/b',
    ]);
    expect(await names(`${ING}/ingresses?fieldSelector=metadata.name!%3Da`)).toHaveLength(3);
    const bad = await getJson(`${s.url}${ING}/ingresses?fieldSelector=spec.x%3D1`);
    expect(bad.status).toBe(400);
  });

  it('limit/continue pages through everything; an expired continue is 410', async () => {
    const p1 = await getJson(`${s.url}${ING}/ingresses?limit=3`);
    expect(p1.body.items).toHaveLength(3);
    expect(p1.body.metadata.remainingItemCount).toBe(1);
    const token = p1.body.metadata.continue;
    const p2 = await getJson(`${s.url}${ING}/ingresses?limit=3&continue=${token}`);
    expect(p2.body.items.map((o: any) => o.metadata.name)).toEqual(['b']);
    expect(p2.body.metadata.continue).toBeUndefined();
    s.apply(ingress('z', 'z.test'));
    s.compact();
    const gone = await getJson(`${s.url}${ING}/ingresses?limit=3&continue=${token}`);
    expect(gone.status).toBe(410);
    expect(gone.body.reason).toBe('Expired');
    const exact = await getJson(
      `${s.url}${ING}/ingresses?resourceVersion=2&resourceVersionMatch=Exact`,
    );
    expect(exact.status).toBe(410);
  });

  it('GET one object, 404 Status for a missing one', async () => {
    const a = await getJson(`${s.url}${ING}/namespaces/web/ingresses/a`);
    expect(a.body).toMatchObject({ kind: 'Ingress', metadata: { name: 'a' } });
    const missing = await getJson(`${s.url}${ING}/namespaces/web/ingresses/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe('ingresses.networking.k8s.io "nope" not found');
  });
});

describe('watch', () => {
  let s: Standin;
  beforeAll(async () => {
    s = await startStandin({ bookmarkIntervalMs: 100, historyLimit: 5 });
  });
  afterAll(() => s.close());

  const watchUrl = (q: string) => `${s.url}${ING}/ingresses?watch=true&${q}`;

  it('replays events after resourceVersion, then streams live ones', async () => {
    const from = s.resourceVersion;
    s.apply(ingress('r1', 'r1.test'));
    s.apply(ingress('r1', 'r1b.test'));
    const w = await rawWatch(watchUrl(`resourceVersion=${from}`));
    s.delete('ingresses', 'web', 'r1');
    await until('3 events', () => w.events.length === 3);
    expect(w.events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(w.events[1].object.metadata.generation).toBe(2);
    expect(Number(w.events[2].object.metadata.resourceVersion)).toBe(s.resourceVersion);
    w.close();
  });

  it('without resourceVersion: ADDED for the current objects first', async () => {
    s.apply(ingress('now', 'now.test'));
    const w = await rawWatch(watchUrl(''));
    await until('initial', () => w.events.length === 1);
    expect(w.events[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'now' } } });
    w.close();
    s.delete('ingresses', 'web', 'now');
  });

  it('a resourceVersion older than the history is an ERROR 410 Expired event, then the end', async () => {
    for (let i = 0; i < 6; i++) s.apply(ingress(`h${i}`, 'h.test'));
    const w = await rawWatch(watchUrl('resourceVersion=1'));
    expect(w.status).toBe(200);
    expect(await w.ended).toEqual({ clean: true });
    expect(w.events).toHaveLength(1);
    expect(w.events[0].type).toBe('ERROR');
    expect(w.events[0].object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
  });

  it('a label-selector watch sees an object leave as DELETED and come back as ADDED', async () => {
    s.apply(ingress('sel', 'sel.test', 'web', { team: 'x' }));
    const w = await rawWatch(
      watchUrl(`resourceVersion=${s.resourceVersion}&labelSelector=team%3Dx`),
    );
    s.apply(ingress('sel', 'sel.test', 'web', { team: 'y' }));
    s.apply(ingress('other', 'o.test', 'web', { team: 'y' }));
    s.apply(ingress('sel', 'sel.test', 'web', { team: 'x' }));
    await until('2 events', () => w.events.length === 2);
    expect(w.events.map((e) => e.type)).toEqual(['DELETED', 'ADDED']);
    w.close();
  });

  it('bookmarks arrive only when allowed, carrying the current resourceVersion', async () => {
    const plain = await rawWatch(watchUrl(`resourceVersion=${s.resourceVersion}`));
    const marked = await rawWatch(
      watchUrl(`resourceVersion=${s.resourceVersion}&allowWatchBookmarks=true`),
    );
    await until('bookmarks', () => marked.events.length >= 2);
    expect(marked.events[0]).toEqual({
      type: 'BOOKMARK',
      object: {
        kind: 'Ingress',
        apiVersion: 'networking.k8s.io/v1',
        metadata: { resourceVersion: String(s.resourceVersion) },
      },
    });
    expect(plain.events).toEqual([]);
    plain.close();
    marked.close();
  });

  it('timeoutSeconds ends the stream cleanly', async () => {
    const w = await rawWatch(watchUrl(`resourceVersion=${s.resourceVersion}&timeoutSeconds=1`));
    expect(await w.ended).toEqual({ clean: true });
  });

  it('cutMidEvent leaves half a JSON line on the wire, then a reset', async () => {
    const w = await rawWatch(watchUrl(`resourceVersion=${s.resourceVersion}`));
    await s.waitForWatch('ingresses');
    expect(s.dropConnections({ cutMidEvent: true })).toBe(1);
    expect(await w.ended).toEqual({ clean: false });
    expect(w.raw.length).toBeGreaterThan(0);
    expect(w.raw.endsWith('\n')).toBe(false);
  });

  it('stall holds new requests until released; failNext answers 500 Status', async () => {
    s.stall(true);
    const pending = getJson(`${s.url}${ING}/ingresses`);
    await sleep(200);
    expect(s.requests.at(-1)).toMatchObject({ verb: 'list', status: 0 });
    s.stall(false);
    expect((await pending).status).toBe(200);
    s.failNext(2, 503, { verb: 'list', kind: 'Ingress' });
    expect((await getJson(`${s.url}${ING}/ingresses`)).status).toBe(503);
    expect((await getJson(`${s.url}${ING}/namespaces/web/ingresses/h1`)).status).toBe(200);
    expect((await getJson(`${s.url}${ING}/ingresses`)).body.reason).toBe('ServiceUnavailable');
    expect((await getJson(`${s.url}${ING}/ingresses`)).status).toBe(200);
    expect(s.answered(503, 'Ingress')).toBe(2);
    expect(s.answered(503, 'Service')).toBe(0);
  });

  it('a change held by a stall is lost with the watch ended meanwhile: the re-watch from the client resourceVersion gets 410', async () => {
    const seen = s.resourceVersion;
    const w = await rawWatch(watchUrl(`resourceVersion=${seen}`));
    await s.waitForWatch('ingresses');
    s.stall(true);
    s.apply(ingress('held', 'held.test'));
    s.compact();
    expect(s.endWatches('ingresses')).toBe(1);
    s.stall(false);
    expect(await w.ended).toEqual({ clean: true });
    expect(w.events).toEqual([]);
    const again = await rawWatch(watchUrl(`resourceVersion=${seen}`));
    expect(await again.ended).toEqual({ clean: true });
    expect(again.events.map((e) => [e.type, e.object.code])).toEqual([['ERROR', 410]]);
    s.delete('ingresses', 'web', 'held');
  });

  it('replayNextWatch sends the given bytes verbatim, one chunk each, then a clean end', async () => {
    const event = JSON.stringify({ type: 'ADDED', object: ingress('raw', 'raw.test') });
    const chunks = [
      event.slice(0, 25),
      `${event.slice(25)}\n`,
      '{"type":"BOOKMARK","object":{"kind":"Ingress","apiVersion":"networking.k8s.io/v1","metadata":{"resourceVersion":"99"}}}\n',
    ];
    s.replayNextWatch('ingresses', chunks);
    const wire = await httpChunks(watchUrl(`resourceVersion=${s.resourceVersion}`));
    expect(wire).toEqual(chunks);
    s.replayNextWatch('ingresses', chunks);
    const w = await rawWatch(watchUrl(`resourceVersion=${s.resourceVersion}`));
    expect(await w.ended).toEqual({ clean: true });
    expect(w.events.map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK']);
    expect(s.get('ingresses', 'web', 'raw')).toBeUndefined(); // the store never saw it
    // Only the next watch: the one after is served from the store again.
    const next = await rawWatch(watchUrl(`resourceVersion=${s.resourceVersion}&timeoutSeconds=1`));
    expect(await next.ended).toEqual({ clean: true });
    expect(next.raw).toBe('');
  });

  it('down refuses connections; up listens on the same port', async () => {
    const { port } = s;
    await s.down();
    await expect(fetch(`${s.url}/api`)).rejects.toThrow();
    await s.up();
    expect(s.port).toBe(port);
    expect((await getJson(`${s.url}/api`)).status).toBe(200);
  });
});

describe('HTTP writes', () => {
  let s: Standin;
  beforeAll(async () => {
    s = await startStandin({ kinds: ['services'] });
  });
  afterAll(() => s.close());

  const send = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(s.url + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const svc = (name: string, port: number) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { type: 'LoadBalancer', ports: [{ port }] },
  });

  it('POST creates (409 twice), PUT replaces, PUT status, DELETE removes', async () => {
    const base = '/api/v1/namespaces/apps/services';
    expect((await send('POST', base, svc('s', 80))).status).toBe(201);
    expect((await send('POST', base, svc('s', 80))).status).toBe(409);
    const put = await send('PUT', `${base}/s`, svc('s', 8080));
    expect(put.body.metadata.generation).toBe(2);
    const st = { loadBalancer: { ingress: [{ ip: '192.0.2.9' }] } };
    const status = await send('PUT', `${base}/s/status`, { ...svc('s', 8080), status: st });
    expect(status.body.status).toEqual(st);
    expect(status.body.metadata.generation).toBe(2);
    expect(s.get('services', 'apps', 's')?.status).toEqual(st);
    expect((await send('DELETE', `${base}/s`)).status).toBe(200);
    expect(s.get('services', 'apps', 's')).toBeUndefined();
    expect((await send('DELETE', `${base}/s`)).status).toBe(404);
  });

  it('a no-op apply does not bump the resourceVersion', () => {
    s.apply(svc('same', 53));
    const rv = s.resourceVersion;
    s.apply(svc('same', 53));
    expect(s.resourceVersion).toBe(rv);
  });
});
