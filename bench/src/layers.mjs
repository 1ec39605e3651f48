// The gateway's CPU per query split in layers (BENCHMARKS.md "Gateway on Bun: where the time
// goes"): Knot, the batched Bun echo, layers-server.mjs in its three modes and the gateway
// itself, each loaded by dnsperf in turn (order reversed every other round), CPU from
// /proc over each run. Bun only (the echo and the `hot` layer use Bun.udpSocket).
//   BENCH_NODE=<bun> node bench/src/layers.mjs [rounds=5] [seconds=3]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostOf, mixedQueries, writeLines, writeManifests, zoneFile } from './dataset.mjs';
import { dnsperfSync } from './dnsperf.mjs';
import { BENCH_RUNTIME, startGateway, startReference } from './ours.mjs';
import { startKnot } from './peers.mjs';
import { procStats, stopAll } from './proc.mjs';

const rounds = Number(process.argv[2] ?? 5);
const seconds = Number(process.argv[3] ?? 3);
if (!(rounds >= 1 && rounds <= 20) || !(seconds >= 1 && seconds <= 60)) {
  throw new Error(`layers.mjs: rounds 1..20 and seconds 1..60, got ${rounds} and ${seconds}`);
}
if (BENCH_RUNTIME.name !== 'bun') {
  throw new Error(`layers.mjs: BENCH_NODE must be Bun, got ${BENCH_RUNTIME.label}`);
}
const script = (name) => fileURLToPath(new URL(name, import.meta.url));
const NAMES = 2000;

const dir = mkdtempSync(join(tmpdir(), 'mdns-layers-'));
try {
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests);
  writeManifests(manifests, NAMES);
  const queryFile = writeLines(join(dir, 'queries.txt'), mixedQueries(NAMES));
  const servers = [await startKnot(join(dir, 'knot'), zoneFile(NAMES), 'knot')];
  servers.push(await startReference('bun-echo-batched', [script('echo-batched-bun.mjs')]));
  for (const mode of ['hot', 'server', 'observe']) {
    servers.push(await startReference(mode, [script('layers-server.mjs'), mode]));
  }
  servers.push(
    await startGateway(join(dir, 'gateway'), {
      source: { manifests },
      readyName: hostOf(NAMES - 1),
    }),
  );
  // One pass each first: every answer built and stored before anything is measured.
  for (const s of servers)
    dnsperfSync(s.port, queryFile, ['-n', '1', '-c', '1', '-q', '100'], seconds);
  const results = new Map(servers.map((s) => [s.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const s of r % 2 ? [...servers].reverse() : servers) {
      const before = procStats(s.proc.pid);
      const run = dnsperfSync(
        s.port,
        queryFile,
        ['-t', '2', '-l', String(seconds), '-c', '1', '-T', '1', '-q', '500'],
        seconds,
      );
      const after = procStats(s.proc.pid);
      const completed = Number(/Queries completed:\s+(\d+)/.exec(run.stdout)?.[1]);
      const qps = Number(/Queries per second:\s+([\d.]+)/.exec(run.stdout)?.[1]);
      const cpu = after.cpuSeconds - before.cpuSeconds;
      results.get(s.name).push({ qps, cpuPer100k: (cpu / completed) * 1e5 });
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`| layer | qps | CPU s/100k | range |\n| --- | ---: | ---: | --- |`);
  for (const [name, runs] of results) {
    const cpu = runs.map((x) => x.cpuPer100k);
    console.log(
      `| ${name} | ${Math.round(median(runs.map((x) => x.qps)))} | ${median(cpu).toFixed(2)} | ${Math.min(...cpu).toFixed(2)}–${Math.max(...cpu).toFixed(2)} |`,
    );
  }
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
