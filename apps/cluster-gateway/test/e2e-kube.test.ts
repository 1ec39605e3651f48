import { setTimeout as sleep } from 'node:timers/promises';
import { type Standin, startStandin } from '@mdns/kube-standin';
import {
  type AppProcess,
  assertBuilt,
  freePort,
  type TempDir,
  tempDir,
  until,
  WORKER_COUNTS,
} from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askEvery as ask } from './support/answers.js';
import { listenWith, MAIN, startGateway, testConfig } from './support/gateway.js';

const ZONE = 'prod.example.tld';

function ingress(
  namespace: string,
  name: string,
  host: string,
  status: object | undefined,
  annotations = {},
) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace, annotations },
    spec: { rules: [{ host }] },
    ...(status ? { status } : {}),
  };
}

type Kinds = Record<string, { phase: string; objects: number; secondsSinceLastEvent: number }>;

/**
 * Each worker's view of the sources from a `/ready` body: one process reports its own; with
 * workers the primary lists each worker's report (each follows the primary's sources).
 */
function kindsInEveryWorker(body: string): Kinds[] {
  const detail = JSON.parse(body).detail as {
    kinds?: Kinds;
    workers?: Array<{ detail: { kinds: Kinds } }>;
  };
  return detail.workers?.map((w) => w.detail.kinds) ?? [detail.kinds as Kinds];
}

const lbIp = (ip: string) => ({ loadBalancer: { ingress: [{ ip }] } });

/** The stand-in's requests of one verb, counted per resource (`kindKey`). */
function requestsPerResource(standin: Standin, verb: 'list' | 'watch'): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of standin.requests) {
    if (r.verb === verb && r.kind !== undefined) counts[r.kind] = (counts[r.kind] ?? 0) + 1;
  }
  return counts;
}

// The real process against the kube stand-in (a fake API server speaking list+watch), through a
// kubeconfig, exactly as in a cluster. DNSEndpoint's CRD is not installed at first. With
// listen.workers 2 (issue #21) the primary lists and watches the API once and the workers
// follow it; every answer is asked of both workers (`askEvery`) and must agree, and /ready
// and /metrics are the primary's merge of both (the source-state series take the max).
describe.each(WORKER_COUNTS)(
  'end to end: Kubernetes API (kube stand-in), listen.workers: %i',
  (workers) => {
    beforeAll(() => assertBuilt(MAIN));
    let standin: Standin;
    let dir: TempDir;
    let gw: AppProcess;

    beforeAll(async () => {
      standin = await startStandin({
        kinds: [
          'namespaces',
          'services',
          'ingresses',
          'gateways',
          'httproutes',
          'grpcroutes',
          'tlsroutes',
        ],
        objects: [
          ingress('web', 'web', `web.${ZONE}`, lbIp('10.0.0.1')),
          // Bad objects: each skipped (or partly skipped) with a warning, the rest serves.
          ingress('bad', 'no-status', `nostatus.${ZONE}`, undefined),
          ingress('bad', 'bad-host', `bad_host!.${ZONE}`, lbIp('10.0.0.2')),
          ingress('bad', 'bad-ttl', `badttl.${ZONE}`, lbIp('10.0.0.3'), {
            'external-dns.alpha.kubernetes.io/ttl': 'soon',
          }),
        ],
      });
      // Hold every API request: the gateway starts but cannot finish its first sync.
      standin.stall(true);
      dir = tempDir();
      const config = testConfig({
        // A fixed port: on Bun each worker binds its own SO_REUSEPORT socket, and with port 0
        // every worker (and a restarted one) would get a port of its own.
        listen: listenWith(workers, await freePort()),
        sources: {
          kubernetes: {
            kubeconfig: standin.kubeconfigPath,
            crdRecheckSeconds: 1,
            backoff: { initialMs: 200, maxMs: 1000 },
          },
        },
      });
      gw = await startGateway(dir.write('gateway.yaml', JSON.stringify(config)));
    });

    afterAll(async () => {
      await gw?.stop();
      await standin?.close();
      dir?.remove();
    });

    it('before the first full sync: SERVFAIL and /ready 503', async () => {
      await sleep(300);
      expect((await ask(gw, `web.${ZONE}`, 'A')).rcode).toBe('SERVFAIL');
      const ready = await gw.http('/ready');
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.body).ready).toBe(false);
      // The alert "gateway not ready" reads the same decision from /metrics.
      expect((await gw.http('/metrics')).body).toMatch(/^mdns_gateway_ready 0$/m);
      // Outside the zones nothing changes: REFUSED as always.
      expect((await ask(gw, 'example.com', 'A')).rcode).toBe('REFUSED');
    });

    it('after it: answers; a missing CRD is "absent" and holds nothing back', async () => {
      standin.stall(false);
      await until(async () => (await gw.http('/ready')).status === 200, 20_000);
      expect((await ask(gw, `web.${ZONE}`, 'A')).answers).toEqual(['A 10.0.0.1']);
      const views = kindsInEveryWorker((await gw.http('/ready')).body);
      expect(views).toHaveLength(workers);
      for (const kinds of views) {
        expect(kinds.DNSEndpoint.phase).toBe('absent');
        expect(kinds.Ingress).toMatchObject({ phase: 'synced' });
        expect(kinds.Ingress.objects).toBeGreaterThanOrEqual(1);
      }
      const metrics = (await gw.http('/metrics')).body;
      expect(metrics).toMatch(/^mdns_gateway_ready 1$/m);
      expect(metrics).toMatch(/^mdns_gateway_lists_total\{kind="Ingress"\} 1$/m);
    });

    it('one list and one watch per resource, whatever listen.workers (issue #21)', async () => {
      // With workers the primary runs the sources once and the workers follow its claims.
      await standin.waitForWatch('ingresses');
      await standin.waitForWatch('services');
      const lists = requestsPerResource(standin, 'list');
      expect(lists['ingresses.networking.k8s.io']).toBe(1);
      expect(Object.values(lists).every((n) => n === 1)).toBe(true);
      expect(requestsPerResource(standin, 'watch')).toEqual(
        Object.fromEntries(Object.keys(lists).map((kind) => [kind, 1])),
      );
    });

    it('bad objects: skipped with a warning naming namespace/name, the rest serves', async () => {
      expect((await ask(gw, `nostatus.${ZONE}`, 'A')).rcode).toBe('NXDOMAIN');
      expect((await ask(gw, `badttl.${ZONE}`, 'A')).answers).toEqual(['A 10.0.0.3']);
      const warnings = gw.logs.filter((l) => l.level === 'warn').map((l) => JSON.stringify(l));
      expect(warnings.some((w) => w.includes('bad/bad-host'))).toBe(true);
      expect(warnings.some((w) => w.includes('bad/bad-ttl'))).toBe(true);
    });

    it('create, change, delete: answers follow the watch', async () => {
      standin.apply(ingress('shop', 'shop', `shop.${ZONE}`, lbIp('10.5.0.1')));
      await until(async () => (await ask(gw, `shop.${ZONE}`, 'A')).answers[0] === 'A 10.5.0.1');
      standin.patchStatus('ingresses', 'shop', 'shop', lbIp('10.5.0.2'));
      await until(async () => (await ask(gw, `shop.${ZONE}`, 'A')).answers[0] === 'A 10.5.0.2');
      standin.apply({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'api', namespace: 'shop' },
        spec: { type: 'LoadBalancer' },
        status: { loadBalancer: { ingress: [{ hostname: 'api.lb.example.net' }] } },
      });
      await until(
        async () =>
          (await ask(gw, `api.shop.${ZONE}`, 'A')).answers[0] === 'CNAME api.lb.example.net',
      );
      expect((await ask(gw, `shop.${ZONE}`, 'A')).answers).toEqual(['A 10.5.0.2']);
      standin.delete('ingresses', 'shop', 'shop');
      // `api.shop.<zone>` (the Service) is below it: `shop.<zone>` is now an empty non-terminal.
      await until(async () => (await ask(gw, `shop.${ZONE}`, 'A')).answers.length === 0);
      expect(await ask(gw, `shop.${ZONE}`, 'A')).toMatchObject({
        rcode: 'NOERROR',
        authority: ['SOA'],
      });
      standin.delete('services', 'shop', 'api');
      await until(async () => (await ask(gw, `shop.${ZONE}`, 'A')).rcode === 'NXDOMAIN');
      // After the series every worker serves one SOA serial (askEvery: DISAGREE otherwise).
      await until(async () => (await ask(gw, ZONE, 'SOA')).rcode === 'NOERROR');
    });

    it('a CRD installed later is picked up', async () => {
      standin.installKind('dnsendpoints');
      standin.apply({
        apiVersion: 'externaldns.k8s.io/v1alpha1',
        kind: 'DNSEndpoint',
        metadata: { name: 'txt', namespace: 'dns' },
        spec: { endpoints: [{ dnsName: `txt.${ZONE}`, recordType: 'TXT', targets: ['v=1'] }] },
      });
      await until(
        async () => (await ask(gw, `txt.${ZONE}`, 'TXT')).answers[0] === 'TXT v=1',
        20_000,
      );
    });

    it('API down: answers keep coming from the index, /ready stays 200, staleness is exposed', async () => {
      await standin.down();
      await sleep(1500);
      expect((await ask(gw, `web.${ZONE}`, 'A')).answers).toEqual(['A 10.0.0.1']);
      const ready = await gw.http('/ready');
      expect(ready.status).toBe(200);
      for (const kinds of kindsInEveryWorker(ready.body)) {
        expect(kinds.Ingress.secondsSinceLastEvent).toBeGreaterThanOrEqual(1);
      }
      expect((await gw.http('/metrics')).body).toMatch(
        /mdns_gateway_seconds_since_last_event\{kind="Ingress"\} [\d.]+/,
      );
    });

    it('API back: watches resume and new objects answer', async () => {
      await standin.up();
      standin.apply(ingress('shop', 'back', `back.${ZONE}`, lbIp('10.6.0.1')));
      await until(
        async () => (await ask(gw, `back.${ZONE}`, 'A')).answers[0] === 'A 10.6.0.1',
        30_000,
      );
    }, 40_000);

    it.runIf(workers > 1)(
      'a SIGKILLed worker gets every object back from the primary, not from the API',
      async () => {
        // First the primary's own watches are back from the outage above (each re-listed).
        await until(() =>
          Object.keys(requestsPerResource(standin, 'list')).every(
            (kind) => standin.openWatches(kind) >= 1,
          ),
        );
        const lists = requestsPerResource(standin, 'list');
        const first = gw.logs.find((l) => l.msg === 'listening' && l.worker === 1);
        process.kill(first?.pid as number, 'SIGKILL');
        await until(
          () =>
            gw.logs.some((l) => l.msg === 'listening' && l.worker === 1 && l.pid !== first?.pid),
          20_000,
        );
        await until(async () => (await gw.http('/ready')).status === 200, 20_000);
        // Every object, including those that came by watch event after the first list.
        expect((await ask(gw, `back.${ZONE}`, 'A')).answers).toEqual(['A 10.6.0.1']);
        expect((await ask(gw, `txt.${ZONE}`, 'TXT')).answers).toEqual(['TXT v=1']);
        expect((await ask(gw, `web.${ZONE}`, 'A')).answers).toEqual(['A 10.0.0.1']);
        // And the restarted worker serves the primary's serial, not its own start second.
        expect((await ask(gw, ZONE, 'SOA')).rcode).toBe('NOERROR');
        // A worker listing for itself would list every resource again.
        const after = requestsPerResource(standin, 'list');
        expect(
          Object.keys(lists).filter((kind) => after[kind] !== lists[kind]),
          JSON.stringify({ lists, after }),
        ).toEqual([]);
      },
      40_000,
    );

    it('a watch that cannot resume (410 Expired) re-lists, and lists_total counts it', async () => {
      const lists = async () =>
        Number(
          /^mdns_gateway_lists_total\{kind="Ingress"\} (\d+)$/m.exec(
            (await gw.http('/metrics')).body,
          )?.[1],
        );
      const before = await lists();
      expect(before).toBeGreaterThanOrEqual(1);
      // Changes the gateway misses while the API is away, then a compaction: its watch comes
      // back to a resourceVersion that is gone.
      await standin.down();
      standin.apply(ingress('shop', 'relisted', `relisted.${ZONE}`, lbIp('10.7.0.1')));
      standin.compact();
      await standin.up();
      await until(async () => (await lists()) > before, 30_000);
      expect((await ask(gw, `relisted.${ZONE}`, 'A')).answers).toEqual(['A 10.7.0.1']);
    }, 40_000);

    it('SIGTERM: exit 0, and the runtime printed no warning on the way', async () => {
      expect(await gw.stop()).toBe(0);
      // Node 24 (the images) warns about deprecated APIs used by bundled dependencies.
      expect(gw.stderr.join('')).not.toMatch(/Warning/);
    });
  },
);
