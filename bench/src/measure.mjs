// Servers under dnsperf: throughput with each server's CPU and memory from /proc, then
// latency percentiles at a fixed rate. All servers of a scenario run side by side (idle
// when not measured) and their throughput runs are interleaved round by round, so a
// burst of load from other users of the box hits ours and the peer alike.
import { latencyAtRate, onePass, throughput } from './dnsperf.mjs';
import { cpuCount, pinTree, procTreeStats, stopProcess } from './proc.mjs';
import { cpuPer100k, latencySummary } from './stats.mjs';

async function throughputSample(server, queryFile, seconds) {
  const before = procTreeStats(server.proc.pid);
  const run = await throughput(server.port, queryFile, seconds);
  const after = procTreeStats(server.proc.pid);
  const cpuSeconds = after.cpuSeconds - before.cpuSeconds;
  return {
    qps: run.qps,
    completed: run.completed,
    lost: run.lost,
    rcodes: run.rcodes,
    cpuSeconds,
    // Busy share of one core during the run: 1.0 = one core saturated.
    cpuCores: run.runSeconds > 0 ? cpuSeconds / run.runSeconds : Number.NaN,
    cpuPer100k: cpuPer100k(cpuSeconds, run.completed),
  };
}

const bestRun = (runs) => runs.reduce((a, b) => (b.qps > a.qps ? b : a));

/**
 * One rate for every server of a scenario, at most half of the slowest one's throughput:
 * percentiles of a server past its capacity measure its queue, not its answer path.
 */
export function latencyRate(configured, bestQps) {
  const half = Math.floor(Math.min(...bestQps) / 2 / 100) * 100;
  return Math.max(100, Math.min(configured, half));
}

/**
 * Issue 15's load point, per server: half of that server's own best throughput (at least
 * 100 qps). Unlike `latencyRate` it differs between servers: each is measured at the same
 * share of its capacity, the rate a deployment sized at 2x headroom would see.
 */
export const halfMaxRate = (bestQps) => Math.max(100, Math.floor(bestQps / 2));

/**
 * The same half-max latency run with the server alone on the last CPU and dnsperf and this
 * harness on the others: what a server does when it does not share its core with its load
 * generator, as in a deployment. Unpinned, on 2 cores, every server (Knot and dnsdist too)
 * showed a p99 of 1.6–6 ms that was the scheduler's, not the server's.
 */
async function latencyPinned(server, ctx, m, qps) {
  const last = cpuCount() - 1;
  const others = last === 1 ? '0' : `0-${last - 1}`;
  const unpinServer = pinTree(server.proc.pid, String(last));
  const unpinSelf = pinTree(process.pid, others, { children: false });
  try {
    const r = await latencyAtRate(server.port, ctx.queryFile, m.latencySeconds, qps, others);
    return { ...latencySummary(r.latencies), qps, lost: r.stats.lost, serverCpu: last };
  } finally {
    unpinSelf();
    unpinServer();
  }
}

/**
 * `specs`: `[{ start: () => Promise<{ name, proc, port }>, warmPasses? }]`.
 * Every server is started first, measured `rounds` times (the best round is kept: the one
 * least disturbed by others), latency-sampled, and always stopped.
 */
export async function compareServers(ctx, specs) {
  const servers = [];
  try {
    for (const spec of specs) servers.push({ spec, server: await spec.start(), runs: [] });
    for (const s of servers) {
      for (let i = 0; i < (s.spec.warmPasses ?? 0); i++)
        await onePass(s.server.port, ctx.queryFile);
    }
    for (let round = 0; round < ctx.rounds; round++) {
      for (const s of servers) {
        const run = await throughputSample(s.server, ctx.queryFile, ctx.measure.seconds);
        s.runs.push(run);
        ctx.log(
          `  ${s.server.name}: ${Math.round(run.qps)} qps, ${run.cpuPer100k.toFixed(2)} CPU s/100k`,
        );
      }
    }
    const rows = [];
    const m = ctx.measure;
    const rate = latencyRate(
      m.latencyQps,
      servers.map((s) => bestRun(s.runs).qps),
    );
    for (const s of servers) {
      const best = bestRun(s.runs);
      const lat = await latencyAtRate(s.server.port, ctx.queryFile, m.latencySeconds, rate);
      const half = halfMaxRate(best.qps);
      const atHalf = await latencyAtRate(s.server.port, ctx.queryFile, m.latencySeconds, half);
      const pinned = cpuCount() >= 2 ? await latencyPinned(s.server, ctx, m, half) : null;
      const mem = procTreeStats(s.server.proc.pid);
      rows.push({
        server: s.server.name,
        ...best,
        rounds: s.runs.map((r) => Math.round(r.qps)),
        rssBytes: mem.rssBytes,
        hwmBytes: mem.hwmBytes,
        latency: { ...latencySummary(lat.latencies), qps: rate, lost: lat.stats.lost },
        latencyAtHalfMax: {
          ...latencySummary(atHalf.latencies),
          qps: half,
          lost: atHalf.stats.lost,
        },
        ...(pinned && { latencyAtHalfMaxPinned: pinned }),
      });
    }
    return rows;
  } finally {
    await Promise.all(servers.map((s) => stopProcess(s.server.proc)));
  }
}
