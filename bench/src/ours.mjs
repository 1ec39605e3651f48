// Our two servers as real processes (`node apps/<app>/dist/main.js --config FILE`),
// configured for loopback high ports. Configs are written as JSON, which is YAML.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZONE } from './dataset.mjs';
import { queryOnce } from './dns-wire.mjs';
import { freePort, startProcess, waitFor } from './proc.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const GATEWAY_MAIN = join(ROOT, 'apps/cluster-gateway/dist/main.js');
export const AUTHORITY_MAIN = join(ROOT, 'apps/fanout-authority/dist/main.js');

/**
 * The Node that runs our servers: `BENCH_NODE` (e.g. a Node 24 binary, where
 * listen.workers uses SO_REUSEPORT) or the one running the harness.
 */
export const BENCH_NODE = process.env.BENCH_NODE || process.execPath;

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
    log: { level: 'warn' },
  };
}

function launch(label, main, configPath) {
  return startProcess(label, BENCH_NODE, [main, '--config', configPath]);
}

/**
 * The cluster gateway. `source`: `{ manifests: DIR }` or `{ kubeconfig: FILE }`.
 * Resolves once `readyName` answers NOERROR (the first full sync is done).
 */
export async function startGateway(
  dir,
  { source, readyName, notify, port, workers = 1, label = 'cluster-gateway' },
) {
  mkdirSync(dir, { recursive: true });
  const config = await commonConfig(port, workers);
  config.sources = {
    resources: ['Ingress', 'Service'],
    kubernetes: source.kubeconfig
      ? { enabled: true, kubeconfig: source.kubeconfig }
      : { enabled: false },
    manifests: source.manifests
      ? { enabled: true, directory: source.manifests }
      : { enabled: false },
  };
  if (notify) config.notify = notify;
  const configPath = join(dir, 'gateway.yaml');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const proc = launch(label, GATEWAY_MAIN, configPath);
  const dnsPort = config.listen.port;
  await waitFor(
    `${label} answering ${readyName}`,
    async () => (await queryOnce(dnsPort, readyName, 'A', 500))?.rcode === 0,
    { proc, timeoutMs: 120_000, everyMs: 200 },
  );
  return { name: label, proc, port: dnsPort, configPath };
}

/** The fanout authority in front of `upstreams` ([{ name, port }] on 127.0.0.1). */
export async function startAuthority(
  dir,
  { upstreams, cache, workers = 1, label = 'fanout-authority' },
) {
  mkdirSync(dir, { recursive: true });
  const config = await commonConfig(undefined, workers);
  config.zones[0].upstreams = upstreams.map((u) => ({
    name: u.name,
    address: '127.0.0.1',
    port: u.port,
  }));
  config.cache = cache;
  // One dnsperf client stands for every client here: the per-source miss limit would measure
  // itself (TC=1) instead of the fan-out.
  config.rateLimit = { missesPerSecond: 0 };
  config.explain = { enabled: false };
  const configPath = join(dir, 'authority.yaml');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const proc = launch(label, AUTHORITY_MAIN, configPath);
  const port = config.listen.port;
  await waitFor(
    `${label} answering the apex SOA`,
    async () => (await queryOnce(port, ZONE, 'SOA', 500))?.rcode === 0,
    { proc, timeoutMs: 30_000, everyMs: 100 },
  );
  return { name: label, proc, port, configPath };
}
