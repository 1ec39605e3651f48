import { ANNOTATIONS, type SlimService } from '../slim.js';
import { type Addresses, foldAddresses, hasAddress, loadBalancerTargets } from './addresses.js';
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
 * -> `spec.externalIPs` when `sources.services.externalIPs` allows them and they are set,
 * else `status.loadBalancer.ingress[]`. Any tenant may write any address into
 * `spec.externalIPs` (CVE-2020-8554), while the load balancer status is written by the
 * cloud controller: so externalIPs are off unless the cluster admin turns them on.
 */
export function serviceClaims(svc: SlimService, ctx: ClaimContext): ClaimResult {
  const result = emptyResult();
  if (svc.type !== 'LoadBalancer') return result;
  const ref = objectRef('Service', svc.metadata);
  const useExternalIPs = svc.externalIPs.length > 0 && ctx.externalIPs;
  if (svc.externalIPs.length > 0 && !ctx.externalIPs) {
    result.warnings.push(
      `${ref} spec.externalIPs ${svc.externalIPs.join(', ')} ignored (sources.services.externalIPs is false); using status.loadBalancer.ingress`,
    );
    result.rejected.push('external_ips');
  }
  let addresses: Addresses;
  if (useExternalIPs) {
    addresses = foldAddresses(svc.externalIPs, [], `${ref} spec.externalIPs`, result.warnings);
  } else {
    const { ips, hostnames } = loadBalancerTargets(svc.loadBalancer);
    addresses = foldAddresses(
      ips,
      hostnames,
      `${ref} status.loadBalancer.ingress`,
      result.warnings,
    );
  }
  if (!hasAddress(addresses)) return result;
  const ttl = objectTtl(svc.metadata, ctx.defaultTtl, ref, result.warnings);
  claimHosts(serviceHosts(svc, ctx.zones), addresses, ttl, ctx.zones, ref, result);
  return result;
}
