// Our two servers as real processes (`node apps/<app>/dist/main.js --config FILE`),
// configured for loopback high ports. Configs are written as JSON, which is YAML.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppProcess } from '@mdns/testkit';
import { ZONE } from './dataset.mjs';
import { queryOnce } from './dns-wire.mjs';
import { adoptApp, freePort, startProcess, waitFor } from './proc.mjs';
import { runtimeLabel } from './report.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const GATEWAY_MAIN = join(ROOT, 'apps/cluster-gateway/dist/main.js');
export const AUTHORITY_MAIN = join(ROOT, 'apps/fanout-authority/dist/main.js');

/**
 * The Node that runs our servers: `BENCH_NODE` (e.g. a Node 24 binary, where
 * listen.workers uses SO_REUSEPORT) or the one running the harness.
 */
export const BENCH_NODE = process.env.BENCH_NODE || process.execPath;

/**
 * `bun 1.4.4` or `node v20.20.2`: what `BENCH_NODE` is (the variable's name predates Bun;
 * a Bun binary there runs our servers on Bun). Asked once, from the binary itself.
 */
export const BENCH_RUNTIME = runtimeOf(BENCH_NODE);

function runtimeOf(binary) {
  const r = spawnSync(binary, ['-p', 'JSON.stringify(process.versions)'], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`BENCH_NODE=${binary}: could not run it: ${r.stderr || r.error}`);
  return runtimeLabel(JSON.parse(r.stdout));
}

/**
 * `BENCH_SERVER_ENV=K=V,K=V`: added to the environment of every server of ours the harness
 * starts (e.g. `MDNS_UDP_TRACE=/tmp/trace.json`, a runtime's allocator or GC setting).
 */
export const SERVER_ENV = Object.fromEntries(
  (process.env.BENCH_SERVER_ENV ?? '')
    .split(',')
    .filter((kv) => kv.includes('='))
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);

export const appsBuilt = () => existsSync(GATEWAY_MAIN) && existsSync(AUTHORITY_MAIN);

const zoneConfig = () => ({
  name: ZONE,
  soa: { minimum: 3600, ttl: 3600 },
  nameservers: [{ name: `ns1.${ZONE}`, addresses: ['127.0.0.1'] }],
});

async function commonConfig(port, workers) {
  const opsPort = await freePort();
  return {
    zones: [zoneConfig()],
    // listen.workers > 1: the apps' own multi-worker mode (a cluster primary and workers).
    listen: { host: '127.0.0.1', port: port ?? (await freePort()), workers },
    // One port for metrics, health and ready: the README allows ports to coincide.
    ops: { host: '127.0.0.1', metricsPort: opsPort, healthPort: opsPort, readyPort: opsPort },
    // info: the `listening` line (AppProcess learns the ports from it) and start-up lines;
    // neither app logs per query at any level.
    log: { level: 'info' },
    // stopProcess gives 2 s before SIGKILL: no lame duck to wait out between runs.
    shutdown: { lameDuckSeconds: 0 },
  };
}

/**
 * `jail`: `{ cgroup, env, nodeArgs }` — join the cgroup directory before exec'ing Node (so
 * every page is charged to it from the start), add `env` (NODE_OPTIONS) and Node arguments
 * (`--cpu-prof`, which NODE_OPTIONS refuses). Used by cgroup-memory.mjs and replication.mjs.
 * Resolves once the server has logged `listening`.
 */
async function launch(label, main, configPath, jail) {
  const app = await AppProcess.start(main, configPath, {
    name: label,
    node: BENCH_NODE,
    cgroup: jail?.cgroup,
    env: { ...SERVER_ENV, ...jail?.env },
    nodeArgs: jail?.nodeArgs,
    timeoutMs: 120_000,
    // A long run must not keep every line.
    maxLogLines: 200,
  });
  return adoptApp(app);
}

/**
 * The cluster gateway. `source`: `{ manifests: DIR }` or `{ kubeconfig: FILE }`;
 * `metrics`: the config's `metrics` key (e.g. `{ corednsCompatible: true }`).
 * Resolves once `readyName` answers NOERROR (the first full sync is done).
 */
export async function startGateway(
  dir,
  {
    source,
    readyName,
    notify,
    port,
    workers = 1,
    label = 'cluster-gateway',
    metrics,
    jail,
    health,
    tsig,
    main = GATEWAY_MAIN,
  },
) {
  mkdirSync(dir, { recursive: true });
  const config = await commonConfig(port, workers);
  if (metrics) config.metrics = metrics;
  // `tsig` ({ name, secret }): the gateway as a primary, transfers to loopback with that key.
  if (tsig) config.transfer = { enabled: true, allow: ['127.0.0.0/8'], keys: [tsigKey(tsig)] };
  config.sources = {
    resources: ['Ingress', 'Service'],
    kubernetes: source.kubeconfig
      ? { enabled: true, kubeconfig: source.kubeconfig }
      : { enabled: false },
    manifests: source.manifests
      ? { enabled: true, directory: source.manifests }
      : { enabled: false },
  };
  // `sources.health` (e.g. `{ graceSeconds: 0 }`); absent: the gateway's default.
  if (health) config.sources.health = health;
  if (notify) config.notify = notify;
  const configPath = join(dir, 'gateway.yaml');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const proc = await launch(label, main, configPath, jail);
  const dnsPort = config.listen.port;
  await waitFor(
    `${label} answering ${readyName}`,
    async () => (await queryOnce(dnsPort, readyName, 'A', 500))?.rcode === 0,
    { proc, timeoutMs: 120_000, everyMs: 200 },
  );
  return { name: label, proc, port: dnsPort, configPath };
}

const tsigKey = ({ name, secret }) => ({ name, algorithm: 'hmac-sha256', secret });

/**
 * The fanout authority in front of `upstreams` ([{ name, port }] on 127.0.0.1); `metrics` as
 * for the gateway. `tsig` ({ name, secret }): every upstream replicated (AXFR/IXFR signed
 * with that key, NOTIFY must be) — the gateways then need the same `tsig`.
 */
export async function startAuthority(
  dir,
  { upstreams, cache, workers = 1, label = 'fanout-authority', metrics, policy, jail, tsig, port },
) {
  mkdirSync(dir, { recursive: true });
  const config = await commonConfig(port, workers);
  if (metrics) config.metrics = metrics;
  config.zones[0].upstreams = upstreams.map((u) => ({
    name: u.name,
    address: '127.0.0.1',
    port: u.port,
    ...(tsig ? { transfer: { enabled: true, key: tsig.name } } : {}),
  }));
  if (tsig) config.transfer = { keys: [tsigKey(tsig)] };
  if (policy) config.zones[0].policy = policy;
  if (cache) config.cache = cache;
  // One dnsperf client stands for every client here: the per-source miss limit would measure
  // itself (TC=1) instead of the fan-out.
  config.rateLimit = { missesPerSecond: 0 };
  config.explain = { enabled: false };
  // The spoofing/CPU trade-off of the upstream socket pool (authority README, `sockets`).
  if (process.env.BENCH_UPSTREAM_SOCKETS !== undefined) {
    config.upstream = { sockets: Number(process.env.BENCH_UPSTREAM_SOCKETS) };
  }
  // `upstream.udpBackend` (node | auto): the batched Bun client, opt-in (miss-drops.mjs).
  if (process.env.BENCH_UPSTREAM_UDP_BACKEND !== undefined) {
    config.upstream = { ...config.upstream, udpBackend: process.env.BENCH_UPSTREAM_UDP_BACKEND };
  }
  const configPath = join(dir, 'authority.yaml');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const proc = await launch(label, AUTHORITY_MAIN, configPath, jail);
  const dnsPort = config.listen.port;
  await waitFor(
    `${label} answering the apex SOA`,
    async () => (await queryOnce(dnsPort, ZONE, 'SOA', 500))?.rcode === 0,
    { proc, timeoutMs: 30_000, everyMs: 100 },
  );
  // Ready = every upstream's start-up probe answered or gave up: what a Kubernetes Service
  // waits for before it sends the pod any query.
  await waitFor(
    `${label} /ready`,
    async () => {
      const res = await fetch(`http://127.0.0.1:${config.ops.readyPort}/ready`).catch(() => null);
      return res !== null && (await res.json().catch(() => ({}))).ready === true;
    },
    { proc, timeoutMs: 30_000, everyMs: 50 },
  );
  return { name: label, proc, port: dnsPort, configPath, metricsPort: config.ops.metricsPort };
}

/**
 * A reference server of the probes (an echo, a layered copy) run by `BENCH_NODE` as
 * `argv… <port>` on a free port, once it answers the zone's apex.
 */
export async function startReference(name, argv, env) {
  const port = await freePort();
  const proc = startProcess(name, BENCH_NODE, [...argv, String(port)], { env });
  await waitFor(name, async () => (await queryOnce(port, ZONE, 'A', 300)) !== null, { proc });
  return { name, proc, port };
}
