import { isExcluded, KEYS } from './claims/annotations.js';
import type { SourcesConfig } from './config.js';
import { type LabelSelector, matchesLabels, parseLabelSelector } from './label-selector.js';
import type { SlimGateway, SlimIngress, SlimMeta } from './slim.js';

/** The `filters:` config, compiled once. */
export interface Filters {
  ingressClasses: ReadonlySet<string>;
  gatewayClasses: ReadonlySet<string>;
  namespaces: ReadonlySet<string>;
  labelSelector: LabelSelector;
  /** The raw selector, passed to the API server as `labelSelector`. */
  labelSelectorText: string;
}

export function compileFilters(
  f: SourcesConfig['filters'],
): { ok: true; filters: Filters } | { ok: false; error: string } {
  const sel = parseLabelSelector(f.labelSelector);
  if (!sel.ok) return { ok: false, error: `filters.labelSelector: ${sel.error}` };
  return {
    ok: true,
    filters: {
      ingressClasses: new Set(f.ingressClasses),
      gatewayClasses: new Set(f.gatewayClasses),
      namespaces: new Set(f.namespaces),
      labelSelector: sel.selector,
      labelSelectorText: f.labelSelector.trim(),
    },
  };
}

/**
 * Namespace and label filters, and the per-object exclusion (`mdns.io/exclude`, the
 * k8s_gateway fork's `k8s-gateway.dns/ignore`), common to every kind but Gateways.
 */
export function admitsMeta(f: Filters, meta: SlimMeta): boolean {
  if (isExcluded(meta)) return false;
  if (f.namespaces.size > 0 && !f.namespaces.has(meta.namespace)) return false;
  return matchesLabels(f.labelSelector, meta.labels);
}

/** `spec.ingressClassName`, else the legacy `kubernetes.io/ingress.class` annotation. */
export function ingressClassOf(ing: SlimIngress): string | undefined {
  return ing.ingressClassName ?? ing.metadata.annotations[KEYS.ingressClass];
}

export function admitsIngress(f: Filters, ing: SlimIngress): boolean {
  if (!admitsMeta(f, ing.metadata)) return false;
  if (f.ingressClasses.size === 0) return true;
  const cls = ingressClassOf(ing);
  return cls !== undefined && f.ingressClasses.has(cls);
}

/**
 * Gateways are filtered by class only: a route in namespace `app` commonly names a Gateway
 * in `infra`, and the route's labels say nothing about the Gateway's.
 */
export function admitsGateway(f: Filters, gw: SlimGateway): boolean {
  if (isExcluded(gw.metadata)) return false;
  if (f.gatewayClasses.size === 0) return true;
  return gw.gatewayClassName !== undefined && f.gatewayClasses.has(gw.gatewayClassName);
}
