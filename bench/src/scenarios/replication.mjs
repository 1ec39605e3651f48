// Zone replication (issue 12): the authority as a secondary of every gateway (AXFR at start,
// NOTIFY + IXFR on change, TSIG-signed) answering from its copies instead of fanning out.
//   authority-replicated: the miss scenario's query mix with every upstream replicated,
//     beside the authority's own cache-hit row and dnsdist with its packet cache.
//   replication: 3 gateways × 20k names (Kubernetes stand-ins): AXFR time against Knot
//     serving the same zone, the authority's RSS holding the three copies, and
//     change → answer through NOTIFY + IXFR.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { hostOf, ingress, writeManifests, ZONE, zoneFile } from '../dataset.mjs';
import { compareServers } from '../measure.mjs';
import { startAuthority, startGateway } from '../ours.mjs';
import { startDnsdist, startKnot } from '../peers.mjs';
import { freePort, procTreeStats, sleep, stopProcess, waitFor } from '../proc.mjs';
import { startBenchStandin } from '../standin.mjs';
import {
  freshReplicas,
  latencySummary,
  metricValue,
  parseKdigTransfer,
  percentile,
} from '../stats.mjs';
import { changeToAnswer, POLL_MS } from './change.mjs';

const GATEWAYS = 3;
// A fixed test key (hmac-sha256, base64 of 32 bytes): loopback only, never a real secret.
const TSIG = { name: 'bench-xfr', secret: 'YmVuY2gtb25seS10c2lnLWtleS0zMi1ieXRlcy0hIQ==' };

/** Resolves once every one of `count` upstreams' copies is loaded and answering. */
export async function waitForReplicas(authority, count, timeoutMs = 60_000) {
  await waitFor(
    `${authority.name}: ${count} replicas fresh`,
    async () => {
      const res = await fetch(`http://127.0.0.1:${authority.metricsPort}/metrics`).catch(
        () => null,
      );
      return res?.ok && freshReplicas(await res.text()).length === count;
    },
    { proc: authority.proc, timeoutMs, everyMs: 100 },
  );
}

/** BENCH_DEBUG: the replica and upstream counters once the run is over (no query left?). */
function debugAtExit(ctx, authority) {
  const timer = setInterval(async () => {
    const text = await fetch(`http://127.0.0.1:${authority.metricsPort}/metrics`)
      .then((r) => r.text())
      .catch(() => null);
    if (text === null) return clearInterval(timer);
    ctx.log(
      text
        .split('\n')
        .filter(
          (l) =>
            /replica_answers|upstream_requests_total|answers_total/.test(l) && !l.startsWith('#'),
        )
        .join('\n'),
    );
  }, 5000);
  timer.unref();
}

/** The authority's V8 heap in use (prom-client's default series): garbage or live data? */
async function heapUsedBytes(authority) {
  const text = await fetch(`http://127.0.0.1:${authority.metricsPort}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  return metricValue(text, 'nodejs_heap_size_used_bytes');
}

/** Gateway k of 3 from a manifests directory holding name i where i % 3 === k. */
async function startManifestGateways(ctx, tag, { tsig }) {
  const gws = [];
  for (let k = 0; k < GATEWAYS; k++) {
    const dir = join(ctx.dir, `${tag}-gw${k}`);
    const manifests = join(dir, 'manifests');
    mkdirSync(manifests, { recursive: true });
    const keep = (i) => i % GATEWAYS === k;
    writeManifests(manifests, ctx.names, keep);
    let last = ctx.names - 1;
    while (!keep(last)) last--;
    const gw = await startGateway(dir, {
      source: { manifests },
      readyName: hostOf(last),
      label: `cluster-gateway-${k}`,
      tsig,
    });
    gws.push({ ...gw, name: `gw${k}` });
  }
  return gws;
}

export async function authorityReplicatedScenario(ctx) {
  const knot = await startKnot(join(ctx.dir, 'repl-knot'), zoneFile(ctx.names), 'knot-backend');
  let gws = [];
  try {
    // The same gateways serve both authorities: queries (the cache-hit row fills its cache
    // through them) and transfers (the replicated row).
    gws = await startManifestGateways(ctx, 'repl', { tsig: TSIG });
    const specs = [
      {
        start: () => startDnsdist(join(ctx.dir, 'repl-dnsdist'), knot.port, { cache: true }),
        warmPasses: 1,
      },
      {
        start: () =>
          startAuthority(join(ctx.dir, 'repl-authority-hits'), {
            upstreams: gws,
            cache: {},
            label: 'fanout-authority (cache hits)',
            jail: profiled('authority-hits'),
          }),
        warmPasses: 2,
      },
      {
        start: async () => {
          const a = await startAuthority(join(ctx.dir, 'repl-authority'), {
            upstreams: gws,
            // Nothing cached: every answer comes from the copies.
            cache: { enabled: false },
            label: 'fanout-authority (replicated)',
            tsig: TSIG,
            jail: profiled('authority-replicated'),
          });
          await waitForReplicas(a, GATEWAYS);
          if (process.env.BENCH_DEBUG) debugAtExit(ctx, a);
          return a;
        },
        // Warmed like the cache-hit row: the first query of a name per copy generation
        // merges the copies and stores the answer's bytes (later ones patch them), as the
        // cache-hit row's first query fills its cache. Without it a 2 s quick run measures
        // mostly those first merges and the JIT warming up.
        warmPasses: 2,
      },
      {
        // The deployed shape (cache on by default): copies answer the first query of a name,
        // the cache every later one until the next swap expires it.
        start: async () => {
          const a = await startAuthority(join(ctx.dir, 'repl-authority-cached'), {
            upstreams: gws,
            cache: {},
            label: 'fanout-authority (replicated, cache on)',
            tsig: TSIG,
            jail: profiled('authority-replicated-cached'),
          });
          await waitForReplicas(a, GATEWAYS);
          return a;
        },
        warmPasses: 2,
      },
    ];
    const rows = await compareServers(ctx, specs);
    return {
      id: 'authority-replicated',
      rows,
      peer: 'dnsdist-cache',
      targetRatio: 0.5,
      // Both targets of the issue, each a ratio of rows of this run.
      comparisons: [
        { server: 'fanout-authority (replicated)', peer: 'dnsdist-cache', targetRatio: 0.5 },
        {
          server: 'fanout-authority (replicated)',
          peer: 'fanout-authority (cache hits)',
          targetRatio: 1.0,
        },
      ],
    };
  } finally {
    await Promise.all([knot, ...gws].map((p) => stopProcess(p.proc)));
  }
}

// ---- 3 × 20k names: AXFR, memory, change → answer ----

const CHANGED = 1_000_000; // on gateway 0; its name is app-1000000
// The gateway's debounce coalesces changes closer than this into one serial: samples this
// far apart each measure one NOTIFY + IXFR.
const BETWEEN_SAMPLES_MS = 1000;
const sampleIp = (k) => `10.98.${(k >> 8) & 255}.${k & 255}`;

/**
 * BENCH_PROFILE_DIR: the servers of this scenario write V8 CPU profiles there
 * (`--cpu-prof`, on exit): where the time of a transfer goes.
 */
const profiled = (tag) =>
  process.env.BENCH_PROFILE_DIR
    ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${join(process.env.BENCH_PROFILE_DIR, tag)}`] }
    : undefined;

/** Name indexes of gateway k: [k·n, (k+1)·n), disjoint between gateways. */
const shareOf = (k, n) => (i) => i >= k * n && i < (k + 1) * n;

/** Wall-clock ms of one signed `kdig axfr`, the server's CPU ms for it, and what it received. */
async function timedAxfr(server) {
  const before = procTreeStats(server.proc.pid);
  const run = await kdigAxfr(server.port);
  const after = procTreeStats(server.proc.pid);
  return { ...run, cpuMs: (after.cpuSeconds - before.cpuSeconds) * 1000 };
}

function kdigAxfr(port) {
  return new Promise((resolve, reject) => {
    const args = [
      '@127.0.0.1',
      '-p',
      String(port),
      '-y',
      `hmac-sha256:${TSIG.name}:${TSIG.secret}`,
      'axfr',
      ZONE,
      '+noall',
      '+stats',
    ];
    const t0 = performance.now();
    const child = spawn('kdig', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.stderr.on('data', (c) => {
      out += c;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`kdig could not start: ${e.message} (apt-get install knot-dnsutils)`));
    });
    child.on('exit', () => {
      clearTimeout(timer);
      const ms = performance.now() - t0;
      const got = parseKdigTransfer(out);
      if (!got) reject(new Error(`kdig axfr from ${port}: no transfer\n${out.slice(-1000)}`));
      else resolve({ ms, ...got });
    });
  });
}

/** `samples` AXFRs of each server, interleaved (a burst of load hits both alike). */
async function axfrTimes(servers, samples) {
  const runs = servers.map(() => []);
  for (let s = 0; s < samples; s++) {
    for (let k = 0; k < servers.length; k++) runs[k].push(await timedAxfr(servers[k]));
  }
  return servers.map((server, k) => ({
    server: server.name,
    records: runs[k][0].records,
    messages: runs[k][0].messages,
    bytes: runs[k][0].bytes,
    p50: percentile(
      runs[k].map((r) => r.ms),
      50,
    ),
    max: Math.max(...runs[k].map((r) => r.ms)),
    // /proc ticks are 10 ms: the median of several transfers.
    cpuMs: percentile(
      runs[k].map((r) => r.cpuMs),
      50,
    ),
    samples,
  }));
}

export async function replicationScenario(ctx) {
  const { namesPerGateway: n, axfrSamples, changeSamples, debounceMs } = ctx.replication;
  const standins = [];
  const procs = [];
  try {
    for (let k = 0; k < GATEWAYS; k++) {
      const objects = [];
      for (let i = k * n; i < (k + 1) * n; i++) objects.push(ingress(i));
      if (k === 0) objects.push(ingress(CHANGED, sampleIp(0)));
      standins.push(await startBenchStandin(objects, ['ingresses']));
    }
    const authorityPort = await freePort();
    const gws = [];
    for (let k = 0; k < GATEWAYS; k++) {
      const gw = await startGateway(join(ctx.dir, `xfr-gw${k}`), {
        source: { kubeconfig: standins[k].kubeconfigPath },
        readyName: hostOf((k + 1) * n - 1),
        label: `cluster-gateway-${k}`,
        tsig: TSIG,
        jail: profiled(`gw${k}`),
        notify: {
          targets: [{ address: '127.0.0.1', port: authorityPort, key: TSIG.name }],
          debounceMs,
        },
      });
      procs.push(gw);
      gws.push({ ...gw, label: gw.name, name: `gw${k}` });
    }
    await standins[0].waitForWatch('ingresses', { timeoutMs: 10_000 });
    const knot = await startKnot(
      join(ctx.dir, 'xfr-knot'),
      zoneFile(n, shareOf(0, n)),
      'knot (same zone)',
      { tsig: TSIG },
    );
    procs.push(knot);
    const axfr = await axfrTimes([{ ...gws[0], name: gws[0].label }, knot], axfrSamples);
    for (const a of axfr)
      ctx.log(`  AXFR ${a.server}: ${a.records} records, p50 ${a.p50.toFixed(0)} ms`);

    const t0 = performance.now();
    const authority = await startAuthority(join(ctx.dir, 'xfr-authority'), {
      upstreams: gws,
      cache: {},
      tsig: TSIG,
      port: authorityPort,
      jail: profiled('authority'),
    });
    procs.push(authority);
    await waitForReplicas(authority, GATEWAYS);
    const loadedMs = performance.now() - t0;
    await sleep(2000); // let the transfers' garbage go
    const mem = procTreeStats(authority.proc.pid);
    const heapLoaded = await heapUsedBytes(authority);
    ctx.log(
      `  authority with ${GATEWAYS} × ${n} names: RSS ${(mem.rssBytes / 2 ** 20).toFixed(1)} MB`,
    );

    const times = [];
    // CPU ms each change cost gateway 0 and the authority (/proc, so the box's load does
    // not inflate it the way it inflates wall-clock latency): where the time goes.
    const cpu = { gateway: [], authority: [] };
    const cpuOf = () => [procTreeStats(gws[0].proc.pid), procTreeStats(authority.proc.pid)];
    let timedOut = 0;
    for (let k = 1; k <= changeSamples; k++) {
      const [gwBefore, auBefore] = cpuOf();
      if (process.env.BENCH_DEBUG) ctx.log(`  write ${k} at ${new Date().toISOString()}`);
      const ms = await changeToAnswer(standins[0], authority.port, CHANGED, sampleIp(k));
      if (ms === null) timedOut++;
      else times.push(ms);
      await sleep(BETWEEN_SAMPLES_MS);
      const [gwAfter, auAfter] = cpuOf();
      cpu.gateway.push((gwAfter.cpuSeconds - gwBefore.cpuSeconds) * 1000);
      cpu.authority.push((auAfter.cpuSeconds - auBefore.cpuSeconds) * 1000);
    }
    const change = {
      debounceMs,
      ...latencySummary(times),
      timedOut,
      samples: changeSamples,
      // Includes the idle second between samples (timers, probes: a few ms).
      cpuMsGateway: percentile(cpu.gateway, 50),
      cpuMsAuthority: percentile(cpu.authority, 50),
    };
    ctx.log(
      `  change → answer (NOTIFY + IXFR): p50 ${change.p50?.toFixed(0)} ms, p99 ${change.p99?.toFixed(0)} ms`,
    );
    const end = procTreeStats(authority.proc.pid);
    const heapEnd = await heapUsedBytes(authority);
    if (process.env.BENCH_DEBUG) {
      const text = await (await fetch(`http://127.0.0.1:${authority.metricsPort}/metrics`)).text();
      ctx.log(
        text
          .split('\n')
          .filter((l) => /replica|notify/.test(l) && !l.startsWith('#'))
          .join('\n'),
      );
      ctx.log(authority.proc.output.slice(-3000));
      ctx.log(gws[0].proc.output.slice(-3000));
    }
    return {
      id: 'replication',
      gateways: GATEWAYS,
      namesPerGateway: n,
      axfr,
      loadedMs,
      rssBytes: mem.rssBytes,
      rssEndBytes: end.rssBytes,
      hwmBytes: end.hwmBytes,
      heapUsedBytes: heapLoaded,
      heapUsedEndBytes: heapEnd,
      change,
      pollMs: POLL_MS,
      targets: { axfrMs: 1000, rssMb: 200, changeP99Ms: 300 },
    };
  } finally {
    await Promise.all(procs.map((p) => stopProcess(p.proc)));
    await Promise.all(standins.map((s) => s.close()));
  }
}
