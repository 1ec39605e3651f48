// A/B of the fan-out miss path on a shared, noisy box: two builds of the authority and the
// node-fanout floor behind the same three Knot upstreams, dnsperf against each in turn,
// round after round (interleaved, so a burst of other load hits every row alike). CPU per
// completed query from /proc (utime + stime), median of the rounds. Cache off: every query
// is a miss. Issue 15; see BENCHMARKS.md "Fan-out miss path".
//   node bench/src/miss-ab.mjs BASE_MAIN [RATE] [SECONDS] [ROUNDS]
// BASE_MAIN: the other build's main.js, e.g. a copy of apps/fanout-authority/dist made on
// main (it must sit inside the repository so its imports resolve). RATE: dnsperf -Q
// (default 1500; 20000 = as fast as it goes); SECONDS per run (4); ROUNDS (3).
// Every process runs on BENCH_NODE (default: this Node), e.g. Bun's binary for the Bun rows.
// There the floor runs twice: node-fanout (node:dgram, as on Node) and bun-fanout
// (`fanout-floor.mjs --batch`: Bun.udpSocket, one sendMany per socket per turn).
// MISS_AB_BASE_UPSTREAM='{"udpBackend":"auto"}': the base's `upstream:` keys differ (JSON);
// MISS_AB_BASE_ENV='{"MIMALLOC_PURGE_DELAY":"1000"}': environment of the base process only.
// MISS_AB_CPU_PROF=DIR: both builds run under `node --cpu-prof --cpu-prof-dir=DIR/<name>`
// (the floor does not, unless MISS_AB_CPU_PROF_FLOOR=1: then node-fanout too, to compare
// the cost of the same `dgram.send` in both), for the breakdown of where the CPU goes.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mixedQueries, writeLines, ZONE } from './dataset.mjs';
import { queryOnce } from './dns-wire.mjs';
import { fixedRateArgs } from './dnsperf.mjs';
import { BENCH_NODE, startAuthority } from './ours.mjs';
import { startKnotGateways } from './peers.mjs';
import { freePort, startProcess, stopAll, waitFor } from './proc.mjs';

const [baseMain, rate = '1500', seconds = '4', rounds = '3'] = process.argv.slice(2);
if (!baseMain) throw new Error('usage: miss-ab.mjs BASE_MAIN [RATE] [SECONDS] [ROUNDS]');
const NAMES = 2000;
const FLOOR = fileURLToPath(new URL('./fanout-floor.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'miss-ab-'));

async function serve(name, port, proc) {
  await waitFor(name, async () => (await queryOnce(port, ZONE, 'SOA', 500)) !== null, { proc });
  return { name, pid: proc.pid, port };
}

/** CPU seconds of `pid` and its children so far. */
function cpuSeconds(pid) {
  let children = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
  } catch {
    // gone or no children: the process alone
  }
  let ticks = 0;
  for (const p of [String(pid), ...children.filter(Boolean)]) {
    const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return ticks / 100; // USER_HZ
}

try {
  const upstreams = await startKnotGateways(dir, NAMES);
  const profDir = process.env.MISS_AB_CPU_PROF;
  const profArgs = (name) =>
    profDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profDir, name)}`] : [];
  // MISS_AB_NEW_NODE_ARGS / MISS_AB_BASE_NODE_ARGS: V8 flags for one side (space-separated),
  // e.g. the same build twice with and without `--max-semi-space-size`.
  const argsOf = (name) => (process.env[name] ?? '').split(' ').filter(Boolean);
  const newArgs = [...profArgs('new'), ...argsOf('MISS_AB_NEW_NODE_ARGS')];
  const fresh = await startAuthority(join(dir, 'new'), {
    upstreams,
    cache: { enabled: false },
    jail: newArgs.length > 0 ? { nodeArgs: newArgs } : undefined,
  });
  // The base build gets the same config on other ports; MISS_AB_BASE_UPSTREAM (JSON) changes
  // its `upstream:` keys, e.g. '{"udpBackend":"auto"}' to compare one build's two clients.
  const config = JSON.parse(readFileSync(fresh.configPath, 'utf8'));
  if (process.env.MISS_AB_BASE_UPSTREAM) {
    config.upstream = { ...config.upstream, ...JSON.parse(process.env.MISS_AB_BASE_UPSTREAM) };
  }
  config.listen.port = await freePort();
  const ops = await freePort();
  config.ops = { ...config.ops, metricsPort: ops, healthPort: ops, readyPort: ops };
  writeFileSync(join(dir, 'base.yaml'), JSON.stringify(config));
  // MISS_AB_BASE_ENV (JSON): environment of the base process only, e.g. an allocator knob.
  const baseEnv = process.env.MISS_AB_BASE_ENV ? JSON.parse(process.env.MISS_AB_BASE_ENV) : {};
  const baseProc = startProcess(
    'base',
    BENCH_NODE,
    [
      ...profArgs('base'),
      ...argsOf('MISS_AB_BASE_NODE_ARGS'),
      baseMain,
      '--config',
      join(dir, 'base.yaml'),
    ],
    { env: baseEnv },
  );
  const floorPort = await freePort();
  const floorProc = startProcess('node-fanout', BENCH_NODE, [
    ...(process.env.MISS_AB_CPU_PROF_FLOOR === '1' ? profArgs('node-fanout') : []),
    FLOOR,
    String(floorPort),
    ...upstreams.map((u) => u.port),
  ]);
  const servers = [
    await serve('base', config.listen.port, baseProc),
    { name: 'new', pid: fresh.proc.pid, port: fresh.port },
    await serve('node-fanout', floorPort, floorProc),
  ];
  const onBun = spawnSync(BENCH_NODE, ['-e', 'console.log(typeof Bun)'], { encoding: 'utf8' });
  if (onBun.stdout.trim() === 'object') {
    const port = await freePort();
    const proc = startProcess('bun-fanout', BENCH_NODE, [
      FLOOR,
      '--batch',
      String(port),
      ...upstreams.map((u) => u.port),
    ]);
    servers.push(await serve('bun-fanout', port, proc));
  }
  writeLines(join(dir, 'queries.txt'), mixedQueries(NAMES));
  const perQuery = Object.fromEntries(servers.map((s) => [s.name, []]));
  for (let r = 0; r < Number(rounds); r++) {
    for (const s of servers) {
      const before = cpuSeconds(s.pid);
      const out = execFileSync(
        'dnsperf',
        fixedRateArgs(s.port, join(dir, 'queries.txt'), seconds, rate),
        { encoding: 'utf8' },
      );
      const used = cpuSeconds(s.pid) - before;
      const done = Number(/Queries completed:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const lost = Number(/Queries lost:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const qps = Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
      perQuery[s.name].push((used / done) * 1e5);
      console.log(
        `round ${r} ${s.name}: ${qps.toFixed(0)} qps, ${lost} lost, ${((used / done) * 1e5).toFixed(2)} CPU s/100k`,
      );
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const floor = median(perQuery['node-fanout']);
  const bunFloor = perQuery['bun-fanout'] ? median(perQuery['bun-fanout']) : 0;
  for (const s of servers) {
    const m = median(perQuery[s.name]);
    const all = perQuery[s.name].map((x) => x.toFixed(1)).join(', ');
    const vsBun = bunFloor > 0 ? `, ${(m / bunFloor).toFixed(2)}x bun-fanout` : '';
    console.log(
      `${s.name}: median ${m.toFixed(2)} CPU s/100k (${all}), ${(m / floor).toFixed(2)}x node-fanout${vsBun}`,
    );
  }
  console.log(`runtime: ${BENCH_NODE}`);
  console.log(`load average: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
} finally {
  await stopAll();
}
