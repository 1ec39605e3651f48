import { AppProcess, appMain, assertBuilt } from '@mdns/testkit';

export const MAIN = appMain('cluster-gateway');

/** The built gateway with `configPath`, once it serves (ports from its "listening" line). */
export function startGateway(
  configPath: string,
  env: Record<string, string> = {},
): Promise<AppProcess> {
  assertBuilt(MAIN); // never a silent skip: an unbuilt app fails the suite, naming the file
  return AppProcess.start(MAIN, configPath, { env, timeoutMs: 20_000 });
}

/** A gateway config for tests: everything on port 0, JSON logs at info. */
export function testConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    zones: [
      {
        name: 'prod.example.tld',
        nameservers: [{ name: 'ns1.prod.example.tld', addresses: ['192.0.2.53', '2001:db8::53'] }],
      },
    ],
    listen: { host: '127.0.0.1', port: 0 },
    ops: { host: '127.0.0.1', metricsPort: 0, healthPort: 0, readyPort: 0 },
    log: { level: 'info' },
    // Tests stop processes with SIGTERM: no lame duck (test/e2e-lame-duck.test.ts has its own).
    shutdown: { lameDuckSeconds: 0 },
    ...overrides,
  };
}

/** `listen` on loopback with `workers` (the e2e matrix, `WORKER_COUNTS` of @mdns/testkit). */
export function listenWith(workers: number, port = 0): Record<string, unknown> {
  return { host: '127.0.0.1', port, workers };
}

/** An Ingress in namespace `default` whose load balancer has `ip` (manifests and stand-in). */
export function ingressWithIp(name: string, host: string, ip: string) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default' },
    spec: { rules: [{ host }] },
    status: { loadBalancer: { ingress: [{ ip }] } },
  };
}
