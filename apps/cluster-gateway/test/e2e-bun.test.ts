import { type Standin, startStandin } from '@mdns/kube-standin';
import { AppProcess, assertBuilt, freePort, type TempDir, tempDir, until } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ask } from './support/answers.js';
import { ingressWithIp, MAIN, testConfig } from './support/gateway.js';

// The runtime matrix's fixed row: the unchanged bundle run by the pinned Bun (the whole
// suite runs under Bun with MDNS_TEST_RUNTIME=bun). What must hold on Bun as on Node:
// @kubernetes/client-node list+watch, UDP (Bun.udpSocket) and TCP answers, SIGTERM -> 0,
// and listen.workers through node:cluster.
const ZONE = 'prod.example.tld';

const ingress = ingressWithIp;

describe('cluster-gateway on Bun: Kubernetes list+watch (kube stand-in)', () => {
  let standin: Standin;
  let dir: TempDir;
  let gw: AppProcess;
  beforeAll(async () => {
    assertBuilt(MAIN);
    standin = await startStandin({
      kinds: ['namespaces', 'services', 'ingresses', 'gateways', 'httproutes'],
      objects: [ingress('web', `web.${ZONE}`, '10.0.0.1')],
    });
    dir = tempDir();
    const config = testConfig({
      sources: { kubernetes: { kubeconfig: standin.kubeconfigPath, crdRecheckSeconds: 1 } },
    });
    gw = await AppProcess.start(MAIN, dir.write('gateway.yaml', JSON.stringify(config)), {
      name: 'gateway (bun)',
      runtime: 'bun',
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await standin?.close();
    dir?.remove();
  });

  it('runs on Bun and serves UDP from Bun.udpSocket', () => {
    expect(gw.logs.find((l) => l.msg === 'listening')?.udpBackend).toBe('bun');
  });

  it('lists, then follows the watch: answers over UDP and TCP', async () => {
    await gw.waitReady(20_000);
    expect((await ask(gw, `web.${ZONE}`, 'A')).answers).toEqual(['A 10.0.0.1']);
    standin.apply(ingress('shop', `shop.${ZONE}`, '10.5.0.1'));
    await until(async () => (await ask(gw, `shop.${ZONE}`, 'A')).answers[0] === 'A 10.5.0.1');
    expect((await gw.dig(['+tcp', '+short', `shop.${ZONE}`, 'A'])).trim()).toBe('10.5.0.1');
    expect((await gw.dig(['+notcp', '+short', `web.${ZONE}`, 'A'])).trim()).toBe('10.0.0.1');
  });

  it('serves /metrics (prom-client) and SIGTERM exits 0 without runtime warnings', async () => {
    expect((await gw.http('/metrics')).body).toMatch(/^mdns_gateway_ready 1$/m);
    expect(await gw.stop()).toBe(0);
    expect(gw.stderr.join('')).toBe('');
  });
});

describe('cluster-gateway on Bun with listen.workers: 2', () => {
  let dir: TempDir;
  let manifests: TempDir;
  let gw: AppProcess;
  beforeAll(async () => {
    assertBuilt(MAIN);
    dir = tempDir();
    manifests = tempDir('gateway-manifests-');
    manifests.write('web.yaml', stringify(ingress('web', `web.${ZONE}`, '10.8.0.1')));
    const config = testConfig({
      // A fixed port: Bun's cluster cannot pass sockets, so every worker binds its own with
      // SO_REUSEPORT (`auto` on Bun); with port 0 each worker would get a port of its own.
      listen: { host: '127.0.0.1', port: await freePort(), workers: 2 },
      sources: {
        kubernetes: { enabled: false },
        manifests: { enabled: true, directory: manifests.path },
      },
    });
    gw = await AppProcess.start(MAIN, dir.write('gateway.yaml', JSON.stringify(config)), {
      name: 'gateway workers (bun)',
      runtime: 'bun',
    });
  });
  afterAll(async () => {
    await gw?.stop();
    dir?.remove();
    manifests?.remove();
  });

  it('both workers listen on one port and every query is answered', async () => {
    // Ready = every worker has its index (a worker still syncing answers SERVFAIL).
    await gw.waitReady(20_000);
    const listening = gw.logs.filter((l) => l.msg === 'listening');
    expect(listening.map((l) => l.worker).sort()).toEqual([1, 2]);
    expect(new Set(listening.map((l) => l.dnsPort)).size).toBe(1);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => gw.query(`web.${ZONE}`, 'A')),
    );
    expect(answers.filter((r) => r.rcode !== 0 || r.query.ancount !== 1)).toEqual([]);
    expect((await gw.dig(['+tcp', '+short', `web.${ZONE}`, 'A'])).trim()).toBe('10.8.0.1');
  });

  it('SIGTERM stops the primary and both workers with exit 0', async () => {
    expect(await gw.stop()).toBe(0);
  });
});
