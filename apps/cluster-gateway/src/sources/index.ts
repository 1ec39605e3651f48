import { newRejectionCounts } from './claims/context.js';
import { CompositeSource } from './composite.js';
import type { SourcesConfig } from './config.js';
import { compileFilters } from './filters.js';
import { loadKubeConfig } from './kubernetes/kubeconfig.js';
import { KubernetesSource } from './kubernetes/source.js';
import { ManifestsSource } from './manifests.js';
import { compileOwnership } from './ownership.js';
import type { IndexSink, Source, SourcesContext } from './types.js';

/** A source that cannot start: reports every kind as 'error' and rejects with the reason. */
function failedSource(config: SourcesConfig, error: string): Source {
  return {
    async start(sink: IndexSink) {
      for (const kind of config.resources) {
        sink.setKindState(kind, { phase: 'error', objects: 0, lastEventAt: null, message: error });
      }
      throw new Error(error);
    },
    async stop() {},
  };
}

/** Pure: whether the config enables any source (`createSources` returns one then). */
export function sourcesEnabled(config: SourcesConfig): boolean {
  return config.kubernetes.enabled || (config.manifests.enabled && !!config.manifests.directory);
}

/**
 * The sources the config enables: Kubernetes informers, a manifests directory, or both
 * (then combined into one source so their objects and kind states merge). Returns `[]`
 * when both are disabled. Configuration problems (bad selector, unloadable kubeconfig)
 * surface as a rejected `start()` with a message naming the field.
 */
export function createSources(config: SourcesConfig, ctx: SourcesContext): Source[] {
  const compiled = compileFilters(config.filters);
  if (!compiled.ok) return [failedSource(config, compiled.error)];
  const common = {
    kinds: config.resources,
    zones: ctx.zones,
    defaultTtl: ctx.defaultTtl,
    filters: compiled.filters,
    logger: ctx.logger,
    // One for both sources: the policy and the counters are the gateway's, not a source's.
    tenancy: {
      externalIPs: config.services.externalIPs,
      internalHostnames: config.services.internalHostnames,
      targetAnnotation: config.annotations.target,
      ownership: compileOwnership(config.ownership),
      rejected: ctx.rejected ?? newRejectionCounts(),
    },
  };
  const parts: { name: string; source: Source }[] = [];
  if (config.kubernetes.enabled) {
    const kc = loadKubeConfig(config.kubernetes);
    parts.push({
      name: 'kubernetes',
      source: kc.ok
        ? new KubernetesSource({
            ...common,
            kc: kc.kc,
            config: config.kubernetes,
            onAllListed: ctx.onKubernetesListed,
            health: config.health.enabled
              ? {
                  require: config.health.require,
                  graceMs: config.health.graceSeconds * 1000,
                  tally: ctx.healthTally,
                }
              : null,
          })
        : failedSource(config, kc.error),
    });
  }
  if (config.manifests.enabled && config.manifests.directory) {
    parts.push({
      name: 'manifests',
      source: new ManifestsSource({ ...common, directory: config.manifests.directory }),
    });
  }
  if (parts.length <= 1) return parts.map((p) => p.source);
  return [new CompositeSource(parts)];
}
