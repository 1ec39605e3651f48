import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

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

/**
 * The TSIG key test renders put in each secretGenerator file, by file name: the same name
 * in two overlays (a downstream cluster's key and the management cluster's copy of it)
 * gets the same key, as an operator copies one file to both.
 */
export const testKeys = new Map<string, string>();

let k8sCopy: string | null = null;

/**
 * The secretGenerator files of an overlay's `secrets/` are created by the operator and never
 * committed (the TSIG keys of zone replication), so their render happens on a copy of
 * `k8sDir` (made once per process) where each of them holds a fresh random key (`testKeys`).
 */
function withTestSecrets(dir: string): string {
  const rel = relative(k8sDir, dir);
  if (rel.startsWith('..')) return dir;
  if (k8sCopy === null) {
    k8sCopy = mkdtempSync(join(tmpdir(), 'mdns-k8s-'));
    cpSync(k8sDir, k8sCopy, { recursive: true });
    const made = k8sCopy;
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  const copy = join(k8sCopy, rel);
  const kustomization = parse(readFileSync(join(copy, 'kustomization.yaml'), 'utf8'));
  for (const gen of kustomization.secretGenerator ?? []) {
    for (const entry of gen.files ?? []) {
      const file = String(entry).split('=').pop() as string;
      const name = basename(file);
      if (!testKeys.has(name)) testKeys.set(name, `${randomBytes(32).toString('base64')}\n`);
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      writeFileSync(join(copy, file), testKeys.get(name) as string);
    }
  }
  return copy;
}

function kustomize(dir: string): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  return parseAllDocuments(out).map((d) => d.toJS() as K8sObject);
}

/**
 * `kubectl kustomize DIR`, offline, parsed; with what the operator applies beside it: its
 * `secrets/` kustomization (the Secret of the TSIG keys), rendered from test keys. The
 * overlay itself renders from the repository as it is (GitOps and the release need that).
 */
export function render(dir: string): K8sObject[] {
  const objects = kustomize(dir);
  const secrets = join(dir, 'secrets');
  if (existsSync(join(secrets, 'kustomization.yaml'))) {
    objects.push(...kustomize(withTestSecrets(secrets)));
  }
  return objects;
}
