#!/usr/bin/env node
// One client attacks, another asks legitimate questions: how are the neighbour's answers?
// (build first: pnpm --filter @mdns/reliability build)
//   node reliability/scripts/authority-floods.mjs --attack notify-spoofed|notify-valid|names
//     [--rate 10000] [--seconds 20] [--baseline-seconds 5] [--main PATH] [--cgroup-mb 256]
//     [--limit default|off] [--positive] [--report FILE]
// notify-spoofed: NOTIFYs from an address that is no upstream's (REFUSED); notify-valid: from
// the upstream's own address (127.0.0.1); names: a new random name per query (every one a
// cache miss) from one source. --main runs another authority bundle (e.g. a build of main, for
// "before" figures); --cgroup-mb runs the authority in a cgroup v1 memory limit (root only);
// --limit off sets rateLimit.missesPerSecond 0 (only for a build that has the key);
// --positive makes the names attack's names exist (a wildcard Ingress *.wild.<zone>), so the
// flood fills the cache with positive answers instead of negatives.
// Bounded by --seconds plus the baseline. Exit 0 when the neighbour never got a wrong answer,
// the authority stayed alive and (with --cgroup-mb) was never OOM-killed.
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import {
  cpuSeconds,
  fixtureObjects,
  KNOWN,
  sampleNeighbour,
  startAuthority,
  startFixtureGateway,
  summarizeNeighbour,
  workdir,
  ZONE,
} from '../dist/index.js';
import { parseArgs, stamp, stopOnSignal } from './args.mjs';

const args = parseArgs(process.argv.slice(2), {
  attack: 'notify-spoofed',
  rate: 10000,
  seconds: 20,
  baselineSeconds: 5,
  main: '',
  cgroupMb: 0,
  limit: 'default',
  positive: false,
  report: '',
});
const attacker = args.attack === 'notify-valid' ? '127.0.0.1' : '127.0.0.9';
const neighbour = '127.0.0.2';
if (!['notify-spoofed', 'notify-valid', 'names'].includes(args.attack))
  throw new Error(`--attack must be notify-spoofed, notify-valid or names, not ${args.attack}`);

let cgroup;
if (args.cgroupMb > 0) {
  cgroup = `/sys/fs/cgroup/memory/mdns-authority-floods-${process.pid}`;
  mkdirSync(cgroup);
  writeFileSync(`${cgroup}/memory.limit_in_bytes`, String(args.cgroupMb * 1024 * 1024));
}
const work = workdir();
const wildcard = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'wild', namespace: 'wild' },
  spec: { rules: [{ host: `*.wild.${ZONE}` }] },
  status: { loadBalancer: { ingress: [{ ip: '192.0.2.99' }] } },
};
const gateway = await startFixtureGateway(
  work,
  {},
  'gateway',
  args.positive ? [...fixtureObjects(), wildcard] : undefined,
);
const overrides = args.limit === 'off' ? { rateLimit: { missesPerSecond: 0 } } : {};
const authority = await startAuthority(
  work,
  [{ name: 'gw', port: gateway.dnsPort }],
  overrides,
  'authority',
  { main: args.main || undefined, cgroup },
);
const cleanup = async () => {
  await authority.stop();
  await gateway.stop();
  work.remove();
  if (cgroup) rmdirSync(cgroup);
};
stopOnSignal(cleanup);

const hits = [
  { name: KNOWN.web.name, type: 'A', addresses: KNOWN.web.a },
  { name: KNOWN.multi.name, type: 'A', addresses: KNOWN.multi.a },
];
const port = authority.dnsPort;
const report = { command: process.argv.slice(1).join(' '), args };
try {
  // Baseline: the neighbour alone.
  let cpu0 = cpuSeconds(authority.pid);
  const baseline = await sampleNeighbour({
    port,
    source: neighbour,
    zone: ZONE,
    hits,
    durationMs: args.baselineSeconds * 1000,
    tag: 'b',
  });
  report.baseline = {
    ...summarizeNeighbour(baseline),
    cpuPerSecond: round((cpuSeconds(authority.pid) - cpu0) / args.baselineSeconds),
  };
  console.log(`${stamp()} baseline ${JSON.stringify(report.baseline)}`);

  // The attack, with the neighbour asking throughout; RSS sampled every second.
  let peakRssKb = 0;
  const rssTimer = setInterval(() => {
    const m = authority.memory();
    if (m) peakRssKb = Math.max(peakRssKb, m.rssKb);
  }, 1000);
  cpu0 = cpuSeconds(authority.pid);
  const [attack, during] = await Promise.all([
    flood({
      attack: args.attack,
      zone: args.positive ? `wild.${ZONE}` : ZONE,
      port,
      source: attacker,
      rate: args.rate,
      seconds: args.seconds,
    }),
    sampleNeighbour({
      port,
      source: neighbour,
      zone: ZONE,
      hits,
      durationMs: args.seconds * 1000,
      tag: 'd',
    }),
  ]);
  clearInterval(rssTimer);
  const cpu = authority.alive ? round((cpuSeconds(authority.pid) - cpu0) / args.seconds) : null;
  report.attack = {
    sent: attack.sent,
    replies: attack.replies,
    truncated: attack.truncated,
    rcodes: attack.rcodes,
  };
  report.during = { ...summarizeNeighbour(during), cpuPerSecond: cpu };
  const mem = authority.memory();
  report.memory = {
    peakRssMb: Math.round(peakRssKb / 1024),
    vmHwmMb: mem ? Math.round(mem.peakKb / 1024) : null,
  };
  if (authority.alive) {
    const { body } = await authority.http('/metrics');
    const pick = (re) =>
      body
        .split('\n')
        .filter((l) => re.test(l))
        .join('; ');
    report.metrics = pick(
      /^mdns_authority_(cache_(entries|bytes|negative_bytes|evictions_total)|notify_total|notify_invalidations_total|ratelimited_total|answers_total)/,
    );
  }
  if (cgroup) {
    report.cgroup = {
      limitMb: args.cgroupMb,
      failcnt: Number(readFileSync(`${cgroup}/memory.failcnt`, 'utf8')),
      maxUsageMb: Math.round(
        Number(readFileSync(`${cgroup}/memory.max_usage_in_bytes`, 'utf8')) / 1048576,
      ),
    };
  }
  report.alive = authority.alive;
  console.log(`${stamp()} attack ${JSON.stringify(report.attack)}`);
  console.log(`${stamp()} during ${JSON.stringify(report.during)}`);
  console.log(
    `${stamp()} memory ${JSON.stringify(report.memory)} cgroup ${JSON.stringify(report.cgroup ?? null)} alive ${report.alive}`,
  );
  if (report.metrics) console.log(`${stamp()} metrics ${report.metrics}`);
} finally {
  await cleanup();
}
report.pass = report.alive && report.during.wrong === 0;
if (args.report) writeFileSync(args.report, JSON.stringify(report, null, 2));
console.log(report.pass ? 'PASS' : 'FAIL');
process.exit(report.pass ? 0 : 1);

function flood(workerData) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./flood-worker.mjs', import.meta.url), { workerData });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

function round(x) {
  return Math.round(x * 100) / 100;
}
