// GC of the miss path: the authority (cache off) behind three Knot upstreams under
// `node --trace-gc` (or NODE ARGS given), dnsperf as fast as it goes; prints the GC lines'
// summary per kind (count, total ms) and the queries. Issue 15.
//   node bench/src/miss-gc.mjs [SECONDS] [-- extra node args]
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { mixedQueries, writeLines, ZONE } from './dataset.mjs';
import { queryOnce } from './dns-wire.mjs';
import { fixedRateArgs } from './dnsperf.mjs';
import { AUTHORITY_MAIN, startAuthority } from './ours.mjs';
import { startKnotGateways } from './peers.mjs';
import { freePort, stopAll, waitFor } from './proc.mjs';

const args = process.argv.slice(2);
const dash = args.indexOf('--');
const seconds = (dash < 0 ? args : args.slice(0, dash))[0] ?? '5';
const extra = dash < 0 ? [] : args.slice(dash + 1);
const NAMES = 2000;
const execAsync = async (cmd, a) =>
  (await promisify(execFile)(cmd, a, { encoding: 'utf8' })).stdout;
const dir = mkdtempSync(join(tmpdir(), 'miss-gc-'));
let child = null;
try {
  const upstreams = await startKnotGateways(dir, NAMES);
  const ref = await startAuthority(join(dir, 'ref'), { upstreams, cache: { enabled: false } });
  const config = JSON.parse(readFileSync(ref.configPath, 'utf8'));
  config.listen.port = await freePort();
  const ops = await freePort();
  config.ops = { ...config.ops, metricsPort: ops, healthPort: ops, readyPort: ops };
  writeFileSync(join(dir, 'gc.yaml'), JSON.stringify(config));
  // V8 prints the trace through buffered stdio: to a file, read once the process has exited.
  const log = openSync(join(dir, 'gc.log'), 'w');
  const spawnedAt = performance.now();
  child = spawn(
    process.env.BENCH_NODE || process.execPath,
    [
      '--trace-gc',
      '--heapsnapshot-signal=SIGUSR2',
      ...extra,
      AUTHORITY_MAIN,
      '--config',
      join(dir, 'gc.yaml'),
    ],
    { stdio: ['ignore', log, log], cwd: dir },
  );
  const exited = new Promise((r) => child.on('exit', r));
  await waitFor(
    'gc authority',
    async () => (await queryOnce(config.listen.port, ZONE, 'SOA', 500)) !== null,
  );
  writeLines(join(dir, 'queries.txt'), mixedQueries(NAMES));
  const fromMs = performance.now() - spawnedAt;
  // MISS_GC_SNAPSHOTS=1: two heap snapshots (SIGUSR2) 1 s apart during the load, in DIR.
  if (process.env.MISS_GC_SNAPSHOTS) {
    setTimeout(() => child?.kill('SIGUSR2'), 1500);
    setTimeout(() => child?.kill('SIGUSR2'), 3500);
  }
  const perf = await execAsync(
    'dnsperf',
    fixedRateArgs(config.listen.port, join(dir, 'queries.txt'), seconds, 20000),
  );
  const toMs = performance.now() - spawnedAt;
  child.kill('SIGTERM');
  await exited;
  child = null;
  // Lines of the load only: `[pid:isolate]  1234 ms: Scavenge ...`, ms since the start.
  const text = readFileSync(join(dir, 'gc.log'), 'utf8')
    .split('\n')
    .filter((l) => {
      const at = Number(/\]\s+(\d+) ms:/.exec(l)?.[1] ?? -1);
      return at >= fromMs && at <= toMs;
    })
    .join('\n');
  const kinds = new Map();
  for (const m of text.matchAll(
    /(Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Compact)[^,]*?, ([\d.]+) \/ [\d.]+ ms/g,
  )) {
    const k = kinds.get(m[1]) ?? { n: 0, ms: 0 };
    k.n++;
    k.ms += Number(m[2]);
    kinds.set(m[1], k);
  }
  const done = Number(/Queries completed:\s+(\d+)/.exec(perf)?.[1] ?? 0);
  console.log(`dir ${dir}`);
  console.log(`${done} queries, ${(/Queries per second:\s+([\d.]+)/.exec(perf) ?? [])[1]} qps`);
  for (const [k, v] of kinds)
    console.log(
      `${k}: ${v.n} (${((v.n / done) * 1000).toFixed(2)} per 1k queries), ${v.ms.toFixed(1)} ms (${((v.ms * 1000) / done).toFixed(2)} us per query)`,
    );
  if (process.env.MISS_GC_DEBUG) console.log(text.slice(-2000));
  console.log(
    text
      .split('\n')
      .filter((l) => l.includes('Scavenge') || l.includes('Mark'))
      .slice(-3)
      .join('\n'),
  );
} finally {
  child?.kill('SIGTERM');
  await stopAll();
}
