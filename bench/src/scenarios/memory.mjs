// Memory: the gateway watching 20k objects (10k Ingress + 10k LoadBalancer Service)
// through the Kubernetes API stand-in — the production path (list + watch informers).
import { join } from 'node:path';
import { hostOf, ingress, NAMESPACE, service, writeLines, ZONE } from '../dataset.mjs';
import { throughput } from '../dnsperf.mjs';
import { startGateway } from '../ours.mjs';
import { procStats, sleep, stopProcess } from '../proc.mjs';
import { startBenchStandin } from '../standin.mjs';

export async function memoryScenario(ctx) {
  const n = ctx.memory.objectsPerKind;
  const objects = [];
  for (let i = 0; i < n; i++) objects.push(ingress(i), service(i));
  const standin = await startBenchStandin(objects);
  let gateway;
  try {
    const t0 = performance.now();
    gateway = await startGateway(join(ctx.dir, 'gateway-memory'), {
      source: { kubeconfig: standin.kubeconfigPath },
      // The last Service: Services and Ingresses are listed by separate informers.
      readyName: `svc-${n - 1}.${NAMESPACE}.${ZONE}`,
    });
    const syncMs = performance.now() - t0;
    await sleep(2000); // let the post-sync garbage go
    const idle = procStats(gateway.proc.pid);
    // Then every name once and again under load: stored answers fill (bounded at 100k).
    const names = [];
    for (let i = 0; i < n; i++) names.push(`${hostOf(i)} A`, `svc-${i}.${NAMESPACE}.${ZONE} A`);
    const file = writeLines(join(ctx.dir, 'memory-queries.txt'), names);
    const load = await throughput(gateway.port, file, ctx.memory.loadSeconds);
    const loaded = procStats(gateway.proc.pid);
    return {
      id: 'memory',
      objects: 2 * n,
      source: 'kubernetes (stand-in, list + watch)',
      syncMs,
      rssIdleBytes: idle.rssBytes,
      rssLoadedBytes: loaded.rssBytes,
      // The peak so far when synced (the initial list) and at the end (list or load).
      hwmSyncedBytes: idle.hwmBytes,
      hwmBytes: loaded.hwmBytes,
      loadQps: load.qps,
      targetMb: 150,
    };
  } finally {
    if (gateway) await stopProcess(gateway.proc);
    await standin.close();
  }
}
