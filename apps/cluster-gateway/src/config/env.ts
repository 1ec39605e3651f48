import { type EnvOverride, envParsers } from '@mdns/ops';

/**
 * The few settings operators set per cluster without templating the YAML (a Deployment's
 * `env:`). Each overrides one field of the file before validation, so a bad value is
 * reported like a bad file value, naming the variable.
 */
export const GATEWAY_ENV_OVERRIDES: readonly EnvOverride[] = [
  { env: 'MDNS_LISTEN_HOST', path: ['listen', 'host'] },
  { env: 'MDNS_LISTEN_PORT', path: ['listen', 'port'], parse: envParsers.int },
  { env: 'MDNS_LOG_LEVEL', path: ['log', 'level'] },
  { env: 'MDNS_KUBECONFIG', path: ['sources', 'kubernetes', 'kubeconfig'] },
  { env: 'MDNS_MANIFESTS_DIR', path: ['sources', 'manifests', 'directory'] },
  // The pod IP (downward API `status.podIP`): the ops endpoints bind to it only, so
  // nothing outside the pod network reaches /metrics, and a NetworkPolicy can name it.
  { env: 'MDNS_OPS_HOST', path: ['ops', 'host'] },
  { env: 'MDNS_METRICS_PORT', path: ['ops', 'metricsPort'], parse: envParsers.int },
  { env: 'MDNS_HEALTH_PORT', path: ['ops', 'healthPort'], parse: envParsers.int },
  { env: 'MDNS_READY_PORT', path: ['ops', 'readyPort'], parse: envParsers.int },
];

export const DEFAULT_CONFIG_PATH = '/etc/mdns/gateway.yaml';
