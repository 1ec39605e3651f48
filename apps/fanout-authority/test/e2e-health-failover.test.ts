import { type Standin, startStandin } from '@mdns/kube-standin';
import { AppProcess, assertBuilt, freePort, type TempDir, tempDir } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Authority, startAuthority } from './support/authority.js';
import { GATEWAY_MAIN } from './support/gateway.js';

// Answers follow application health across clusters (docs/behaviour.md): two real gateways,
// each watching its own cluster (a kube stand-in) with EndpointSlices, NOTIFY the real
// authority; cluster x's `web` is scaled to zero (its slice loses every ready endpoint) and
// the authority answers only y's address, under every policy; scaled up, both again.
// Record TTLs are 300 s: only the NOTIFY the health change causes can refresh the cache.

const ZONES = { all: 'all.test', first: 'first.test', priority: 'prio.test' } as const;
const X = '192.0.2.10';
const Y = '198.51.100.20';

assertBuilt(GATEWAY_MAIN);

function service(ip: string) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { type: 'LoadBalancer', selector: { app: 'web' } },
    status: { loadBalancer: { ingress: [{ ip }] } },
  };
}

/** The slice the EndpointSlice controller keeps for `web` with `ready` of 2 endpoints ready. */
function slice(ready: number) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'web-x7k2p',
      namespace: 'shop',
      labels: { 'kubernetes.io/service-name': 'web' },
    },
    addressType: 'IPv4',
    endpoints: [0, 1].map((i) => ({
      addresses: [`10.1.0.${i + 1}`],
      conditions: { ready: i < ready },
    })),
  };
}

interface Cluster {
  standin: Standin;
  dir: TempDir;
  gateway: AppProcess;
  port: number;
}

/** A gateway for every zone, watching `standin`, notifying the authority at `notifyPort`. */
async function startCluster(ip: string, notifyPort: number): Promise<Cluster> {
  const standin = await startStandin({ objects: [service(ip), slice(2)] as never });
  const dir = tempDir('health-gw-');
  const config = {
    zones: Object.values(ZONES).map((name) => ({
      name,
      nameservers: [{ name: `ns1.${name}`, addresses: ['192.0.2.53'] }],
    })),
    ttl: 300,
    listen: { host: '127.0.0.1', port: 0 },
    ops: { host: '127.0.0.1', metricsPort: 0, healthPort: 0, readyPort: 0 },
    shutdown: { lameDuckSeconds: 0 },
    sources: {
      resources: ['Service'],
      kubernetes: { kubeconfig: standin.kubeconfigPath, backoff: { initialMs: 100, maxMs: 500 } },
      health: { graceSeconds: 0 },
    },
    notify: { targets: [{ address: '127.0.0.1', port: notifyPort }], debounceMs: 50 },
  };
  const gateway = await AppProcess.start(GATEWAY_MAIN, dir.write('gateway.yaml', config), {
    name: 'cluster-gateway',
  });
  return { standin, dir, gateway, port: gateway.dnsPort };
}

async function stopCluster(c: Cluster | undefined): Promise<void> {
  if (!c) return;
  await c.gateway.stop();
  await c.standin.close();
  c.dir.remove();
}

/** Retries an async assertion until it passes (bounded), then throws its last failure. */
function eventually(check: () => Promise<void>, timeoutMs = 15_000): Promise<void> {
  return vi.waitFor(check, { timeout: timeoutMs, interval: 100 });
}

describe('health failover across clusters (EndpointSlices -> gateway -> NOTIFY -> authority)', () => {
  let x: Cluster;
  let y: Cluster;
  let auth: Authority;
  const addresses = async (zone: string) =>
    (await auth.query(`web.shop.${zone}`, 'A')).answers.map((a) => a.data as string).sort();

  beforeAll(async () => {
    const authPort = await freePort();
    x = await startCluster(X, authPort);
    y = await startCluster(Y, authPort);
    const zone = (name: string, policy: string) =>
      [
        `  - name: ${name}`,
        '    soa: { minimum: 30, ttl: 60 }',
        `    nameservers: [{ name: ns1.${name}, addresses: [192.0.2.53] }]`,
        `    policy: ${policy}`,
        '    upstreams:',
        `      - { name: x, address: 127.0.0.1, port: ${x.port}, priority: 0 }`,
        `      - { name: y, address: 127.0.0.1, port: ${y.port}, priority: 1 }`,
      ].join('\n');
    auth = await startAuthority(
      [
        'zones:',
        zone(ZONES.all, 'all'),
        zone(ZONES.first, 'first'),
        zone(ZONES.priority, 'priority'),
        `listen: { host: 127.0.0.1, port: ${authPort} }`,
        'ops: { host: 127.0.0.1, metricsPort: 0, healthPort: 0, readyPort: 0 }',
        'log: { level: info }',
        'shutdown: { lameDuckSeconds: 0 }',
        '',
      ].join('\n'),
    );
    await eventually(async () => expect(await addresses(ZONES.all)).toEqual([X, Y]));
  }, 60_000);

  afterAll(async () => {
    await auth?.stop();
    await stopCluster(x);
    await stopCluster(y);
  });

  it('x scaled to zero: every policy answers y only; x back: all answers both, priority x', async () => {
    // Cached before the change: the health NOTIFY, not an expiring TTL, must refresh them.
    expect(await addresses(ZONES.priority)).toEqual([X]);
    expect((await addresses(ZONES.first)).length).toBe(1);

    x.standin.apply(slice(0));
    await eventually(async () => expect(await addresses(ZONES.all)).toEqual([Y]));
    await eventually(async () => expect(await addresses(ZONES.priority)).toEqual([Y]));
    await eventually(async () => expect(await addresses(ZONES.first)).toEqual([Y]));

    x.standin.apply(slice(1));
    await eventually(async () => expect(await addresses(ZONES.all)).toEqual([X, Y]));
    await eventually(async () => expect(await addresses(ZONES.priority)).toEqual([X]));
  });

  it('no cluster healthy: NODATA (fail-closed), the name still exists', async () => {
    x.standin.apply(slice(0));
    y.standin.apply(slice(0));
    await eventually(async () => {
      const r = await auth.query(`web.shop.${ZONES.all}`, 'A');
      expect(r.rcode).toBe(0);
      expect(r.answers).toEqual([]);
    });
    y.standin.apply(slice(2));
    await eventually(async () => expect(await addresses(ZONES.all)).toEqual([Y]));
  });
});
