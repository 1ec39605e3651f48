// Health failover: an EndpointSlice write (cluster x's Service loses its ready endpoints)
// until the authority in front of both clusters answers only cluster y's address (watch
// event, health verdict, index update, NOTIFY after the debounce, authority cache
// invalidation, fresh fanout with policy `all`). And memory: the gateway watching 20k
// objects plus 20k EndpointSlices.
import { join } from 'node:path';
import {
  endpointSlice,
  hostOf,
  ingress,
  NAMESPACE,
  service,
  writeLines,
  ZONE,
} from '../dataset.mjs';
import { queryOnce } from '../dns-wire.mjs';
import { throughput } from '../dnsperf.mjs';
import { startAuthority, startGateway } from '../ours.mjs';
import { freePort, procStats, sleep, stopProcess } from '../proc.mjs';
import { startBenchStandin } from '../standin.mjs';
import { latencySummary } from '../stats.mjs';

const WEB = 1_000_000; // `svc-1000000`, answered as svc-1000000.bench.bench.test
const NAME = `svc-${WEB}.${NAMESPACE}.${ZONE}`;
const POLL_MS = 5;
const GIVE_UP_MS = 5000;
// As for change: the authority invalidates at most once per upstream per second.
const BETWEEN_SAMPLES_MS = 1000;
const WITH_SLICES = ['ingresses', 'services', 'endpointslices'];

/** Cluster x's or y's Service `svc-1000000`: the same name, its own address. */
function web(ip) {
  const s = service(WEB);
  s.status.loadBalancer.ingress = [{ ip }];
  return s;
}
const X = '10.201.0.1';
const Y = '10.202.0.1';

async function addressesAt(port) {
  const r = await queryOnce(port, NAME, 'A', 200);
  return (r?.addresses ?? []).slice().sort().join(',');
}

async function until(port, want, giveUpMs) {
  const t0 = performance.now();
  while (performance.now() - t0 < giveUpMs) {
    if ((await addressesAt(port)) === want) return performance.now() - t0;
    await sleep(POLL_MS);
  }
  return null;
}

export async function healthFailoverScenario(ctx) {
  const background = [];
  for (let i = 0; i < ctx.health.backgroundObjects; i++) {
    background.push(service(i), endpointSlice(`svc-${i}`));
  }
  const sx = await startBenchStandin(
    [...background, web(X), endpointSlice(`svc-${WEB}`, 2)],
    WITH_SLICES,
  );
  const sy = await startBenchStandin(
    [...background, web(Y), endpointSlice(`svc-${WEB}`, 2)],
    WITH_SLICES,
  );
  const procs = [];
  try {
    const ports = [await freePort(), await freePort()];
    const authority = await startAuthority(join(ctx.dir, 'health-authority'), {
      upstreams: [
        { name: 'x', port: ports[0] },
        { name: 'y', port: ports[1] },
      ],
      cache: {},
      policy: 'all',
    });
    procs.push(authority.proc);
    for (const [i, s] of [sx, sy].entries()) {
      const gw = await startGateway(join(ctx.dir, `health-gateway-${i}`), {
        port: ports[i],
        source: { kubeconfig: s.kubeconfigPath },
        readyName: NAME,
        notify: { targets: [{ address: '127.0.0.1', port: authority.port }] },
        health: { graceSeconds: 0 },
        label: `cluster-gateway-${'xy'[i]}`,
      });
      procs.push(gw.proc);
      await s.waitForWatch('endpointslices', { timeoutMs: 10_000 });
    }
    const both = [X, Y].sort().join(',');
    if ((await until(authority.port, both, 10_000)) === null) {
      throw new Error(`the authority never answered ${NAME} with both clusters`);
    }
    const times = [];
    let timedOut = 0;
    for (let k = 0; k < ctx.health.samples; k++) {
      // Both answered, and that answer cached: the change has to invalidate it.
      await addressesAt(authority.port);
      const t0 = performance.now();
      sx.apply(endpointSlice(`svc-${WEB}`, 0));
      const seen = await until(authority.port, Y, GIVE_UP_MS);
      if (seen === null) timedOut++;
      else times.push(performance.now() - t0);
      await sleep(BETWEEN_SAMPLES_MS);
      sx.apply(endpointSlice(`svc-${WEB}`, 2));
      if ((await until(authority.port, both, GIVE_UP_MS)) === null) timedOut++;
      await sleep(BETWEEN_SAMPLES_MS);
    }
    const v = latencySummary(times);
    ctx.log(`  health failover: p50 ${v.p50?.toFixed(0)} ms, p99 ${v.p99?.toFixed(0)} ms`);
    return {
      id: 'health',
      ...v,
      timedOut,
      samples: ctx.health.samples,
      pollMs: POLL_MS,
      graceSeconds: 0,
      targetP99Ms: 1000,
    };
  } finally {
    await Promise.all(procs.map((p) => stopProcess(p)));
    await sx.close();
    await sy.close();
  }
}

/** An Ingress sending to Service `app-i` (so its slice is one health follows). */
function ingressWithBackend(i) {
  const ing = ingress(i);
  ing.spec.rules[0].http = {
    paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: `app-${i}` } } }],
  };
  return ing;
}

export async function healthMemoryScenario(ctx) {
  const n = ctx.memory.objectsPerKind;
  const objects = [];
  for (let i = 0; i < n; i++) {
    objects.push(
      ingressWithBackend(i),
      service(i),
      endpointSlice(`app-${i}`),
      endpointSlice(`svc-${i}`),
    );
  }
  const standin = await startBenchStandin(objects, WITH_SLICES);
  let gateway;
  try {
    const t0 = performance.now();
    gateway = await startGateway(join(ctx.dir, 'gateway-memory-health'), {
      source: { kubeconfig: standin.kubeconfigPath },
      readyName: `svc-${n - 1}.${NAMESPACE}.${ZONE}`,
    });
    const syncMs = performance.now() - t0;
    await standin.waitForWatch('endpointslices', { timeoutMs: 60_000 });
    await sleep(2000);
    const idle = procStats(gateway.proc.pid);
    const names = [];
    for (let i = 0; i < n; i++) names.push(`${hostOf(i)} A`, `svc-${i}.${NAMESPACE}.${ZONE} A`);
    const file = writeLines(join(ctx.dir, 'memory-health-queries.txt'), names);
    const load = await throughput(gateway.port, file, ctx.memory.loadSeconds);
    const loaded = procStats(gateway.proc.pid);
    return {
      id: 'memory-health',
      objects: 2 * n,
      slices: 2 * n,
      source: 'kubernetes (stand-in, list + watch), health on',
      syncMs,
      rssIdleBytes: idle.rssBytes,
      rssLoadedBytes: loaded.rssBytes,
      hwmSyncedBytes: idle.hwmBytes,
      hwmBytes: loaded.hwmBytes,
      loadQps: load.qps,
      targetMb: 200,
    };
  } finally {
    if (gateway) await stopProcess(gateway.proc);
    await standin.close();
  }
}
