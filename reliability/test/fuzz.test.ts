import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AppProcess,
  type FuzzCampaignResult,
  runFuzzCampaign,
  startAuthority,
  startFixtureGateway,
  startUpstreamGateway6,
  type Workdir,
  workdir,
  ZONE,
} from '../src/index.js';

// The bounded fuzz run: >= 100k packets per server (70% UDP, 30% TCP), both servers
// as real processes. The long run is scripts/fuzz-long.mjs.
const PACKETS = Number(process.env.RELIABILITY_FUZZ_PACKETS ?? 100_000);
// RSS may grow while V8 warms up and the stored-answer caches fill; a leak proportional to
// the packets would blow well past this.
const RSS_GROWTH_LIMIT_KB = 150 * 1024;

function expectSurvived(r: FuzzCampaignResult): void {
  expect(r.alive, `${r.app} died`).toBe(true);
  expect(r.udp.timedOut || r.tcp.timedOut, 'storm hit its deadline (hang?)').toBe(false);
  expect(r.udp.sent + r.tcp.sent).toBeGreaterThanOrEqual(PACKETS);
  expect(r.udp.problemExamples, 'malformed or oversized UDP replies').toEqual([]);
  expect(r.tcp.problemExamples, 'malformed TCP replies').toEqual([]);
  expect(r.probes.failures, 'a valid query failed during the storm').toEqual([]);
  expect(r.finalUdp.detail, 'valid UDP query after the storm').toBe('');
  expect(r.finalTcp.detail, 'valid TCP query after the storm').toBe('');
  const growth = r.memoryAfter!.rssKb - r.memoryBefore!.rssKb;
  expect(growth, `RSS grew by ${growth} KiB`).toBeLessThan(RSS_GROWTH_LIMIT_KB);
}

function summary(r: FuzzCampaignResult): string {
  return JSON.stringify({
    app: r.app,
    udp: {
      sent: r.udp.sent,
      replies: r.udp.replies,
      ms: r.udp.durationMs,
      toQr: r.udp.repliesToResponses,
    },
    tcp: {
      sent: r.tcp.sent,
      replies: r.tcp.replies,
      ms: r.tcp.durationMs,
      conns: r.tcp.connections,
    },
    rssKb: [r.memoryBefore?.rssKb, r.memoryAfter?.rssKb, r.memoryAfter?.peakKb],
    probes: r.probes,
  });
}

describe('packet fuzzing against real processes (UDP + TCP)', () => {
  let work: Workdir;
  let gateway: AppProcess;
  let upstream: AppProcess;
  let authority: AppProcess;

  beforeAll(async () => {
    work = workdir();
    gateway = await startFixtureGateway(work);
    upstream = await startUpstreamGateway6(work);
    authority = await startAuthority(work, [
      { name: 'gw', address: '::1', port: upstream.dnsPort },
    ]);
  });

  afterAll(async () => {
    await authority?.stop();
    await upstream?.stop();
    await gateway?.stop();
    work?.remove();
  });

  it('cluster-gateway survives the storm and still answers correctly', async () => {
    const r = await runFuzzCampaign(gateway, { packets: PACKETS, seed: 11, zone: ZONE });
    console.log(summary(r));
    expectSurvived(r);
  });

  it('fanout-authority survives the storm and still answers correctly', async () => {
    const r = await runFuzzCampaign(authority, { packets: PACKETS, seed: 22, zone: ZONE });
    console.log(summary(r));
    expectSurvived(r);
    expect(upstream.alive, 'the gateway behind the authority died').toBe(true);
  });
});
