// Syscalls per miss: the authority (cache off) and the node-fanout floor behind the same
// three Knot upstreams, each under `strace -c -f` for one fixed-rate dnsperf run. Counts, not
// times (strace slows the traced process). Issue 15; BENCHMARKS.md "Fan-out miss path".
//   node bench/src/miss-syscalls.mjs [RATE] [SECONDS]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mixedQueries, writeLines, ZONE } from './dataset.mjs';
import { queryOnce } from './dns-wire.mjs';
import { fixedRateArgs } from './dnsperf.mjs';
import { BENCH_NODE, startAuthority } from './ours.mjs';
import { startKnotGateways } from './peers.mjs';
import { freePort, startProcess, stopAll, waitFor } from './proc.mjs';

const [rate = '1500', seconds = '3'] = process.argv.slice(2);
const NAMES = 2000;
const FLOOR = fileURLToPath(new URL('./fanout-floor.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'miss-sys-'));

try {
  const upstreams = await startKnotGateways(dir, NAMES);
  const ours = await startAuthority(join(dir, 'ours'), { upstreams, cache: { enabled: false } });
  const floorPort = await freePort();
  const floorProc = startProcess('node-fanout', BENCH_NODE, [
    FLOOR,
    String(floorPort),
    ...upstreams.map((u) => u.port),
  ]);
  await waitFor(
    'node-fanout',
    async () => (await queryOnce(floorPort, ZONE, 'SOA', 500)) !== null,
    { proc: floorProc },
  );
  writeLines(join(dir, 'queries.txt'), mixedQueries(NAMES));
  for (const s of [
    { name: 'authority', pid: ours.proc.pid, port: ours.port },
    { name: 'node-fanout', pid: floorProc.pid, port: floorPort },
  ]) {
    const out = join(dir, `${s.name}.strace`);
    const tracer = spawn('strace', ['-c', '-f', '-o', out, '-p', String(s.pid)], {
      stdio: 'ignore',
    });
    await new Promise((r) => setTimeout(r, 500));
    const perf = execFileSync(
      'dnsperf',
      fixedRateArgs(s.port, join(dir, 'queries.txt'), seconds, rate),
      { encoding: 'utf8' },
    );
    tracer.kill('SIGINT');
    await new Promise((r) => tracer.on('exit', r));
    const done = Number(/Queries completed:\s+(\d+)/.exec(perf)?.[1] ?? 0);
    console.log(`== ${s.name}: ${done} queries`);
    for (const line of readFileSync(out, 'utf8').split('\n')) {
      const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$/.exec(line);
      if (m && Number(m[1]) / done >= 0.01)
        console.log(`${(Number(m[1]) / done).toFixed(2).padStart(7)} ${m[2]}`);
    }
  }
} finally {
  await stopAll();
}
