// Memory under a container limit: each server runs inside a cgroup v1 memory group with the
// manifests' limit (256 MiB), once with V8's default heap and once with the heap sized from
// the limit (NODE_OPTIONS, as the manifests set it), and this reports the cgroup's peak
// usage, the process's VmHWM, failcnt and whether it was OOM-killed. Root only (cgroup v1
// memory controller, as on the bench box); not part of `run.mjs` or the test suite.
//
//   sudo node bench/src/cgroup-memory.mjs [--limit-mib 256] [--objects-per-kind 10000]
//     [--flood-seconds 30] [--flood-names 300000] [--only gateway|authority]
//   BENCH_NODE=/path/to/node24 ...   (the images' runtime; Node 20 gets --max-old-space-size)
//
// gateway:   20k objects (10k Ingress + 10k LoadBalancer Service) listed and watched from
//            the Kubernetes API stand-in, then every name queried under dnsperf load.
// authority: default cache, one upstream (a gateway answering every name from a wildcard
//            Ingress with 8 addresses), dnsperf sending random names that all miss.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostOf, ingress, NAMESPACE, service, writeLines, ZONE } from './dataset.mjs';
import { throughput } from './dnsperf.mjs';
import { appsBuilt, BENCH_NODE, startAuthority, startGateway } from './ours.mjs';
import { killAllNow, procStats, sleep, stopAll, stopProcess } from './proc.mjs';
import { startBenchStandin } from './standin.mjs';

const CGROUP_V1 = '/sys/fs/cgroup/memory';
const MiB = 2 ** 20;
/** The share of the limit given to V8's old space (@mdns/ops OLD_SPACE_PERCENTAGE). */
const OLD_SPACE_PERCENTAGE = 60;

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`--${name}: expected a positive integer, got "${process.argv[i + 1]}"`);
    process.exit(2);
  }
  return n;
}

const limitMib = option('limit-mib', 256);
const objectsPerKind = option('objects-per-kind', 10_000);
const floodSeconds = option('flood-seconds', 30);
const floodNames = option('flood-names', 300_000);

if (process.getuid?.() !== 0 || !existsSync(`${CGROUP_V1}/memory.limit_in_bytes`)) {
  console.error(
    'cgroup-memory: skipped: needs root and the cgroup v1 memory controller ' +
      `(${CGROUP_V1}); run it as root on a box that has them.`,
  );
  process.exit(0);
}
if (!appsBuilt()) {
  console.error('cgroup-memory: build the apps first (pnpm turbo run build)');
  process.exit(2);
}

const nodeVersion = spawnSync(BENCH_NODE, ['-p', 'process.versions.node'], {
  encoding: 'utf8',
}).stdout.trim();
const hasPercentage = Number(nodeVersion.split('.')[0]) >= 24;
/** What the manifests set: Node 24 reads the cgroup itself; Node 20 needs the number. */
const sizedOptions = hasPercentage
  ? `--max-old-space-size-percentage=${OLD_SPACE_PERCENTAGE}`
  : `--max-old-space-size=${Math.floor((limitMib * OLD_SPACE_PERCENTAGE) / 100)}`;

const dir = mkdtempSync(join(tmpdir(), 'mdns-cgroup-memory-'));
const groups = [];
const cleanup = () => {
  killAllNow();
  for (const g of groups.splice(0)) {
    try {
      rmdirSync(g);
    } catch {
      // still has a process for a moment; the kernel frees it once it exits
    }
  }
  rmSync(dir, { recursive: true, force: true });
};
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

function cgroup(label) {
  const path = `${CGROUP_V1}/mdns-bench-${process.pid}-${label}`;
  mkdirSync(path);
  writeFileSync(`${path}/memory.limit_in_bytes`, String(limitMib * MiB));
  groups.push(path);
  return path;
}

const readNumber = (path) => Number(readFileSync(path, 'utf8').trim());

function groupStats(path) {
  return {
    peakBytes: readNumber(`${path}/memory.max_usage_in_bytes`),
    failcnt: readNumber(`${path}/memory.failcnt`),
    oomKills: /oom_kill (\d+)/.exec(readFileSync(`${path}/memory.oom_control`, 'utf8'))?.[1] ?? '?',
  };
}

/** VmHWM while alive; null once the process is gone (OOM-killed). */
function hwm(proc) {
  if (proc.exited) return null;
  try {
    return procStats(proc.pid).hwmBytes;
  } catch {
    return null;
  }
}

async function gatewayCase(label, nodeOptions) {
  const group = cgroup(label);
  const objects = [];
  for (let i = 0; i < objectsPerKind; i++) objects.push(ingress(i), service(i));
  const standin = await startBenchStandin(objects);
  let gateway;
  try {
    gateway = await startGateway(join(dir, label), {
      source: { kubeconfig: standin.kubeconfigPath },
      readyName: `svc-${objectsPerKind - 1}.${NAMESPACE}.${ZONE}`,
      jail: { cgroup: group, env: { NODE_OPTIONS: nodeOptions } },
    });
    const names = [];
    for (let i = 0; i < objectsPerKind; i++)
      names.push(`${hostOf(i)} A`, `svc-${i}.${NAMESPACE}.${ZONE} A`);
    const file = writeLines(join(dir, `${label}-queries.txt`), names);
    const load = await throughput(gateway.port, file, 10).catch((e) => ({ error: e.message }));
    return {
      label,
      nodeOptions,
      load: load.qps ?? load.error,
      vmHwm: hwm(gateway.proc),
      exited: gateway.proc.exited,
      ...groupStats(group),
    };
  } finally {
    if (gateway) await stopProcess(gateway.proc);
    await standin.close();
  }
}

async function authorityCase(label, nodeOptions) {
  const group = cgroup(label);
  // The upstream: a gateway (outside the cgroup) answering every name with 8 addresses.
  const manifests = join(dir, `${label}-manifests`);
  mkdirSync(manifests, { recursive: true });
  const wildcard = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'everything', namespace: NAMESPACE },
    spec: { rules: [{ host: `*.${ZONE}` }] },
    status: {
      loadBalancer: { ingress: Array.from({ length: 8 }, (_, i) => ({ ip: `10.9.0.${i + 1}` })) },
    },
  };
  writeFileSync(join(manifests, 'wildcard.json'), JSON.stringify(wildcard));
  const upstream = await startGateway(join(dir, `${label}-upstream`), {
    source: { manifests },
    readyName: `probe.${ZONE}`,
  });
  let authority;
  try {
    authority = await startAuthority(join(dir, label), {
      upstreams: [{ name: 'gw', port: upstream.port }],
      jail: { cgroup: group, env: { NODE_OPTIONS: nodeOptions } },
    });
    const names = [];
    for (let i = 0; i < floodNames; i++) names.push(`r${randomBytes(8).toString('hex')}.${ZONE} A`);
    const file = writeLines(join(dir, `${label}-flood.txt`), names);
    const load = await throughput(authority.port, file, floodSeconds).catch((e) => ({
      error: e.message,
    }));
    await sleep(1000);
    const cache = await cacheFill(authority.configPath);
    return {
      label,
      nodeOptions,
      load: load.qps ?? load.error,
      vmHwm: hwm(authority.proc),
      exited: authority.proc.exited,
      ...cache,
      ...groupStats(group),
    };
  } finally {
    if (authority) await stopProcess(authority.proc);
    await stopProcess(upstream.proc);
  }
}

/** The authority's cache entries and accounted bytes at the end (null once it died). */
async function cacheFill(configPath) {
  const port = JSON.parse(readFileSync(configPath, 'utf8')).ops.metricsPort;
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const value = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    return {
      cacheEntries: value('mdns_authority_cache_entries'),
      cacheBytes: value('mdns_authority_cache_bytes'),
    };
  } catch {
    return { cacheEntries: null, cacheBytes: null };
  }
}

const only = (process.argv[process.argv.indexOf('--only') + 1] ?? '').split(',');
const wanted = (name) => !process.argv.includes('--only') || only.includes(name);

const mb = (b) => (b === null || b === undefined ? '—' : (b / 1e6).toFixed(0));

try {
  console.error(
    `cgroup-memory: Node ${nodeVersion}, limit ${limitMib} MiB, sized: ${sizedOptions}`,
  );
  const results = [];
  for (const [name, run] of [
    ['gateway', gatewayCase],
    ['authority', authorityCase],
  ].filter(([name]) => wanted(name))) {
    for (const [heap, options] of [
      ['default', ''],
      ['sized', sizedOptions],
    ]) {
      const r = await run(`${name}-${heap}`, options);
      console.error(JSON.stringify(r));
      results.push(r);
    }
  }
  console.log(`Node ${nodeVersion}, cgroup v1 memory limit ${limitMib} MiB.\n`);
  console.log(
    '| server, heap | NODE_OPTIONS | cgroup peak MB | VmHWM MB | failcnt | OOM kills | exit | qps | cache entries / MB |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    const exit = r.exited ? (r.exited.signal ?? r.exited.code) : 'alive';
    console.log(
      `| ${r.label} | ${r.nodeOptions || '(none)'} | ${mb(r.peakBytes)} | ${mb(r.vmHwm)} | ${r.failcnt} | ${r.oomKills} | ${exit} | ${typeof r.load === 'number' ? Math.round(r.load) : r.load} | ${r.cacheEntries === undefined ? '—' : `${r.cacheEntries} / ${mb(r.cacheBytes)}`} |`,
    );
  }
} finally {
  await stopAll();
  cleanup();
}
