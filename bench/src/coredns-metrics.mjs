// What metrics.corednsCompatible costs: CPU seconds per 100k answered queries of our two
// servers with the switch off and on, at the same fixed dnsperf rate (equal work), rounds
// interleaved (off, on, off, on, ...) so load from elsewhere on the box hits both alike.
// Scenarios: the gateway answering from its index (manifests source) and the authority
// answering from its warm cache (the gateway as its one upstream) — the two hot paths,
// where a per-query cost shows most.
//
//   node bench/src/coredns-metrics.mjs       COREDNS_SECONDS (8), COREDNS_ROUNDS (3),
//                                            COREDNS_QPS (10000), COREDNS_NAMES (2000)
// Prints a Markdown table; BENCHMARKS.md quotes it by hand.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostOf, mixedQueries, writeLines, writeManifests } from './dataset.mjs';
import { atRate, onePass } from './dnsperf.mjs';
import { BENCH_NODE, startAuthority, startGateway } from './ours.mjs';
import { killAllNow, procTreeStats, stopAll, stopProcess } from './proc.mjs';

const intEnv = (name, def, min, max) => {
  const v = process.env[name] === undefined ? def : Number(process.env[name]);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new Error(`${name}=${process.env[name]}: expected an integer in ${min}..${max}`);
  }
  return v;
};
const SECONDS = intEnv('COREDNS_SECONDS', 8, 1, 60);
const ROUNDS = intEnv('COREDNS_ROUNDS', 3, 1, 10);
const QPS = intEnv('COREDNS_QPS', 10_000, 100, 200_000);
const NAMES = intEnv('COREDNS_NAMES', 2000, 10, 100_000);

const work = mkdtempSync(join(tmpdir(), 'mdns-bench-coredns-'));
process.on('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAllNow();
    process.exit(130);
  });
}

/** CPU s/100k answered for one run at the fixed rate. */
async function measure(server, queryFile) {
  const before = procTreeStats(server.proc.pid).cpuSeconds;
  const stats = await atRate(server.port, queryFile, SECONDS, QPS);
  const cpu = procTreeStats(server.proc.pid).cpuSeconds - before;
  return { cpuPer100k: (cpu / stats.completed) * 1e5, qps: stats.qps, lost: stats.lost };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function scenario(name, start, queryFile) {
  const servers = {
    off: await start('off', { corednsCompatible: false }),
    on: await start('on', { corednsCompatible: true }),
  };
  for (const s of Object.values(servers)) await onePass(s.port, queryFile); // warm
  const runs = { off: [], on: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const k of ['off', 'on']) runs[k].push(await measure(servers[k], queryFile));
  }
  for (const s of Object.values(servers)) await stopProcess(s.proc);
  const off = median(runs.off.map((x) => x.cpuPer100k));
  const on = median(runs.on.map((x) => x.cpuPer100k));
  return { name, off, on, runs };
}

try {
  const manifests = join(work, 'manifests');
  mkdirSync(manifests);
  writeManifests(manifests, NAMES);
  const queryFile = join(work, 'queries.txt');
  writeLines(queryFile, mixedQueries(NAMES));
  const results = [];

  results.push(
    await scenario(
      'gateway (index)',
      (label, metrics) =>
        startGateway(join(work, `gw-${label}`), {
          source: { manifests },
          readyName: hostOf(0),
          label: `gateway-${label}`,
          metrics,
        }),
      queryFile,
    ),
  );

  // One gateway serves as the upstream of both authorities (cache hits never reach it).
  const upstream = await startGateway(join(work, 'gw-upstream'), {
    source: { manifests },
    readyName: hostOf(0),
    label: 'gateway-upstream',
  });
  results.push(
    await scenario(
      'authority (cache hits)',
      (label, metrics) =>
        startAuthority(join(work, `auth-${label}`), {
          upstreams: [{ name: 'gw', port: upstream.port }],
          cache: { enabled: true },
          label: `authority-${label}`,
          metrics,
        }),
      queryFile,
    ),
  );

  console.log(
    `\n${new Date().toISOString()}, node ${BENCH_NODE === process.execPath ? process.version : BENCH_NODE}, ` +
      `${ROUNDS} interleaved rounds of ${SECONDS} s at ${QPS} qps, ${NAMES} names; median per switch\n`,
  );
  console.log('| server | CPU s/100k, off | CPU s/100k, on | cost | runs off / on |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const r of results) {
    const f = (xs) => xs.map((x) => x.cpuPer100k.toFixed(2)).join(' ');
    const cost = ((r.on / r.off - 1) * 100).toFixed(1);
    console.log(
      `| ${r.name} | ${r.off.toFixed(2)} | ${r.on.toFixed(2)} | ${cost}% | ${f(r.runs.off)} / ${f(r.runs.on)} |`,
    );
  }
} finally {
  await stopAll();
  rmSync(work, { recursive: true, force: true });
}
