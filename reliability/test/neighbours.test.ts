import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AppProcess,
  bigTxtEndpoint,
  fixtureObjects,
  gatewayConfig,
  runConnectionHog,
  runNonReaders,
  runUdpFlood,
  startServer,
  WEB_A,
  type Workdir,
  waitReady,
  workdir,
  writeConfig,
  writeManifests,
  ZONE,
} from '../src/index.js';

// One client must not hurt the others (issue 18, TCP + RRL part). The attacker sends from
// 127.0.1.1, the observed client from 127.0.0.1 (another /24). Before/after figures:
// scripts/neighbours.mjs and RELIABILITY.md §7.
const BIG = `big.${ZONE}`;
// Short enough for a quick campaign, long enough that the hog is measured before it expires.
const IDLE_MS = 2500;

describe('neighbours: one client cannot take service from the others', () => {
  let work: Workdir;
  let gateway: AppProcess;

  beforeAll(async () => {
    work = workdir();
    const manifests = writeManifests(work.path, [...fixtureObjects(), bigTxtEndpoint(BIG)]);
    const config = gatewayConfig(
      { manifests },
      {
        listen: { host: '127.0.0.1', port: 0, tcpIdleTimeoutMs: IDLE_MS },
        rrl: { responsesPerSecond: 20, window: 5 },
      },
    );
    gateway = await startServer('cluster-gateway', writeConfig(work.path, 'gw.yaml', config));
    await waitReady(gateway);
  });

  afterAll(async () => {
    await gateway?.stop();
    work?.remove();
  });

  it('a source holding 1000 silent TCP connections gets 100; another client is answered over TCP', async () => {
    const r = await runConnectionHog(gateway, WEB_A, { connections: 1000, holdMs: 1000 });
    console.log(JSON.stringify(r));
    expect(r.alive).toBe(true);
    expect(r.attackerOpen).toBe(100);
    expect(r.legitTcp.share).toBe(1);
  });

  it('clients pipelining large answers and never reading are closed; others are answered', async () => {
    const r = await runNonReaders(gateway, BIG, WEB_A, {
      connections: 10,
      queriesEach: 1000,
      waitMs: 4 * IDLE_MS,
    });
    console.log(JSON.stringify(r));
    expect(r.alive).toBe(true);
    expect(r.openAfterWait).toBe(0);
    expect(await gateway.metric('mdns_gateway_transport_tcp_write_stalls_total')).toBe(10);
    expect(r.legitUdp.share).toBe(1);
    expect(r.legitTcp.share).toBe(1);
  });

  it('a UDP flood from one /24 is rate limited; another client gets every answer', async () => {
    const r = await runUdpFlood(gateway, WEB_A, { rate: 3000, seconds: 3 });
    console.log(JSON.stringify(r));
    expect(r.alive).toBe(true);
    // 20 a second plus the slips (TC=1, header + question only).
    expect(r.flooder.replies - r.flooder.truncated).toBeLessThan(200);
    expect(r.flooder.truncated).toBeGreaterThan(r.flooder.sent / 4);
    expect(r.legitUdp.share).toBe(1);
  });
});
