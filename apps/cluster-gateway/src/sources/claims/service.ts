import { ANNOTATIONS, type SlimService } from '../slim.js';
import { foldAddresses, hasAddress, loadBalancerTargets } from './addresses.js';
import { claimHosts, emptyResult } from './build.js';
import { type ClaimContext, type ClaimResult, objectRef } from './context.js';
import { objectTtl } from './ttl.js';

/** The hosts a Service asks for, and which field they came from. */
export function serviceHosts(
  svc: SlimService,
  zones: readonly string[],
): { value: string; field: string }[] {
  for (const key of [ANNOTATIONS.corednsHostname, ANNOTATIONS.externalDnsHostname]) {
    const raw = svc.metadata.annotations[key];
    if (raw === undefined) continue;
    const field = `annotation ${key}`;
    return raw
      .split(',')
      .map((h) => h.trim())
      .filter((h) => h !== '')
      .map((value) => ({ value, field }));
  }
  const { name, namespace } = svc.metadata;
  return zones.map((zone) => ({
    value: zone === '' ? `${name}.${namespace}` : `${name}.${namespace}.${zone}`,
    field: 'metadata.name',
  }));
}

/**
 * Service of type LoadBalancer: annotated hosts, else `<name>.<namespace>.<zone>` per zone
 * -> `spec.externalIPs` when set, else `status.loadBalancer.ingress[]`.
 */
export function serviceClaims(svc: SlimService, ctx: ClaimContext): ClaimResult {
  const result = emptyResult();
  if (svc.type !== 'LoadBalancer') return result;
  const ref = objectRef('Service', svc.metadata);
  const addresses =
    svc.externalIPs.length > 0
      ? foldAddresses(svc.externalIPs, [], `${ref} spec.externalIPs`, result.warnings)
      : (() => {
          const { ips, hostnames } = loadBalancerTargets(svc.loadBalancer);
          return foldAddresses(
            ips,
            hostnames,
            `${ref} status.loadBalancer.ingress`,
            result.warnings,
          );
        })();
  if (!hasAddress(addresses)) return result;
  const ttl = objectTtl(svc.metadata, ctx.defaultTtl, ref, result.warnings);
  claimHosts(serviceHosts(svc, ctx.zones), addresses, ttl, ctx.zones, ref, result);
  return result;
}
