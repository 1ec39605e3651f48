import type { EnvOverride } from '@mdns/ops';

/**
 * Settings a Deployment's `env:` sets per pod without templating the YAML. Each overrides
 * one field of the file before validation, so a bad value is reported naming the variable.
 * The authority hot-reloads its file; an override applies to every reload too.
 */
export const AUTHORITY_ENV_OVERRIDES: readonly EnvOverride[] = [
  // The pod IP (downward API `status.podIP`): /metrics, /health and /ready bind to it only.
  { env: 'MDNS_OPS_HOST', path: ['ops', 'host'] },
];
