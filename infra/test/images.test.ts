import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandin } from '@mdns/kube-standin';
import { bunBinary, node24 } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module shared with the demo
import { repoRoot, ZONE } from '../demo/topology.mjs';
import { parseDockerfile } from './support/image.js';

// Base images cannot be pulled here, so this proves the image payload instead: the
// exact folder each Dockerfile copies into the runtime stage runs from an empty
// directory with no node_modules, on the runtime its image ships (Node 24, from the npm
// registry's `node` package; the pinned Bun), on this machine's Node 20 too, and answers.

const apps = ['cluster-gateway', 'fanout-authority'] as const;
type App = (typeof apps)[number];
type ImageRuntime = 'node' | 'bun';

/**
 * Every image file under infra/images: each app's default (`Dockerfile.<app>`, what the
 * release workflow builds) and its variant on the other runtime. The authority's default
 * runs Bun (the root README says why), the gateway's Node 24 (its RSS on Bun misses the
 * 150 MB target).
 */
const IMAGES: Array<{ file: string; app: App; runtime: ImageRuntime }> = [
  { file: 'Dockerfile.cluster-gateway', app: 'cluster-gateway', runtime: 'node' },
  { file: 'Dockerfile.cluster-gateway.bun', app: 'cluster-gateway', runtime: 'bun' },
  { file: 'Dockerfile.fanout-authority', app: 'fanout-authority', runtime: 'bun' },
  { file: 'Dockerfile.fanout-authority.node', app: 'fanout-authority', runtime: 'node' },
];

/** The Bun version pinned in the root package.json (`@oven/bun-linux-x64`). */
function bunVersion(): string {
  const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  return root.devDependencies['@oven/bun-linux-x64'];
}

/** The image's runtime stage, checked against its runtime; its payload folder. */
function payloadOf(file: string, app: App, runtime: ImageRuntime): string {
  const dockerfile = readFileSync(join(repoRoot, 'infra', 'images', file), 'utf8');
  const image = parseDockerfile(file.slice('Dockerfile.'.length), dockerfile);
  expect(/^FROM node:24/m.test(dockerfile), `${file}: build stage on Node 24`).toBe(true);
  if (runtime === 'node') {
    expect(image.from, `${file}: runtime on Node 24`).toMatch(/^gcr\.io\/distroless\/nodejs24/);
    expect(image.entrypoint).toEqual(['/nodejs/bin/node', '/app/main.js']);
  } else {
    expect(image.from, `${file}: runtime on the Bun the tests pin`).toBe(
      `oven/bun:${bunVersion()}-distroless`,
    );
    expect(image.entrypoint).toEqual(['/usr/local/bin/bun', '/app/main.js']);
    // Nothing written at run time: Bun's transpiler cache is off.
    expect(image.env.BUN_RUNTIME_TRANSPILER_CACHE_PATH, file).toBe('0');
  }
  expect(image.user, `${file}: non-root`).toBe('65532:65532');
  expect(image.payload.from).toBe(`apps/${app}/dist`);
  for (const p of ['53/udp', '53/tcp', '9153', '8080', '8181']) expect(dockerfile).toContain(p);
  return join(repoRoot, image.payload.from);
}

const runtimes: Array<{ label: string; bin: () => string }> = [
  { label: 'Node 24 (image runtime)', bin: node24 },
  { label: `this machine's Node ${process.versions.node}`, bin: () => process.execPath },
];

function dig(port: number, name: string): string[] {
  return execFileSync(
    'dig',
    ['@127.0.0.1', '-p', String(port), name, 'A', '+short', '+time=2', '+tries=2'],
    {
      encoding: 'utf8',
    },
  )
    .trim()
    .split('\n')
    .filter(Boolean);
}

async function waitReady(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/ready`)).status === 200) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} never became ready`);
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((res) => {
    if (child.exitCode !== null) return res(child.exitCode);
    child.once('exit', (code) => res(code));
    child.kill('SIGTERM');
  });
}

/**
 * The gateway (demo cluster-x manifests) on `base` and the authority in front of it on
 * base+2, ops on base+1 / base+3, each run by `bin` from its empty /app copy.
 */
function startPair(
  bin: string,
  base: number,
  cfgDir: string,
  payload: Record<string, { root: string; main: string }>,
  workers = 1,
): { gw: ChildProcess; auth: ChildProcess; stderr: string[] } {
  mkdirSync(cfgDir, { recursive: true });
  const ops = (port: number) => ({
    host: '127.0.0.1',
    metricsPort: port,
    healthPort: port,
    readyPort: port,
  });
  const gwCfg = join(cfgDir, 'gateway.yaml');
  writeFileSync(
    gwCfg,
    JSON.stringify({
      zones: [{ name: ZONE }],
      listen: { host: '127.0.0.1', port: base, workers },
      ops: ops(base + 1),
      sources: {
        kubernetes: { enabled: false },
        manifests: { enabled: true, directory: join(repoRoot, 'infra', 'demo', 'cluster-x') },
      },
    }),
  );
  const authCfg = join(cfgDir, 'authority.yaml');
  writeFileSync(
    authCfg,
    JSON.stringify({
      zones: [{ name: ZONE, upstreams: [{ name: 'x', address: '127.0.0.1', port: base }] }],
      listen: { host: '127.0.0.1', port: base + 2, workers },
      ops: ops(base + 3),
      explain: { enabled: false },
    }),
  );
  // cwd is the empty /app copy: nothing to resolve modules from but the bundle.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LOG_LEVEL: 'warn' };
  // stderr is kept (and passed on): the runtime's own warnings land there.
  const stderr: string[] = [];
  const run = (app: string, config: string) => {
    const child = spawn(bin, [payload[app].main, '--config', config], {
      cwd: payload[app].root,
      env,
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr.push(chunk.toString());
      process.stderr.write(chunk);
    });
    return child;
  };
  return { gw: run('cluster-gateway', gwCfg), auth: run('fanout-authority', authCfg), stderr };
}

const work = mkdtempSync(join(tmpdir(), 'mdns-payload-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('image payloads', () => {
  const payload: Record<string, { root: string; main: string }> = {};

  beforeAll(() => {
    for (const app of apps) {
      // Both images of an app copy the same folder (checked in the first case).
      const dir = join(repoRoot, 'apps', app, 'dist');
      expect(existsSync(join(dir, 'main.js')), `${dir}/main.js is built`).toBe(true);
      // The runtime stage: /app holds exactly what the Dockerfile copies, nothing else.
      const root = join(work, app, 'app');
      cpSync(dir, root, { recursive: true });
      payload[app] = { root, main: join(root, 'main.js') };
    }
  });

  it("each app's default image and its variant: the authority's on Bun, the gateway's on Node 24; nothing else in infra/images", () => {
    expect(readdirSync(join(repoRoot, 'infra', 'images')).sort()).toEqual(
      IMAGES.map((i) => i.file).sort(),
    );
    for (const { file, app, runtime } of IMAGES) {
      // ENTRYPOINT runs the app (contract.test.ts runs it with each manifest's args).
      expect(payloadOf(file, app, runtime)).toBe(join(repoRoot, 'apps', app, 'dist'));
    }
    const defaults = Object.fromEntries(
      IMAGES.filter((i) => i.file === `Dockerfile.${i.app}`).map((i) => [i.app, i.runtime]),
    );
    expect(defaults).toEqual({ 'cluster-gateway': 'node', 'fanout-authority': 'bun' });
  });

  for (const [i, runtime] of runtimes.entries()) {
    it(`runs both bundles from an empty directory on ${runtime.label} and answers`, async () => {
      const bin = runtime.bin();
      const base = 25400 + i * 20;
      const { gw, auth, stderr } = startPair(bin, base, join(work, `cfg-${i}`), payload);
      try {
        await waitReady(base + 1);
        await waitReady(base + 3);
        expect(dig(base, `shop.${ZONE}`)).toEqual(['192.0.2.10']);
        expect(dig(base + 2, `shop.${ZONE}`)).toEqual(['192.0.2.10']);
        // No runtime warning at start (Node 24 printed DEP0040 for a bundled `punycode`).
        expect(stderr.join('')).not.toMatch(/Warning/);
      } finally {
        // SIGTERM drains and exits 0: the image's signal handling.
        expect(await stop(gw)).toBe(0);
        expect(await stop(auth)).toBe(0);
      }
    });
  }

  // The Bun images (the authority's default, the gateway's variant) copy the same payload
  // into Bun's distroless image; the exact folder runs from an empty directory on the pinned Bun.
  it('the Bun images: both bundles run on the pinned Bun from an empty directory and answer', async () => {
    const base = 25480;
    const { gw, auth, stderr } = startPair(bunBinary(), base, join(work, 'cfg-bun'), payload);
    try {
      await waitReady(base + 1);
      await waitReady(base + 3);
      expect(dig(base, `shop.${ZONE}`)).toEqual(['192.0.2.10']);
      expect(dig(base + 2, `shop.${ZONE}`)).toEqual(['192.0.2.10']);
    } finally {
      expect(await stop(gw)).toBe(0);
      expect(await stop(auth)).toBe(0);
    }
    // Nothing at all on stderr: no runtime warning, no unimplemented-API notice.
    expect(stderr.join('')).toBe('');
  });

  it('runs the gateway on Node 24 against a Kubernetes API (stand-in): answers, no runtime warning', async () => {
    // The production source (client-node list+watch through a kubeconfig), which is where
    // bundled dependencies call deprecated Node APIs (url.parse in node-fetch 2).
    const standin = await startStandin({
      kinds: ['namespaces', 'services', 'ingresses'],
      objects: [
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          metadata: { name: 'shop', namespace: 'default' },
          spec: { rules: [{ host: `shop.${ZONE}` }] },
          status: { loadBalancer: { ingress: [{ ip: '192.0.2.77' }] } },
        },
      ],
    });
    const base = 25460;
    const cfgDir = join(work, 'cfg-kube');
    mkdirSync(cfgDir, { recursive: true });
    const config = join(cfgDir, 'gateway.yaml');
    writeFileSync(
      config,
      JSON.stringify({
        zones: [{ name: ZONE }],
        listen: { host: '127.0.0.1', port: base },
        ops: {
          host: '127.0.0.1',
          metricsPort: base + 1,
          healthPort: base + 1,
          readyPort: base + 1,
        },
        sources: {
          resources: ['Ingress', 'Service'],
          kubernetes: { enabled: true, kubeconfig: standin.kubeconfigPath },
          manifests: { enabled: false },
        },
      }),
    );
    const stderr: string[] = [];
    const gw = spawn(node24(), [payload['cluster-gateway'].main, '--config', config], {
      cwd: payload['cluster-gateway'].root,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    gw.stderr?.on('data', (c: Buffer) => stderr.push(c.toString()));
    try {
      await waitReady(base + 1);
      expect(dig(base, `shop.${ZONE}`)).toEqual(['192.0.2.77']);
      expect(stderr.join('')).not.toMatch(/Warning/);
    } finally {
      expect(await stop(gw)).toBe(0);
      await standin.close();
    }
  });

  it('runs the authority with listen.workers: 2 on Node 24: one SO_REUSEPORT socket per worker', async () => {
    const bin = node24();
    const base = 25480;
    const { gw, auth } = startPair(bin, base, join(work, 'cfg-workers'), payload, 2);
    try {
      await waitReady(base + 1);
      await waitReady(base + 3);
      // workerSockets: auto on Node 24 is reuseport: each worker bound its own UDP socket.
      expect(udpSocketsOn(base)).toBe(2);
      expect(udpSocketsOn(base + 2)).toBe(2);
      for (let i = 0; i < 10; i++) {
        expect(dig(base + 2, `shop.${ZONE}`)).toEqual(['192.0.2.10']);
      }
    } finally {
      expect(await stop(gw)).toBe(0);
      expect(await stop(auth)).toBe(0);
    }
  });

  it('runs the authority image (Bun) with listen.workers: 2 on its fixed port: one SO_REUSEPORT socket per worker', async () => {
    const base = 25500;
    const { gw, auth } = startPair(bunBinary(), base, join(work, 'cfg-bun-workers'), payload, 2);
    try {
      await waitReady(base + 1);
      await waitReady(base + 3);
      // Bun cannot hand the primary's socket to a worker: each worker bound its own.
      expect(udpSocketsOn(base + 2)).toBe(2);
      for (let i = 0; i < 10; i++) {
        expect(dig(base + 2, `shop.${ZONE}`)).toEqual(['192.0.2.10']);
      }
    } finally {
      expect(await stop(gw)).toBe(0);
      expect(await stop(auth)).toBe(0);
    }
  });
});

/** UDP sockets bound to 127.0.0.1:`port` (lines of /proc/net/udp). */
function udpSocketsOn(port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/udp', 'utf8')
    .split('\n')
    .filter((line) => line.trim().split(/\s+/)[1] === local).length;
}
