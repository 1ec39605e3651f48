#!/usr/bin/env node
// Kubernetes API down for minutes, then back (build first: pnpm --filter @mdns/reliability build).
//   node reliability/scripts/api-outage.mjs --minutes 3 [--rounds 1] [--report FILE]
// A gateway reads the kube stand-in; the API goes down for --minutes; every second the
// last good answer, /ready and the staleness metric are checked; an object changed during
// the outage must be answered within 5 s of the API returning. Exit 0 on pass.
import { writeFileSync } from 'node:fs';
import { startStandin } from '@mdns/kube-standin';
import {
  fixtureObjects,
  ingress,
  runApiOutage,
  startKubeGateway,
  WEB_A,
  workdir,
  ZONE,
} from '../dist/index.js';
import { parseArgs, stamp, stopOnSignal } from './args.mjs';

const args = parseArgs(process.argv.slice(2), { minutes: 3, rounds: 1, report: '' });
const work = workdir();
const standin = await startStandin({ objects: fixtureObjects() });
const gateway = await startKubeGateway(work, standin);
stopOnSignal(async () => {
  await gateway.stop();
  await standin.close();
  work.remove();
});
const results = [];
let pass = true;
try {
  for (let round = 0; round < args.rounds; round++) {
    const host = `outage${round}.${ZONE}`;
    const ip = `192.0.2.${100 + round}`;
    const r = await runApiOutage(standin, gateway, {
      outageMs: args.minutes * 60_000,
      lastGood: WEB_A,
      change: {
        object: ingress('web', `outage${round}`, host, ip),
        expect: { name: host, type: 'A', addresses: [ip] },
      },
      recoveryTimeoutMs: 120_000,
      log: (line) => console.log(`${stamp()} ${line}`),
    });
    const ok =
      r.wrong.length === 0 && r.notReady === 0 && r.recoveryMs !== null && r.recoveryMs < 5000;
    pass &&= ok;
    results.push({ ...r, wrong: r.wrong.slice(0, 5), ok });
    console.log(
      `${stamp()} round ${round + 1}: ${r.checks} checks during ${args.minutes} min down, ${r.wrong.length} wrong, ` +
        `${r.notReady} not ready, staleness up to ${r.maxStalenessSeconds} s, recovery ${r.recoveryMs} ms -> ${ok ? 'ok' : 'FAIL'}`,
    );
  }
} finally {
  await gateway.stop();
  await standin.close();
  work.remove();
}
if (args.report) {
  writeFileSync(
    args.report,
    JSON.stringify({ command: process.argv.slice(1).join(' '), results, pass }, null, 2),
  );
}
console.log(pass ? 'PASS' : 'FAIL');
process.exit(pass ? 0 : 1);
