// Which receive buffer drops when the authority's upstream client bursts (issue 15): the
// authority (cache off, `BENCH_UPSTREAM_UDP_BACKEND`, e.g. `auto` for the batched Bun client)
// behind three Knot upstreams, dnsperf as fast as it goes, RUNS times (a fresh authority
// each run). Per run: the `drops` column of /proc/net/udp{,6} for every socket of the Knots
// and of the authority (its listener and its upstream client sockets), the upstream
// timeouts and circuit openings from /metrics, and dnsperf's response codes.
//   BENCH_NODE=…/bun BENCH_UPSTREAM_UDP_BACKEND=auto node bench/src/miss-drops.mjs [RUNS] [SECONDS]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mixedQueries, writeLines } from './dataset.mjs';
import { fixedRateArgs } from './dnsperf.mjs';
import { startAuthority } from './ours.mjs';
import { startKnotGateways } from './peers.mjs';
import { stopAll, stopProcess } from './proc.mjs';

const [runs = '10', seconds = '5'] = process.argv.slice(2);
const NAMES = 2000;
const dir = mkdtempSync(join(tmpdir(), 'miss-drops-'));

/** socket inode -> drops, for every UDP socket on the box. */
function udpDrops() {
  const drops = new Map();
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const f = line.trim().split(/\s+/);
      drops.set(f[9], Number(f[12]));
    }
  }
  return drops;
}

/** The socket inodes `pid` holds. */
function socketsOf(pid) {
  const out = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.push(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** Sum of `metric{...}` samples whose line contains every string of `having`. */
function metricSum(text, metric, ...having) {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric)) continue;
    if (having.every((h) => line.includes(h))) sum += Number(line.split(' ').pop());
  }
  return sum;
}

try {
  const knots = await startKnotGateways(dir, NAMES);
  writeLines(join(dir, 'queries.txt'), mixedQueries(NAMES));
  for (let r = 0; r < Number(runs); r++) {
    const auth = await startAuthority(join(dir, `run${r}`), {
      upstreams: knots,
      cache: { enabled: false },
    });
    // Sockets of the knots and of the authority; the client sockets rotate, so read the
    // inodes again at the end (a socket closed during the run loses its count: rotation is
    // rare here, 64 sockets x 2000 queries).
    const before = udpDrops();
    const perf = execFileSync(
      'dnsperf',
      fixedRateArgs(auth.port, join(dir, 'queries.txt'), seconds, 20000),
      { encoding: 'utf8' },
    );
    const after = udpDrops();
    const delta = (inode) => (after.get(inode) ?? 0) - (before.get(inode) ?? 0);
    const knotDrops = knots.map((k) => socketsOf(k.proc.pid).reduce((s, i) => s + delta(i), 0));
    const authInodes = socketsOf(auth.proc.pid);
    const authDrops = authInodes.reduce((s, i) => s + delta(i), 0);
    const authDropping = authInodes.filter((i) => delta(i) > 0).length;
    const metrics = await (await fetch(`http://127.0.0.1:${auth.metricsPort}/metrics`)).text();
    const timeouts = metricSum(metrics, 'mdns_authority_upstream_failures_total', 'kind="timeout"');
    const healthyNow = metricSum(metrics, 'mdns_authority_upstream_healthy');
    const qps = Number(/Queries per second:\s+([\d.]+)/.exec(perf)?.[1] ?? 0);
    const lost = Number(/Queries lost:\s+(\d+)/.exec(perf)?.[1] ?? 0);
    const codes = /Response codes:\s+(.*)/.exec(perf)?.[1] ?? '?';
    console.log(
      `run ${r}: ${qps.toFixed(0)} qps, lost ${lost}, timeouts ${timeouts}, healthy at end ${healthyNow}/3; ` +
        `drops knot ${knotDrops.join('/')}, authority ${authDrops} on ${authDropping} of ${authInodes.length} sockets; ${codes}`,
    );
    await stopProcess(auth.proc);
  }
  console.log(`load average: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
} finally {
  await stopAll();
}
