// `pnpm bench` entry: every scenario, ours and the peer in the same run, then BENCHMARKS.md.
//   node src/run.mjs [--quick] [--only gateway,authority-hits,...] [--no-write]
//   node src/run.mjs --report-from dist/results/full.json   (re-render BENCHMARKS.md only)
// Env: BENCH_SECONDS (dnsperf seconds per server and round, default 10), BENCH_ROUNDS
// (interleaved rounds, best kept, default 2), BENCH_WORKERS (default "1,2").
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mixedQueries, writeLines, writeManifests } from './dataset.mjs';
import { dnsperfVersion } from './dnsperf.mjs';
import { appsBuilt, BENCH_RUNTIME } from './ours.mjs';
import { peerVersions } from './peers.mjs';
import { killAllNow, stopAll } from './proc.mjs';
import { renderGenerated, spliceGenerated } from './report.mjs';
import { blackholeScenario } from './scenarios/blackhole.mjs';
import { changeScenario } from './scenarios/change.mjs';
import { farScenario } from './scenarios/far.mjs';
import { healthFailoverScenario, healthMemoryScenario } from './scenarios/health.mjs';
import { memoryScenario } from './scenarios/memory.mjs';
import { authorityReplicatedScenario, replicationScenario } from './scenarios/replication.mjs';
import {
  authorityHitsScenario,
  authorityMissesScenario,
  gatewayScenario,
} from './scenarios/throughput.mjs';

const SCENARIOS = {
  gateway: gatewayScenario,
  'authority-hits': authorityHitsScenario,
  'authority-misses': authorityMissesScenario,
  'authority-replicated': authorityReplicatedScenario,
  blackhole: blackholeScenario,
  far: farScenario,
  change: changeScenario,
  memory: memoryScenario,
  replication: replicationScenario,
  health: healthFailoverScenario,
  'memory-health': healthMemoryScenario,
};
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('../dist/results/', import.meta.url));

export function settingsFor(argv, env) {
  const quick = argv.includes('--quick');
  const onlyAt = argv.indexOf('--only');
  const only =
    onlyAt >= 0 ? (argv[onlyAt + 1] ?? '').split(',').filter(Boolean) : Object.keys(SCENARIOS);
  const unknown = only.filter((id) => !SCENARIOS[id]);
  if (unknown.length)
    throw new Error(
      `--only: unknown scenario ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`,
    );
  const seconds = Number(env.BENCH_SECONDS || (quick ? 2 : 10));
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 120) {
    throw new Error(`BENCH_SECONDS: expected 1..120, got "${env.BENCH_SECONDS}"`);
  }
  const workers = (env.BENCH_WORKERS || (quick ? '1' : '1,2')).split(',').map(Number);
  if (workers.some((w) => !Number.isInteger(w) || w < 1 || w > 8)) {
    throw new Error(
      `BENCH_WORKERS: expected a list of 1..8 such as "1,2", got "${env.BENCH_WORKERS}"`,
    );
  }
  // Read by dnsperf.mjs (LOAD.clients); checked here so a typo fails before anything starts.
  const clients = Number(env.BENCH_CLIENTS || 1);
  if (!Number.isInteger(clients) || clients < 1 || clients > 64) {
    throw new Error(`BENCH_CLIENTS: expected 1..64, got "${env.BENCH_CLIENTS}"`);
  }
  // Read by ours.mjs (startAuthority); checked here so a typo fails before anything starts.
  if (env.BENCH_UPSTREAM_SOCKETS !== undefined) {
    const sockets = Number(env.BENCH_UPSTREAM_SOCKETS);
    if (!Number.isInteger(sockets) || sockets < 0 || sockets > 1024) {
      throw new Error(
        `BENCH_UPSTREAM_SOCKETS: expected 0..1024, got "${env.BENCH_UPSTREAM_SOCKETS}"`,
      );
    }
  }
  const rounds = Number(env.BENCH_ROUNDS || (quick ? 1 : 2));
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 5) {
    throw new Error(`BENCH_ROUNDS: expected 1..5, got "${env.BENCH_ROUNDS}"`);
  }
  return {
    quick,
    only,
    rounds,
    write: !argv.includes('--no-write') && !quick,
    seconds,
    workers,
    clients,
    names: quick ? 2000 : 10_000,
    measure: { seconds, latencySeconds: quick ? 1 : 3, latencyQps: 10_000 },
    blackhole: quick
      ? { coldQueries: 100, coldQps: 100, warmQueries: 200, warmQps: 200 }
      : { coldQueries: 300, coldQps: 100, warmQueries: 2000, warmQps: 400 },
    far: quick ? { queries: 100, qps: 100 } : { queries: 300, qps: 100 },
    change: quick
      ? { samples: 5, debounces: [100], backgroundObjects: 100 }
      : { samples: 50, debounces: [250, 100], backgroundObjects: 1000 },
    // Issue 12's sizes whatever the mode: 3 gateways × 20k names.
    replication: quick
      ? { namesPerGateway: 20_000, axfrSamples: 3, changeSamples: 5, debounceMs: 100 }
      : { namesPerGateway: 20_000, axfrSamples: 10, changeSamples: 50, debounceMs: 100 },
    memory: { objectsPerKind: quick ? 2000 : 10_000, loadSeconds: quick ? 2 : 5 },
    health: quick
      ? { samples: 5, backgroundObjects: 100 }
      : { samples: 50, backgroundObjects: 1000 },
  };
}

function machine() {
  const version = (cmd) => peerVersions()[cmd];
  return {
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    kernel: release(),
    // The runtime our servers run on (BENCH_NODE: Node or Bun), which may differ from the
    // harness's; `node` is kept for older readers of the JSON.
    runtime: BENCH_RUNTIME.label,
    node: BENCH_RUNTIME.version,
    knotd: version('knotd'),
    dnsdist: version('dnsdist'),
    dnsperf: dnsperfVersion(),
    loadStart: loadavg()[0].toFixed(2),
  };
}

function writeReport(results, write) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const generated = renderGenerated(results);
  writeFileSync(join(RESULTS_DIR, `${results.mode}.json`), JSON.stringify(results, null, 2));
  writeFileSync(join(RESULTS_DIR, `${results.mode}.md`), `${generated}\n`);
  if (write) {
    const target = join(ROOT, 'BENCHMARKS.md');
    const existing = existsSync(target) ? readFileSync(target, 'utf8') : '# Benchmarks\n';
    writeFileSync(target, spliceGenerated(existing, generated));
    console.log(`wrote ${target}`);
  }
  return generated;
}

const USAGE = `usage: node src/run.mjs [--quick] [--only ${Object.keys(SCENARIOS).join(',')}] [--no-write]
       node src/run.mjs --report-from dist/results/full.json
env: BENCH_NODE (runtime of our servers: a node or bun binary), BENCH_SECONDS, BENCH_ROUNDS,
     BENCH_WORKERS, BENCH_CLIENTS, BENCH_UPSTREAM_SOCKETS, BENCH_UPSTREAM_UDP_BACKEND (bench/README.md)`;

async function main() {
  const argv = process.argv.slice(2);
  // --help used to fall through to a full run (every scenario, ~30 min).
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const known = new Set(['--quick', '--only', '--no-write', '--report-from']);
  const unknownFlag = argv.find(
    (a, i) => a.startsWith('-') && !known.has(a) && argv[i - 1] !== '--only',
  );
  if (unknownFlag) throw new Error(`unknown option ${unknownFlag}\n${USAGE}`);
  const from = argv.indexOf('--report-from');
  if (from >= 0) {
    // Re-render BENCHMARKS.md from a saved run (after editing its hand-written part).
    writeReport(JSON.parse(readFileSync(argv[from + 1], 'utf8')), true);
    return;
  }
  const settings = settingsFor(argv, process.env);
  if (!appsBuilt()) {
    throw new Error(
      'apps/*/dist/main.js missing: run `pnpm build` (or `pnpm bench`, which builds first)',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'mdns-bench-'));
  const started = Date.now();
  const log = (line) => console.log(line);
  const manifestsDir = join(dir, 'manifests');
  mkdirSync(manifestsDir);
  writeManifests(manifestsDir, settings.names);
  const lines = mixedQueries(settings.names);
  const queryFile = writeLines(join(dir, 'queries.txt'), lines);
  const ctx = { ...settings, dir, log, manifestsDir, queryFile };
  const results = {
    mode: settings.quick ? 'quick' : 'full',
    machine: machine(),
    settings: {
      seconds: settings.seconds,
      rounds: settings.rounds,
      names: settings.names,
      queryLines: lines.length,
      workers: settings.workers,
    },
    scenarios: [],
  };
  try {
    for (const id of settings.only) {
      log(`scenario ${id} ...`);
      try {
        results.scenarios.push(await SCENARIOS[id](ctx));
      } catch (err) {
        // One broken scenario (an app not ready yet) must not hide the others' numbers.
        log(`  failed: ${err.stack ?? err}`);
        results.scenarios.push({ id, error: String(err.message ?? err) });
        await stopAll();
      }
    }
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
  results.machine.loadEnd = loadavg()[0].toFixed(2);
  results.finishedAt = new Date().toISOString();
  results.totalSeconds = (Date.now() - started) / 1000;
  log(writeReport(results, settings.write));
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // Whatever ends the runner, no server it started survives it.
  process.on('SIGINT', () => {
    killAllNow();
    process.exit(130);
  });
  process.on('SIGTERM', () => {
    killAllNow();
    process.exit(143);
  });
  process.on('exit', killAllNow);
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err.stack ?? String(err));
      killAllNow();
      process.exit(1);
    },
  );
}
