import { KubeConfig } from '@kubernetes/client-node';
import type { SourcesConfig } from '../config.js';

/**
 * The configured kubeconfig file, else `KUBECONFIG` (may list several files), else the
 * in-cluster service account. Errors are values naming what failed.
 */
export function loadKubeConfig(
  k: SourcesConfig['kubernetes'],
  env: NodeJS.ProcessEnv = process.env,
): { ok: true; kc: KubeConfig } | { ok: false; error: string } {
  const kc = new KubeConfig();
  let from: string;
  try {
    if (k.kubeconfig) {
      from = `kubeconfig ${k.kubeconfig}`;
      kc.loadFromFile(k.kubeconfig);
    } else if (env.KUBECONFIG) {
      from = `KUBECONFIG=${env.KUBECONFIG}`;
      kc.loadFromDefault();
    } else {
      from = 'in-cluster service account';
      if (!env.KUBERNETES_SERVICE_HOST) {
        return {
          ok: false,
          error:
            'sources.kubernetes: not running in a cluster (no KUBERNETES_SERVICE_HOST); set kubeconfig or KUBECONFIG',
        };
      }
      kc.loadFromCluster();
    }
    if (k.context) kc.setCurrentContext(k.context);
  } catch (err) {
    return {
      ok: false,
      error: `sources.kubernetes: cannot load ${k.kubeconfig ?? 'kubeconfig'}: ${(err as Error).message}`,
    };
  }
  if (k.context && !kc.getContextObject(k.context)) {
    return { ok: false, error: `sources.kubernetes.context: "${k.context}" is not in the ${from}` };
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server)
    return { ok: false, error: `sources.kubernetes: no current cluster in the ${from}` };
  return { ok: true, kc };
}
