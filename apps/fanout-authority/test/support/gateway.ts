import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** apps/cluster-gateway's bundle: the real per-cluster server, fed from a manifests directory. */
export const GATEWAY_MAIN = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../cluster-gateway/dist/main.js',
);
export const gatewayBuilt = existsSync(GATEWAY_MAIN);

export interface Gateway {
  port: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** An Ingress manifest claiming `host` with load-balancer address `ip`. */
export function ingress(name: string, host: string, ip: string): string {
  return [
    'apiVersion: networking.k8s.io/v1',
    'kind: Ingress',
    `metadata: { name: ${name}, namespace: default }`,
    `spec: { rules: [{ host: ${host} }] }`,
    `status: { loadBalancer: { ingress: [{ ip: ${ip} }] } }`,
    '',
  ].join('\n');
}

/** `extraConfig`: more top-level YAML lines of the gateway config (`reverseZones: [...]`). */
export async function startGateway(
  zone: string,
  manifests: Record<string, string>,
  extraConfig: readonly string[] = [],
): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-'));
  const mdir = join(dir, 'manifests');
  mkdirSync(mdir);
  for (const [file, text] of Object.entries(manifests)) writeFileSync(join(mdir, file), text);
  writeFileSync(
    join(dir, 'gateway.yaml'),
    [
      'zones:',
      `  - name: ${zone}`,
      'listen: { host: 127.0.0.1, port: 0 }',
      'ops: { host: 127.0.0.1, metricsPort: 0, healthPort: 0, readyPort: 0 }',
      'shutdown: { lameDuckSeconds: 0 }',
      'sources:',
      '  kubernetes: { enabled: false }',
      `  manifests: { enabled: true, directory: ${mdir} }`,
      ...extraConfig,
      '',
    ].join('\n'),
  );
  const proc = spawn(process.execPath, [GATEWAY_MAIN, '--config', join(dir, 'gateway.yaml')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const port = await new Promise<number>((resolvePort, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`gateway did not start: ${buf}`)), 10_000);
    proc.stdout?.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = buf.match(/"dnsPort":(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      }
    });
    proc.once('exit', (code) => reject(new Error(`gateway exited ${code}: ${buf}`)));
  });
  return {
    port,
    proc,
    stop: () =>
      new Promise<void>((resolveStop) => {
        const done = () => {
          rmSync(dir, { recursive: true, force: true });
          resolveStop();
        };
        if (proc.exitCode !== null || proc.signalCode !== null) return done();
        proc.once('exit', done);
        proc.kill('SIGTERM');
      }),
  };
}
