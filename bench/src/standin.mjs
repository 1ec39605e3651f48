// The Kubernetes API stand-in (@mdns/kube-standin), started inside the bench runner.
// Imported from its built dist by path, so the bench needs no install step of its own;
// turbo builds it first because it is a devDependency of this package.
import { fileURLToPath } from 'node:url';

const STANDIN = fileURLToPath(
  new URL('../../packages/kube-standin/dist/index.js', import.meta.url),
);

/**
 * Only the kinds the gateway watches (`kinds`; EndpointSlices only where a scenario measures
 * health). managedFields stay on, as a real API server sends them.
 */
export async function startBenchStandin(objects, kinds = ['ingresses', 'services']) {
  const { startStandin } = await import(STANDIN);
  return startStandin({ kinds, objects, managedFields: true });
}
