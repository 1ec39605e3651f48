#!/usr/bin/env node
// Long packet-fuzzing run against real processes (build first: pnpm --filter @mdns/reliability build).
//   node reliability/scripts/fuzz-long.mjs --packets 10000000 [--app gateway|authority|both]
//     [--seed 1] [--rate 15000] [--chunk 1000000] [--max-minutes 120] [--report FILE]
//     [--upstream-address ::1]   (127.0.0.1: the authority's upstream shares the fuzzer's
//                                 address, so fuzzed NOTIFYs are accepted: finding 5)
// Sends in chunks (each a full UDP+TCP campaign with liveness probes) so RSS and liveness
// are reported as the run goes; stops at --packets or --max-minutes, whichever comes first.
// Exit 0 when every chunk passed, 1 otherwise.
import { writeFileSync } from 'node:fs';
import {
  runFuzzCampaign,
  startAuthority,
  startFixtureGateway,
  startUpstreamGateway6,
  workdir,
  ZONE,
} from '../dist/index.js';
import { parseArgs, stamp, stopOnSignal } from './args.mjs';

const args = parseArgs(process.argv.slice(2), {
  packets: 10_000_000,
  app: 'both',
  seed: 1,
  rate: 15_000,
  chunk: 1_000_000,
  maxMinutes: 120,
  report: '',
  upstreamAddress: '::1',
});
const deadline = Date.now() + args.maxMinutes * 60_000;
const work = workdir();
const gateway = await startFixtureGateway(work);
// The authority's upstream is another gateway on ::1 (see startUpstreamGateway6: the fuzzer's
// NOTIFY packets from 127.0.0.1 must not pass as the upstream's).
const upstream = args.upstreamAddress === '::1' ? await startUpstreamGateway6(work) : gateway;
const authority = await startAuthority(work, [
  { name: 'gw', address: args.upstreamAddress, port: upstream.dnsPort },
]);
const targets = { gateway: [gateway], authority: [authority], both: [gateway, authority] }[
  args.app
];
stopOnSignal(async () => {
  await authority.stop();
  await upstream.stop();
  await gateway.stop();
  work.remove();
});
const report = {
  command: process.argv.slice(1).join(' '),
  started: new Date().toISOString(),
  servers: [],
};
let pass = true;

try {
  for (const server of targets) {
    const entry = { app: server.name, chunks: [], sent: 0, failures: [] };
    report.servers.push(entry);
    const rssStart = server.memory();
    const started = Date.now();
    for (let i = 0; entry.sent < args.packets && Date.now() < deadline; i++) {
      const packets = Math.min(args.chunk, args.packets - entry.sent);
      const r = await runFuzzCampaign(server, {
        packets,
        seed: args.seed + i * 2,
        zone: ZONE,
        udpRate: args.rate,
        deadlineMs: Math.max(1000, deadline - Date.now()),
      });
      const sent = r.udp.sent + r.tcp.sent;
      entry.sent += sent;
      const problems = [
        ...(r.alive ? [] : ['process died']),
        ...r.udp.problemExamples,
        ...r.tcp.problemExamples,
        ...r.probes.failures,
        ...(r.finalUdp.ok ? [] : [`final UDP: ${r.finalUdp.detail}`]),
        ...(r.finalTcp.ok ? [] : [`final TCP: ${r.finalTcp.detail}`]),
      ];
      entry.chunks.push({
        seed: r.seed,
        sent,
        udpMs: r.udp.durationMs,
        tcpMs: r.tcp.durationMs,
        replies: r.udp.replies + r.tcp.replies,
        rssKb: r.memoryAfter?.rssKb,
        peakKb: r.memoryAfter?.peakKb,
        probes: r.probes,
        problems: problems.slice(0, 5),
      });
      if (problems.length > 0) {
        pass = false;
        entry.failures.push(...problems.slice(0, 5));
      }
      console.log(
        `${stamp()} ${server.name}: chunk ${i + 1} seed ${r.seed}: ${sent} packets (${entry.sent} total), ` +
          `UDP ${Math.round(r.udp.sent / (r.udp.durationMs / 1000))}/s TCP ${Math.round(r.tcp.sent / (r.tcp.durationMs / 1000))}/s, ` +
          `rss ${r.memoryAfter?.rssKb} KiB (peak ${r.memoryAfter?.peakKb}), probes ${r.probes.ok} ok / ${r.probes.failed} failed, ` +
          `${problems.length ? `PROBLEMS: ${problems.slice(0, 3).join(' | ')}` : 'ok'}`,
      );
      if (!r.alive) break;
      if (server === authority && !upstream.alive) {
        entry.failures.push('the gateway behind the authority died');
        pass = false;
        break;
      }
    }
    const seconds = (Date.now() - started) / 1000;
    entry.seconds = Math.round(seconds);
    entry.rate = Math.round(entry.sent / seconds);
    entry.rssKb = {
      start: rssStart?.rssKb,
      end: server.memory()?.rssKb,
      peak: server.memory()?.peakKb,
    };
    console.log(
      `${stamp()} ${server.name}: ${entry.sent} packets in ${entry.seconds} s (${entry.rate}/s), rss ${JSON.stringify(entry.rssKb)}`,
    );
  }
} finally {
  await authority.stop();
  await upstream.stop();
  await gateway.stop();
  work.remove();
}
report.pass = pass;
report.finished = new Date().toISOString();
if (args.report) writeFileSync(args.report, JSON.stringify(report, null, 2));
console.log(pass ? 'PASS' : 'FAIL');
process.exit(pass ? 0 : 1);
