#!/usr/bin/env node
// Overload at 2x measured capacity, then a slowloris (build first: pnpm --filter @mdns/reliability build).
//   node reliability/scripts/overload.mjs --seconds 60 [--factor 2] [--app gateway|authority|both]
//     [--idle 1800] [--trickle 200] [--hold-seconds 15] [--report FILE]
// Bounded by --seconds per server plus fixed measurement phases. Exit 0 when every server
// stayed up, kept RSS under --rss-limit-mb and answered correctly afterwards.
import { writeFileSync } from 'node:fs';
import {
  runOverload,
  runSlowloris,
  startAuthority,
  startFixtureGateway,
  workdir,
} from '../dist/index.js';
import { parseArgs, stamp, stopOnSignal } from './args.mjs';

const args = parseArgs(process.argv.slice(2), {
  seconds: 60,
  factor: 2,
  app: 'both',
  idle: 1800,
  trickle: 200,
  holdSeconds: 15,
  rssLimitMb: 400,
  report: '',
});
const work = workdir();
const gateway = await startFixtureGateway(work);
const authority = await startAuthority(work, [{ name: 'gw', port: gateway.dnsPort }]);
const targets = { gateway: [gateway], authority: [authority], both: [gateway, authority] }[
  args.app
];
stopOnSignal(async () => {
  await authority.stop();
  await gateway.stop();
  work.remove();
});
const report = { command: process.argv.slice(1).join(' '), overload: [], slowloris: [] };
let pass = true;
try {
  for (const server of targets) {
    const r = await runOverload(server, {
      seconds: args.seconds,
      factor: args.factor,
      log: (line) => console.log(`${stamp()} ${line}`),
    });
    const ok =
      r.alive && r.afterProbeFailures.length === 0 && r.rssKb.peak < args.rssLimitMb * 1024;
    pass &&= ok;
    report.overload.push({ ...r, ok });
    console.log(
      `${stamp()} ${r.app}: capacity ${r.capacityQps}/s, offered ${r.offeredQps}/s for ${args.seconds} s, ` +
        `answered ${r.load.answered}/${r.load.sent}, rss ${JSON.stringify(r.rssKb)}, capacity after ${r.capacityAfterQps}/s, ` +
        `probes after: ${r.afterProbeFailures.length} failed -> ${ok ? 'ok' : 'FAIL'}`,
    );
  }
  for (const server of targets) {
    const r = await runSlowloris(server, {
      idle: args.idle,
      trickle: args.trickle,
      waitMs: args.holdSeconds * 1000,
    });
    const ok = r.alive && r.udpDuring === '' && r.tcpAfter === '';
    pass &&= ok;
    report.slowloris.push({ ...r, ok });
    console.log(`${stamp()} slowloris ${JSON.stringify(r)} -> ${ok ? 'ok' : 'FAIL'}`);
  }
} finally {
  await authority.stop();
  await gateway.stop();
  work.remove();
}
report.pass = pass;
if (args.report) writeFileSync(args.report, JSON.stringify(report, null, 2));
console.log(pass ? 'PASS' : 'FAIL');
process.exit(pass ? 0 : 1);
