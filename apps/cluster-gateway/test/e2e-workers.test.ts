import {
  type AppProcess,
  netCoreSysctl,
  type TempDir,
  tempDir,
  udpSocketMemory,
} from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ingressWithIp, startGateway, testConfig } from './support/gateway.js';

// listen.workers: 2 with the manifests source: each worker builds its own index from the
// same directory and answers from one shared UDP socket / TCP listener.
const ZONE = 'prod.example.tld';

const ingress = ingressWithIp;

describe('cluster-gateway with listen.workers: 2', () => {
  let dir: TempDir;
  let manifests: TempDir;
  let gw: AppProcess;
  beforeAll(async () => {
    dir = tempDir();
    manifests = tempDir('gateway-manifests-');
    manifests.write('web.yaml', stringify(ingress('web', `web.${ZONE}`, '10.8.0.1')));
    const config = testConfig({
      listen: { host: '127.0.0.1', port: 0, workers: 2, udpBufferBytes: 2 * 1024 * 1024 },
      sources: {
        kubernetes: { enabled: false },
        manifests: { enabled: true, directory: manifests.path },
      },
    });
    gw = await startGateway(dir.write('gateway.yaml', JSON.stringify(config)));
  });
  afterAll(async () => {
    await gw?.stop();
    dir?.remove();
    manifests?.remove();
  });

  it("both workers serve; /ready is the primary's view of both", async () => {
    const listening = gw.logs.filter((l) => l.msg === 'listening').map((l) => l.worker);
    expect(listening.sort()).toEqual([1, 2]);
    const ready = await gw.http('/ready');
    expect(ready.status).toBe(200);
    const body = JSON.parse(ready.body) as { detail: { workers: Array<{ ready: boolean }> } };
    expect(body.detail.workers.map((w) => w.ready)).toEqual([true, true]);
  });

  it('listen.udpBufferBytes sizes the shared UDP socket', () => {
    expect(udpSocketMemory(gw.dnsPort).rb).toBe(
      2 * Math.min(2 * 1024 * 1024, netCoreSysctl('rmem_max')),
    );
  });

  it('every query over UDP and TCP gets the answer, whichever worker reads it', async () => {
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => gw.query(`web.${ZONE}`, 'A')),
    );
    expect(answers.filter((r) => r.rcode !== 0 || r.query.ancount !== 1)).toEqual([]);
    const tcp = await gw.dig(['+tcp', '+short', `web.${ZONE}`, 'A']);
    expect(tcp.trim()).toBe('10.8.0.1');
  });

  it('/metrics merges the workers: an index both hold is not counted twice', async () => {
    const metrics = await gw.http('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('mdns_gateway_index_names{kind="Ingress"} 1\n');
    expect(metrics.body).toContain('mdns_gateway_workers{state="running"} 2\n');
  });

  it('SIGTERM stops the primary and both workers with exit 0', async () => {
    const pids = gw.logs.filter((l) => l.msg === 'listening').map((l) => l.pid as number);
    expect(await gw.stop()).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});
