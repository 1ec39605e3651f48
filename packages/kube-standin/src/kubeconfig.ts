/**
 * A kubeconfig pointing at the stand-in. Plain HTTP: client-node 1.4 accepts an `http://`
 * server only when the cluster sets `insecure-skip-tls-verify: true` (it throws
 * "HTTP protocol is not allowed when skipTLSVerify is not set or false" otherwise).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function kubeconfigYaml(server: string, namespace = 'default'): string {
  return `apiVersion: v1
kind: Config
clusters:
  - name: standin
    cluster:
      server: ${server}
      insecure-skip-tls-verify: true
users:
  - name: standin
    user:
      token: standin-token
contexts:
  - name: standin
    context:
      cluster: standin
      user: standin
      namespace: ${namespace}
current-context: standin
`;
}

export interface KubeconfigFile {
  path: string;
  yaml: string;
  remove(): void;
}

export function writeKubeconfig(server: string): KubeconfigFile {
  const dir = mkdtempSync(join(tmpdir(), 'kube-standin-'));
  const path = join(dir, 'kubeconfig.yaml');
  const yaml = kubeconfigYaml(server);
  writeFileSync(path, yaml);
  return { path, yaml, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
