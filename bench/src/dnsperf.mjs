// dnsperf runs: a throughput run (as fast as the server answers, bounded by -l) and a
// latency run (-v at a fixed -Q rate, so percentiles compare servers at equal load).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDnsperfStats, parseDnsperfVerbose } from './stats.mjs';

// One dnsperf thread and socket with 500 queries in flight: on 2 cores it gave the highest
// qps against Knot (more threads or clients only take CPU from the server under test).
// BENCH_CLIENTS (validated in run.mjs) raises -c: with SO_REUSEPORT workers the kernel
// spreads clients by source port, so one dnsperf socket would only ever reach one worker.
export const LOAD = {
  clients: Number(process.env.BENCH_CLIENTS || 1),
  threads: 1,
  outstanding: 500,
};

/**
 * `cpus`: a taskset list the load generator is pinned to (latency runs with a pinned server).
 * `toFile`: dnsperf's stdout goes to that file, not a pipe. With `-v` it prints a line per
 * query (MB/s at tens of thousands of qps): into a 64 KiB pipe that this process reads only
 * when it gets the CPU, dnsperf's writes block and the queries it has in flight look slow.
 */
function run(args, limitSeconds, { cpus, toFile } = {}) {
  return new Promise((resolve, reject) => {
    const outFd = toFile ? openSync(toFile, 'w') : null;
    const stdio = ['ignore', outFd ?? 'pipe', 'pipe'];
    const child = cpus
      ? spawn('taskset', ['-c', cpus, 'dnsperf', ...args], { stdio })
      : spawn('dnsperf', args, { stdio });
    if (outFd !== null) closeSync(outFd); // the child holds its own copy
    const chunks = [];
    let err = '';
    child.stdout?.on('data', (c) => chunks.push(c));
    child.stderr.on('data', (c) => {
      err = (err + c).slice(-4096);
    });
    // dnsperf stops itself after -l plus its -t timeout; this is the backstop.
    const timer = setTimeout(() => child.kill('SIGKILL'), (limitSeconds + 20) * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`dnsperf could not start: ${e.message} (apt-get install dnsperf)`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      const out = toFile ? readFileSync(toFile, 'utf8') : Buffer.concat(chunks).toString();
      if (code !== 0)
        reject(new Error(`dnsperf ${args.join(' ')} exited ${code}: ${err || out.slice(-2000)}`));
      else resolve(out);
    });
  });
}

function baseArgs(port, queryFile) {
  return ['-s', '127.0.0.1', '-p', String(port), '-d', queryFile, '-t', '2'];
}

/** As many queries per second as the server answers, for `seconds`. */
export async function throughput(port, queryFile, seconds) {
  const args = [
    ...baseArgs(port, queryFile),
    '-l',
    String(seconds),
    '-c',
    String(LOAD.clients),
    '-T',
    String(LOAD.threads),
    '-q',
    String(LOAD.outstanding),
  ];
  return parseDnsperfStats(await run(args, seconds));
}

/** dnsperf at a fixed rate `qps` for `seconds`, one client thread (also the miss probes' load). */
export function fixedRateArgs(port, queryFile, seconds, qps) {
  return [
    ...baseArgs(port, queryFile),
    '-l',
    String(seconds),
    '-Q',
    String(qps),
    '-c',
    '1',
    '-T',
    '1',
  ];
}

/** Per-query latencies (ms) at a fixed rate. */
export async function latencyAtRate(port, queryFile, seconds, qps, cpus) {
  const dir = mkdtempSync(join(tmpdir(), 'mdns-dnsperf-'));
  const args = [...fixedRateArgs(port, queryFile, seconds, qps), '-v'];
  const out = await run(args, seconds, { cpus, toFile: join(dir, 'verbose.txt') }).finally(() =>
    rmSync(dir, { recursive: true, force: true }),
  );
  return { stats: parseDnsperfStats(out), latencies: parseDnsperfVerbose(out) };
}

/** A fixed rate for `seconds` (equal work for every server compared), statistics only. */
export async function atRate(port, queryFile, seconds, qps) {
  const args = [...fixedRateArgs(port, queryFile, seconds, qps), '-q', String(LOAD.outstanding)];
  return parseDnsperfStats(await run(args, seconds));
}

/** One pass over the query file (cache warm-up). */
export async function onePass(port, queryFile) {
  const args = [...baseArgs(port, queryFile), '-n', '1', '-c', '1', '-T', '1', '-q', '50'];
  return parseDnsperfStats(await run(args, 60));
}

export function dnsperfVersion() {
  const r = spawnSync('dnsperf', ['-h'], { encoding: 'utf8' });
  return /Version ([\d.]+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown';
}

/** One dnsperf run against 127.0.0.1:`port`, waited for (bounded: `seconds` + 30 s). */
export function dnsperfSync(port, queryFile, args, seconds) {
  return spawnSync('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', queryFile, ...args], {
    encoding: 'utf8',
    timeout: (seconds + 30) * 1000,
  });
}
