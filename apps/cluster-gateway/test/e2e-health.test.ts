import { type Standin, startStandin } from '@mdns/kube-standin';
import {
  type AppProcess,
  assertBuilt,
  freePort,
  type Knotd,
  kdigAxfr,
  knotSecondaryOf,
  startKnotd,
  type TempDir,
  tempDir,
  runTool as tool,
  WORKER_COUNTS,
} from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/** Retries an async assertion until it passes (bounded), then throws its last failure. */
function eventually(check: () => Promise<void>, timeoutMs = 15_000): Promise<void> {
  return vi.waitFor(check, { timeout: timeoutMs, interval: 100 });
}

import { askEvery as ask } from './support/answers.js';
import { listenWith, MAIN, startGateway, testConfig } from './support/gateway.js';

// Rows "answers follow application health" of docs/behaviour.md: the real gateway against
// the kube stand-in; EndpointSlice writes are what the EndpointSlice controller would do
// when a Deployment is scaled. Run with listen.workers 1 and 2 (issue #21): each worker
// watches the EndpointSlices itself, every answer is asked of both (`askEvery`) and must
// agree; the explain endpoint is worker 1's; the health metrics are merged with `max`.
const ZONE = 'prod.example.tld';
const KEY = 'xfr-key';
const SECRET = 'jOvMv6N6cLcTGoXz7V2s1w3VtQ0lKf1xk1r8mA2n0Yc=';
const WEB = `web.shop.${ZONE}`;
const SHOP = `shop.${ZONE}`;

function slice(service: string, ready: number) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service}-x7k2p`,
      namespace: 'shop',
      labels: { 'kubernetes.io/service-name': service },
    },
    addressType: 'IPv4',
    endpoints: Array.from({ length: Math.max(ready, 1) }, (_, i) => ({
      addresses: [`10.1.0.${i + 1}`],
      conditions: { ready: i < ready },
    })),
  };
}

const webService = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'shop' },
  spec: { type: 'LoadBalancer', selector: { app: 'web' } },
  status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } },
};

// `shop.zone` is claimed twice: by an Ingress sending to `web` (first in kind order) and by a
// DNSEndpoint (no backends: always healthy).
const shopIngress = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'shop', namespace: 'shop' },
  spec: {
    rules: [
      { host: SHOP, http: { paths: [{ path: '/', backend: { service: { name: 'web' } } }] } },
    ],
  },
  status: { loadBalancer: { ingress: [{ ip: '192.0.2.20' }] } },
};
const shopEndpoint = {
  apiVersion: 'externaldns.k8s.io/v1alpha1',
  kind: 'DNSEndpoint',
  metadata: { name: 'shop', namespace: 'shop' },
  spec: { endpoints: [{ dnsName: SHOP, recordType: 'A', targets: ['192.0.2.30'] }] },
};

// A headless Service that names its host (external-dns publishes these): its ready endpoints.
const DB = `db.${ZONE}`;
const dbService = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: {
    name: 'db',
    namespace: 'shop',
    annotations: { 'external-dns.alpha.kubernetes.io/hostname': DB },
  },
  spec: { clusterIP: 'None', selector: { app: 'db' } },
};
function dbSlice(ready: string[]) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'db-q8w2e',
      namespace: 'shop',
      labels: { 'kubernetes.io/service-name': 'db' },
    },
    addressType: 'IPv4',
    endpoints: [
      ...ready.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
      { addresses: ['10.1.9.99'], conditions: { ready: false } },
    ],
  };
}

async function explain(gw: AppProcess, name: string) {
  const port = gw.explainPort!;
  return (await (await fetch(`http://127.0.0.1:${port}/explain?name=${name}`)).json()) as {
    answer: unknown;
    claims: unknown[];
  };
}

describe.each(WORKER_COUNTS)(
  'end to end: answers follow application health, listen.workers: %i',
  (workers) => {
    beforeAll(() => assertBuilt(MAIN));
    let standin: Standin;
    let dir: TempDir;
    let gw: AppProcess;
    // Knot as the gateway's secondary: what a transfer carries of a held name.
    let knot: Knotd;

    beforeAll(async () => {
      const gwPort = await freePort();
      knot = await startKnotd(
        knotSecondaryOf({ zone: ZONE, key: KEY, secret: SECRET, primaryPort: gwPort }),
      );
      standin = await startStandin({
        objects: [
          webService,
          shopIngress,
          shopEndpoint,
          slice('web', 2),
          dbService,
          dbSlice(['10.1.9.2', '10.1.9.1']),
        ] as never,
        bookmarkIntervalMs: 500,
      });
      dir = tempDir();
      const config = testConfig({
        listen: listenWith(workers, gwPort),
        sources: {
          kubernetes: {
            kubeconfig: standin.kubeconfigPath,
            backoff: { initialMs: 100, maxMs: 500 },
          },
          health: { graceSeconds: 0 },
        },
        explain: { enabled: true, port: 0 },
        notify: { targets: [{ address: '127.0.0.1', port: knot.port, key: KEY }], debounceMs: 50 },
        transfer: { enabled: true, allow: ['127.0.0.0/8'], keys: [{ name: KEY, secret: SECRET }] },
      });
      gw = await startGateway(dir.write('gateway.yaml', JSON.stringify(config)));
      await eventually(async () =>
        expect((await ask(gw, WEB, 'A')).answers).toEqual(['A 192.0.2.10']),
      );
    });

    afterAll(async () => {
      await gw?.stop();
      await knot?.stop();
      await standin?.close();
      dir?.remove();
    });

    it('scaled to zero: the name answers NODATA, the other claimant answers; back: both as before', async () => {
      expect((await ask(gw, SHOP, 'A')).answers).toEqual(['A 192.0.2.20']);
      standin.apply(slice('web', 0));
      await eventually(async () => {
        const web = await ask(gw, WEB, 'A');
        expect(web.rcode).toBe('NOERROR');
        expect(web.answers).toEqual([]);
        expect(web.authority).toEqual(['SOA']);
      });
      // The Ingress is held back: the DNSEndpoint that claims the same name answers.
      expect((await ask(gw, SHOP, 'A')).answers).toEqual(['A 192.0.2.30']);
      // An independent client sees the same NODATA.
      expect(await gw.dig(['+short', WEB, 'A'])).toBe('');
      // The explain endpoint says who claims the name, their backends and why.
      const report = await explain(gw, SHOP);
      expect(report.answer).toEqual({
        type: 'records',
        a: ['192.0.2.30'],
        aaaa: [],
        cname: null,
        txt: [],
      });
      expect(report.claims).toMatchObject([
        {
          kind: 'Ingress',
          object: 'shop/shop',
          a: ['192.0.2.20'],
          healthy: false,
          backends: [{ service: 'shop/web', state: 'down', ready: 0, total: 1 }],
        },
        { kind: 'DNSEndpoint', object: 'shop/shop', healthy: true, backends: null },
      ]);
      expect((await explain(gw, WEB)).answer).toEqual({ type: 'nodata' });
      expect(
        await gw.metric('mdns_gateway_health_objects{kind="Service",health="unhealthy"}'),
      ).toBe(1);
      expect(await gw.metric('mdns_gateway_health_transitions_total{to="unhealthy"}')).toBe(2);

      standin.apply(slice('web', 1));
      await eventually(async () =>
        expect((await ask(gw, WEB, 'A')).answers).toEqual(['A 192.0.2.10']),
      );
      expect((await ask(gw, SHOP, 'A')).answers).toEqual(['A 192.0.2.20']);
      expect(await gw.metric('mdns_gateway_health_transitions_total{to="healthy"}')).toBe(2);
    });

    // Both worker counts: with workers the primary owns the serial, so every worker serves
    // each change at one serial and the secondary never keeps the older data.
    it('a secondary of the gateway (Knot) answers a held name NODATA too: the transfer marks it', async () => {
      const atKnot = async (type: string) =>
        (await tool('dig', ['@127.0.0.1', '-p', String(knot.port), '+tries=1', WEB, type])).match(
          /status: (\w+)/,
        )?.[1];
      const marker = async () =>
        (await kdigAxfr(gw.dnsPort, ZONE, { name: KEY, secret: SECRET }))
          .filter((l) => /\btype65432\b/.test(l))
          .map((l) => l.split(' ')[0]);
      await eventually(async () =>
        expect(
          await tool('kdig', ['@127.0.0.1', '-p', String(knot.port), '+short', WEB, 'A']),
        ).toBe('192.0.2.10\n'),
      );
      expect(await marker()).toEqual([]);
      standin.apply(slice('web', 0));
      // kdig prints the private-use type as RFC 3597 `TYPE65432 \# 0`: a standard tool reads it.
      await eventually(async () => expect(await marker()).toEqual([`${WEB}.`]));
      await eventually(async () => expect(await atKnot('A')).toBe('NOERROR'));
      expect((await ask(gw, WEB, 'A')).rcode).toBe('NOERROR');
      // Nothing below the held name exists, at the gateway and at its secondary.
      expect((await ask(gw, `x.${WEB}`, 'A')).rcode).toBe('NXDOMAIN');
      expect(
        (
          await tool('dig', ['@127.0.0.1', '-p', String(knot.port), '+tries=1', `x.${WEB}`, 'A'])
        ).match(/status: (\w+)/)?.[1],
      ).toBe('NXDOMAIN');
      standin.apply(slice('web', 1));
      await eventually(async () => expect(await marker()).toEqual([]));
      await eventually(async () =>
        expect(
          await tool('kdig', ['@127.0.0.1', '-p', String(knot.port), '+short', WEB, 'A']),
        ).toBe('192.0.2.10\n'),
      );
    });

    it('a headless Service naming its host answers its ready endpoints, and follows them', async () => {
      expect((await ask(gw, DB, 'A')).answers).toEqual(['A 10.1.9.1', 'A 10.1.9.2']);
      standin.apply(dbSlice(['10.1.9.3']));
      await eventually(async () =>
        expect((await ask(gw, DB, 'A')).answers).toEqual(['A 10.1.9.3']),
      );
      expect((await gw.dig(['+short', DB, 'A'])).trim()).toBe('10.1.9.3');
    });

    it('an unhealthy object deleted: its name is gone (NXDOMAIN), not a stale NODATA', async () => {
      standin.apply(slice('web', 0));
      await eventually(async () => expect((await ask(gw, WEB, 'A')).answers).toEqual([]));
      expect((await ask(gw, WEB, 'A')).rcode).toBe('NOERROR');
      standin.delete('Service', 'shop', 'web');
      await eventually(async () => expect((await ask(gw, WEB, 'A')).rcode).toBe('NXDOMAIN'));
    });
  },
);
