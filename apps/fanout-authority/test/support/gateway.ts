import { AppProcess, appMain, tempDir } from '@mdns/testkit';

/** apps/cluster-gateway's bundle: the real per-cluster server, fed from a manifests directory. */
export const GATEWAY_MAIN = appMain('cluster-gateway');

export interface Gateway {
  port: number;
  server: AppProcess;
  /** The manifests directory it watches: a file written there changes its names. */
  manifests: string;
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
  const dir = tempDir('gateway-');
  for (const [file, text] of Object.entries(manifests)) dir.write(`manifests/${file}`, text);
  const configPath = dir.write(
    'gateway.yaml',
    [
      'zones:',
      `  - name: ${zone}`,
      'listen: { host: 127.0.0.1, port: 0 }',
      'ops: { host: 127.0.0.1, metricsPort: 0, healthPort: 0, readyPort: 0 }',
      'shutdown: { lameDuckSeconds: 0 }',
      'sources:',
      '  kubernetes: { enabled: false }',
      `  manifests: { enabled: true, directory: ${dir.path}/manifests }`,
      ...extraConfig,
      '',
    ].join('\n'),
  );
  const server = await AppProcess.start(GATEWAY_MAIN, configPath, { timeoutMs: 10_000 });
  return {
    port: server.dnsPort,
    server,
    manifests: `${dir.path}/manifests`,
    stop: async () => {
      await server.stop();
      dir.remove();
    },
  };
}
