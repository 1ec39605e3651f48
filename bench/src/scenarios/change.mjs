// change -> answer: an object written to the Kubernetes API stand-in until the new
// address is answered by the authority in front of the gateway (watch event, index
// update, NOTIFY after the gateway's debounce, authority cache invalidation, fresh fanout).
import { join } from 'node:path';
import { hostOf, ingress } from '../dataset.mjs';
import { queryOnce } from '../dns-wire.mjs';
import { startAuthority, startGateway } from '../ours.mjs';
import { freePort, sleep, stopProcess } from '../proc.mjs';
import { startBenchStandin } from '../standin.mjs';
import { latencySummary } from '../stats.mjs';

const CHANGED = 1_000_000; // index of the object that changes; its name is app-1000000
export const POLL_MS = 5;
const GIVE_UP_MS = 5000;
// The authority invalidates its cache at most once per upstream per cache.notifyIntervalMs
// (1 s by default) and coalesces NOTIFYs inside that into one at its end. Samples this far
// apart measure the propagation path; changes closer together are seen up to 1 s later by
// design (RELIABILITY.md section 7).
const BETWEEN_SAMPLES_MS = 1000;

const sampleIp = (k) => `10.99.${(k >> 8) & 255}.${k & 255}`;

/**
 * One sample: ms from writing Ingress `index` with address `ip` to `standin` until the
 * authority answers that address; null after 5 s.
 */
export async function changeToAnswer(standin, authorityPort, index, ip) {
  const name = hostOf(index);
  // The old answer is now in the authority's cache: the change has to invalidate it.
  await queryOnce(authorityPort, name, 'A', 1000);
  const t0 = performance.now();
  standin.apply(ingress(index, ip));
  while (performance.now() - t0 < GIVE_UP_MS) {
    const r = await queryOnce(authorityPort, name, 'A', 200);
    if (r?.addresses.includes(ip)) return performance.now() - t0;
    await sleep(POLL_MS);
  }
  return null;
}

async function runVariant(ctx, standin, debounceMs) {
  const gatewayPort = await freePort();
  const dir = join(ctx.dir, `change-debounce-${debounceMs}`);
  const authority = await startAuthority(dir, {
    upstreams: [{ name: 'gw', port: gatewayPort }],
    cache: {},
  });
  let gateway;
  try {
    gateway = await startGateway(dir, {
      port: gatewayPort,
      source: { kubeconfig: standin.kubeconfigPath },
      readyName: hostOf(CHANGED),
      notify: { targets: [{ address: '127.0.0.1', port: authority.port }], debounceMs },
    });
    await standin.waitForWatch('ingresses', { timeoutMs: 10_000 });
    const times = [];
    let timedOut = 0;
    for (let k = 1; k <= ctx.change.samples; k++) {
      const ms = await changeToAnswer(standin, authority.port, CHANGED, sampleIp(k));
      if (ms === null) timedOut++;
      else times.push(ms);
      await sleep(BETWEEN_SAMPLES_MS);
    }
    return { debounceMs, ...latencySummary(times), timedOut, samples: ctx.change.samples };
  } finally {
    await Promise.all([gateway, authority].filter(Boolean).map((p) => stopProcess(p.proc)));
  }
}

export async function changeScenario(ctx) {
  const objects = [ingress(CHANGED, sampleIp(0))];
  for (let i = 0; i < ctx.change.backgroundObjects; i++) objects.push(ingress(i));
  const standin = await startBenchStandin(objects);
  try {
    const variants = [];
    for (const debounceMs of ctx.change.debounces) {
      variants.push(await runVariant(ctx, standin, debounceMs));
      const v = variants.at(-1);
      ctx.log(
        `  debounce ${debounceMs} ms: p50 ${v.p50?.toFixed(0)} ms, p99 ${v.p99?.toFixed(0)} ms`,
      );
    }
    return { id: 'change', variants, pollMs: POLL_MS, targetP99Ms: 1000 };
  } finally {
    await standin.close();
  }
}
