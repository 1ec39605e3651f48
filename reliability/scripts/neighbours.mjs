#!/usr/bin/env node
// One client against the others: connection hog, non-readers, UDP flood from one /24
// (build first: pnpm --filter @mdns/reliability build).
//   node reliability/scripts/neighbours.mjs [--idle-ms 2500] [--rrl 20] [--hog 1000]
//     [--non-readers 20] [--queries-each 1000] [--flood-rate 5000] [--flood-seconds 5] [--report FILE]
// --rrl 0 leaves the rrl key out of the config (an older build rejects it). With
// RELIABILITY_APPS_DIR=/other/checkout/apps the same attacks run against that build.
// Bounded: each attack has a fixed duration. Exit 0 when the gateway stayed up.
import { writeFileSync } from 'node:fs';
import {
  bigTxtEndpoint,
  fixtureObjects,
  gatewayConfig,
  runConnectionHog,
  runNonReaders,
  runUdpFlood,
  startServer,
  WEB_A,
  waitReady,
  workdir,
  writeConfig,
  writeManifests,
  ZONE,
} from '../dist/index.js';
import { parseArgs, stamp, stopOnSignal } from './args.mjs';

const args = parseArgs(process.argv.slice(2), {
  idleMs: 2500,
  rrl: 20,
  hog: 1000,
  nonReaders: 20,
  queriesEach: 1000,
  floodRate: 5000,
  floodSeconds: 5,
  report: '',
});
const big = `big.${ZONE}`;
const work = workdir();
const manifests = writeManifests(work.path, [...fixtureObjects(), bigTxtEndpoint(big)]);
const config = gatewayConfig(
  { manifests },
  {
    listen: { host: '127.0.0.1', port: 0, tcpIdleTimeoutMs: args.idleMs },
    ...(args.rrl > 0 ? { rrl: { responsesPerSecond: args.rrl } } : {}),
  },
);
const start = async () => {
  const s = await startServer('cluster-gateway', writeConfig(work.path, 'gw.yaml', config));
  await waitReady(s);
  return s;
};
let gateway = await start();
stopOnSignal(async () => {
  await gateway.stop();
  work.remove();
});
const report = {
  command: process.argv.slice(1).join(' '),
  apps: process.env.RELIABILITY_APPS_DIR ?? 'this checkout',
  results: [],
};
try {
  // A fresh gateway per attack, so one attack's leftovers do not count against the next.
  const attacks = [
    () => runConnectionHog(gateway, WEB_A, { connections: args.hog, holdMs: args.idleMs / 2 }),
    () =>
      runNonReaders(gateway, big, WEB_A, {
        connections: args.nonReaders,
        queriesEach: args.queriesEach,
        waitMs: 4 * args.idleMs,
      }),
    () => runUdpFlood(gateway, WEB_A, { rate: args.floodRate, seconds: args.floodSeconds }),
  ];
  for (const [i, attack] of attacks.entries()) {
    if (i > 0) {
      await gateway.stop();
      gateway = await start();
    }
    const r = await attack();
    report.results.push(r);
    console.log(`${stamp()} ${JSON.stringify(r)}`);
  }
} finally {
  await gateway.stop();
  work.remove();
}
report.pass = report.results.every((r) => r.alive);
if (args.report) writeFileSync(args.report, JSON.stringify(report, null, 2));
console.log(report.pass ? 'PASS' : 'FAIL');
process.exit(report.pass ? 0 : 1);
