// The seed's topology on loopback: one fanout-authority for prod.example.test in
// front of two cluster-gateways ("cluster-x", "cluster-y") fed by the manifests
// source. Used by the README's demo command (infra/demo/run.mjs) and by the
// end-to-end tests (infra/test/*.test.ts), so both run exactly the same thing.
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppProcess, appMain } from '@mdns/testkit';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
export const ZONE = 'prod.example.test';

/**
 * Ports: authority DNS on `base`, gateways on base+1 and base+2; each process serves
 * /metrics, /health and /ready on one ops port (base+100, +101, +102); the authority's
 * explain endpoint on base+200.
 */
export function demoPorts(base) {
  return {
    authority: { dns: base, ops: base + 100, explain: base + 200 },
    'cluster-x': { dns: base + 1, ops: base + 101 },
    'cluster-y': { dns: base + 2, ops: base + 102 },
  };
}

/** Whether `port` on 127.0.0.1 can be bound now, for TCP and for UDP (DNS needs both). */
async function isFree(port) {
  const tcp = await new Promise((done) => {
    const s = createServer();
    s.once('error', () => done(false));
    s.listen(port, '127.0.0.1', () => s.close(() => done(true)));
  });
  if (!tcp) return false;
  return new Promise((done) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => done(false));
    s.bind(port, '127.0.0.1', () => s.close(() => done(true)));
  });
}

/**
 * A port base whose every `demoPorts` port is free now, for tests: the layout is fixed
 * offsets from one base, so port 0 cannot be used, and a fixed base could collide with a
 * concurrent run.
 */
export async function freePortBase() {
  const offsets = Object.values(demoPorts(0)).flatMap((p) => Object.values(p));
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 30_000 + Math.floor(Math.random() * 20_000);
    const free = await Promise.all(offsets.map((o) => isFree(base + o)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no free port base for the demo topology after 50 attempts');
}

/**
 * The TSIG key the demo's gateways and authority share for zone transfers and NOTIFY. A
 * demo value, in the open on purpose: in a cluster the secret comes from a Secret
 * (`secretFile`), see infra/README.md.
 */
export const DEMO_TSIG_KEY = {
  name: 'demo-xfr',
  algorithm: 'hmac-sha256',
  secret: 'ZGVtby1vbmx5LXRzaWcta2V5LWZvci1tZG5zLXhmcnM=',
};
const demoKeys = [{ name: DEMO_TSIG_KEY.name, secret: DEMO_TSIG_KEY.secret }];

function gatewayConfig(name, ports, manifestsDir, notify, ttl, replicated) {
  return {
    zones: [
      {
        name: ZONE,
        nameservers: [{ name: `gw.${name}.${ZONE}`, addresses: ['127.0.0.1'] }],
      },
    ],
    ttl,
    listen: { host: '127.0.0.1', port: ports[name].dns },
    ops: {
      host: '127.0.0.1',
      metricsPort: ports[name].ops,
      healthPort: ports[name].ops,
      readyPort: ports[name].ops,
    },
    log: { level: 'info' },
    sources: {
      kubernetes: { enabled: false },
      manifests: { enabled: true, directory: manifestsDir },
    },
    notify: notify
      ? {
          targets: [
            {
              address: '127.0.0.1',
              port: ports.authority.dns,
              ...(replicated ? { key: DEMO_TSIG_KEY.name } : {}),
            },
          ],
          debounceMs: 100,
        }
      : { targets: [] },
    // Each gateway is the primary of its cluster's view of the zone; the authority pulls it.
    ...(replicated ? { transfer: { enabled: true, allow: ['127.0.0.0/8'], keys: demoKeys } } : {}),
  };
}

function authorityConfig(ports, policy, workers, replicated) {
  const transfer = replicated ? { enabled: true, key: DEMO_TSIG_KEY.name } : { enabled: false };
  return {
    zones: [
      {
        name: ZONE,
        soa: { minimum: 10 },
        nameservers: [{ name: `ns1.${ZONE}`, addresses: ['127.0.0.1'] }],
        policy,
        upstreams: [
          { name: 'cluster-x', address: '127.0.0.1', port: ports['cluster-x'].dns, transfer },
          { name: 'cluster-y', address: '127.0.0.1', port: ports['cluster-y'].dns, transfer },
        ],
      },
    ],
    listen: { host: '127.0.0.1', port: ports.authority.dns, workers },
    ops: {
      host: '127.0.0.1',
      metricsPort: ports.authority.ops,
      healthPort: ports.authority.ops,
      readyPort: ports.authority.ops,
    },
    explain: { enabled: true, host: '127.0.0.1', port: ports.authority.explain },
    log: { level: 'info' },
    // A secondary of both gateways (AXFR, then IXFR on their signed NOTIFY): answers come
    // from the copies, the fan-out covers a gateway whose copy is not loaded.
    ...(replicated ? { transfer: { keys: demoKeys } } : {}),
  };
}

/**
 * Starts the three processes and resolves once every /ready answers 200.
 * Options: portBase (default 5300), manifestsRoot (default infra/demo: edit a file
 * there and the answer changes), policy ('all' so the name in both clusters shows
 * both addresses), notify (gateways NOTIFY the authority on change), recordTtl
 * (default 30 s: the gateways' TTL for objects without a TTL annotation), authorityWorkers
 * (the authority's listen.workers, default 1), replicated (default true: the authority is a
 * secondary of both gateways, TSIG key DEMO_TSIG_KEY; false: per-query fan-out only),
 * onLog(name, line).
 */
export async function startTopology(options = {}) {
  // options.signal: an AbortSignal that stops a start in progress (Ctrl-C while waiting).
  const portBase = options.portBase ?? 5300;
  const ports = demoPorts(portBase);
  const manifestsRoot = options.manifestsRoot ?? here;
  const workDir = mkdtempSync(join(tmpdir(), 'mdns-demo-'));
  const onLog = options.onLog ?? (() => {});
  const replicated = options.replicated ?? true;
  // Filled as each process is up: { name, app: AppProcess, configFile }.
  const children = [];

  const launch = async (name, app, config) => {
    const file = join(workDir, `${name}.json`);
    // JSON is YAML: the apps read it with their YAML loader.
    writeFileSync(file, JSON.stringify(config, null, 2));
    const proc = await AppProcess.start(appMain(app), file, {
      name,
      onLine: (line) => onLog(name, line),
      signal: options.signal,
      // A long demo must not keep every line it ever logged.
      maxLogLines: 1000,
    });
    children.push({ name, app: proc, configFile: file });
    return proc;
  };

  const stop = async () => {
    await Promise.all(children.map(({ app }) => app.stop(5000)));
    rmSync(workDir, { recursive: true, force: true });
  };

  try {
    // A process that dies while starting (bad config, port taken) fails the start at once
    // (AppProcess.start rejects with its last words) instead of after a readiness deadline.
    const settle = async (starts) => {
      const failed = (await Promise.allSettled(starts)).find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    };
    // The gateways first: the authority's first zone transfers then find them listening.
    await settle(
      ['cluster-x', 'cluster-y'].map((name) =>
        launch(
          name,
          'cluster-gateway',
          gatewayConfig(
            name,
            ports,
            join(manifestsRoot, name),
            options.notify ?? true,
            options.recordTtl ?? 30,
            replicated,
          ),
        ),
      ),
    );
    await settle([
      launch(
        'authority',
        'fanout-authority',
        authorityConfig(ports, options.policy ?? 'all', options.authorityWorkers ?? 1, replicated),
      ),
    ]);
    await Promise.all(children.map(({ app }) => app.waitReady(30_000)));
  } catch (e) {
    await stop();
    throw e;
  }
  return { ports, workDir, children, stop };
}
