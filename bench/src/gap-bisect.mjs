// Issue 15 bisection: CPU per query of several servers at one fixed dnsperf rate (the same
// work for each), rounds interleaved (order reversed every other round), user and system
// CPU from /proc, medians. Variants (argv after the options):
//   knot | echo | layer:MODE[:ballast=N] | app[:main=BUNDLE][:env=K=V,K=V]
//   BENCH_NODE=<bun> node bench/src/gap-bisect.mjs [--names N] [--rate Q] [--seconds S]
//     [--rounds R] VARIANT...
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostOf, mixedQueries, writeLines, writeManifests, zoneFile } from './dataset.mjs';
import { dnsperfSync } from './dnsperf.mjs';
import { startGateway, startReference } from './ours.mjs';
import { startKnot } from './peers.mjs';
import { stopAll } from './proc.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  args.splice(i, 2);
  return v;
};
const NAMES = opt('names', 10000);
const RATE = opt('rate', 30000);
const SECONDS = opt('seconds', 4);
const ROUNDS = opt('rounds', 5);
const variants = args;
const script = (name) => fileURLToPath(new URL(name, import.meta.url));

function cpuOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Per thread (by name): the JS thread against GC and runtime helper threads.
  const threads = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const t = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = tid === String(pid) ? 'main' : t.slice(t.indexOf('(') + 1, t.lastIndexOf(')'));
      const tf = t.slice(t.lastIndexOf(')') + 2).split(' ');
      threads[comm] = (threads[comm] ?? 0) + (Number(tf[11]) + Number(tf[12])) / 100;
    } catch {}
  }
  return { user: Number(f[11]) / 100, sys: Number(f[12]) / 100, minflt: Number(f[7]), threads };
}

const dir = mkdtempSync(join(tmpdir(), 'mdns-gap-'));
try {
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests);
  writeManifests(manifests, NAMES);
  const queryFile = writeLines(join(dir, 'queries.txt'), mixedQueries(NAMES));
  const servers = [];
  for (const [n, v] of variants.entries()) {
    const [kind, ...parts] = v.split(':');
    const o = Object.fromEntries(
      parts.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]),
    );
    const env = o.env ? Object.fromEntries(o.env.split(',').map((kv) => kv.split('='))) : {};
    if (kind === 'knot')
      servers.push({ ...(await startKnot(join(dir, `knot${n}`), zoneFile(NAMES), v)), name: v });
    else if (kind === 'echo')
      servers.push(await startReference(v, [script('echo-batched-bun.mjs')], env));
    else if (kind === 'layer')
      servers.push(
        await startReference(v, [script('layers-server.mjs'), parts[0]], {
          ...env,
          LAYERS_BALLAST: o.ballast ?? '0',
        }),
      );
    else if (kind === 'app') {
      const s = await startGateway(join(dir, `gw${n}`), {
        source: { manifests },
        readyName: hostOf(NAMES - 1),
        label: v,
        main: o.main,
        jail: { env },
      });
      servers.push({ ...s, name: v });
    } else throw new Error(`unknown variant ${v}`);
  }
  for (const s of servers)
    dnsperfSync(s.port, queryFile, ['-n', '1', '-c', '1', '-q', '100'], SECONDS);
  const results = new Map(servers.map((s) => [s.name, []]));
  const loads = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of r % 2 ? [...servers].reverse() : servers) {
      const before = cpuOf(s.proc.pid);
      // --rate 0: full speed (dnsperf keeps 500 queries in flight), as layers.mjs and the bench.
      const rate = RATE > 0 ? ['-Q', String(RATE)] : [];
      const run = dnsperfSync(
        s.port,
        queryFile,
        ['-l', String(SECONDS), ...rate, '-c', '1', '-T', '1', '-q', '500'],
        SECONDS,
      );
      const after = cpuOf(s.proc.pid);
      const completed = Number(/Queries completed:\s+(\d+)/.exec(run.stdout)?.[1]);
      const lost = Number(/Queries lost:\s+(\d+)/.exec(run.stdout)?.[1]);
      const qps = Number(/Queries per second:\s+([\d.]+)/.exec(run.stdout)?.[1]);
      const per = (x) => (x / completed) * 1e5;
      const other = {};
      for (const [comm, t] of Object.entries(after.threads)) {
        const d = per(t - (before.threads[comm] ?? 0));
        if (comm !== 'main' && d >= 0.005) other[comm] = d;
      }
      const faults = ((after.minflt - before.minflt) / completed) * 1000;
      results.get(s.name).push({
        user: per(after.user - before.user),
        sys: per(after.sys - before.sys),
        lost,
        qps,
        other,
        faults,
      });
      loads.push(loadavg()[0]);
    }
  }
  const threadSummary = (runs) => {
    const names = new Set(runs.flatMap((r) => Object.keys(r.other)));
    return [...names]
      .map((n) => `${n} ${median(runs.map((r) => r.other[n] ?? 0)).toFixed(3)}`)
      .join(', ');
  };
  const rssOf = (pid) => {
    const st = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)?.[1]) / 1024;
    return `${kb('VmRSS').toFixed(0)}/${kb('VmHWM').toFixed(0)}`;
  };
  const rss = new Map(servers.map((s) => [s.name, rssOf(s.proc.pid)]));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(
    `names ${NAMES}, ${RATE} qps x ${SECONDS} s, ${ROUNDS} rounds, load ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`,
  );
  console.log(
    '| server | CPU s/100k | range | user | sys | lost max | qps | faults/1k q | RSS/HWM MB | other threads |\n| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  );
  for (const [name, runs] of results) {
    const tot = runs.map((x) => x.user + x.sys);
    console.log(
      `| ${name} | ${median(tot).toFixed(3)} | ${Math.min(...tot).toFixed(2)}-${Math.max(...tot).toFixed(2)} | ${median(runs.map((x) => x.user)).toFixed(3)} | ${median(runs.map((x) => x.sys)).toFixed(3)} | ${Math.max(...runs.map((x) => x.lost))} | ${Math.round(median(runs.map((x) => x.qps)))} | ${median(runs.map((x) => x.faults)).toFixed(2)} | ${rss.get(name)} | ${threadSummary(runs)} |`,
    );
  }
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
