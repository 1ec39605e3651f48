import { type ProbeResult, probeAnswer } from '../probe.js';
import type { AppProcess, MemorySample } from '../server-process.js';
import { KNOWN_NAMES, WEB_A } from '../topology.js';
import { type StormResult, tcpStorm, udpStorm } from './storm.js';

export interface FuzzCampaignOptions {
  packets: number;
  /** Share of packets sent over TCP (the rest over UDP). */
  tcpShare?: number;
  seed?: number;
  udpRate?: number;
  tcpConnections?: number;
  deadlineMs?: number;
  zone: string;
  log?: (line: string) => void;
}

export interface FuzzCampaignResult {
  app: string;
  seed: number;
  udp: StormResult;
  tcp: StormResult;
  memoryBefore: MemorySample | null;
  memoryAfter: MemorySample | null;
  /** Liveness probes during the storm (valid query, full answer check). */
  probes: { ok: number; failed: number; maxMs: number; failures: string[] };
  /** The valid queries after the storm, over UDP and TCP. */
  finalUdp: ProbeResult;
  finalTcp: ProbeResult;
  alive: boolean;
}

/**
 * Fuzzes one running server over UDP then TCP, probing a valid query about once a second,
 * and checks the answer after the storm. Pure orchestration: pass/fail is the caller's.
 */
export async function runFuzzCampaign(
  server: AppProcess,
  options: FuzzCampaignOptions,
): Promise<FuzzCampaignResult> {
  const seed = options.seed ?? 1;
  const tcpPackets = Math.round(options.packets * (options.tcpShare ?? 0.3));
  const probes = { ok: 0, failed: 0, maxMs: 0, failures: [] as string[] };
  const onTick = async (sent: number) => {
    const r = await probeAnswer('127.0.0.1', server.dnsPort, WEB_A, { attempts: 3 });
    if (r.ok) probes.ok++;
    else {
      probes.failed++;
      if (probes.failures.length < 10) probes.failures.push(`after ${sent}: ${r.detail}`);
    }
    probes.maxMs = Math.max(probes.maxMs, r.ms);
    options.log?.(
      `${server.name}: ${sent} sent, probe ${r.ok ? 'ok' : 'FAILED'} ${r.ms.toFixed(0)} ms, rss ${server.memory()?.rssKb} KiB`,
    );
  };
  const common = {
    host: '127.0.0.1',
    port: server.dnsPort,
    zone: options.zone,
    known: KNOWN_NAMES,
    deadlineMs: options.deadlineMs,
    onTick,
  };
  const memoryBefore = server.memory();
  const udp = await udpStorm({
    ...common,
    packets: options.packets - tcpPackets,
    seed,
    rate: options.udpRate,
  });
  const tcp = await tcpStorm({
    ...common,
    packets: tcpPackets,
    seed: seed + 1,
    connections: options.tcpConnections,
  });
  const finalUdp = await probeAnswer('127.0.0.1', server.dnsPort, WEB_A, { attempts: 3 });
  const finalTcp = await probeAnswer('127.0.0.1', server.dnsPort, WEB_A, { tcp: true });
  return {
    app: server.name,
    seed,
    udp,
    tcp,
    memoryBefore,
    memoryAfter: server.memory(),
    probes,
    finalUdp,
    finalTcp,
    alive: server.alive,
  };
}
