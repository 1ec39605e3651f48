import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const infraDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const k8sDir = join(infraDir, 'k8s');
/** The example per-cluster overlays: `infra/k8s/clusters/<name>/`. */
export const clustersDir = join(k8sDir, 'clusters');
export const clusters = readdirSync(clustersDir).sort();

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [k: string]: any;
};

/** `kubectl kustomize DIR`, offline, parsed. */
export function render(dir: string): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  return parseAllDocuments(out).map((d) => d.toJS() as K8sObject);
}
