import type { SlimIngress } from '../slim.js';
import {
  type Addresses,
  foldAddresses,
  foldTarget,
  hasAddress,
  loadBalancerTargets,
} from './addresses.js';
import { annotatedTarget, extraHosts, objectTtl } from './annotations.js';
import { claimHosts, emptyResult } from './build.js';
import { type ClaimContext, type ClaimResult, objectRef } from './context.js';

/**
 * Ingress: every `spec.rules[].host`, plus the external-dns `hostname` annotation ->
 * the external-dns `target` annotation when set, else `status.loadBalancer.ingress[]`
 * (ip, or hostname as CNAME).
 */
export function ingressClaims(ing: SlimIngress, ctx: ClaimContext): ClaimResult {
  const result = emptyResult();
  const ref = objectRef('Ingress', ing.metadata);
  const target = annotatedTarget(ing.metadata, ctx.targetAnnotation, ref, result);
  let addresses: Addresses;
  if (target) {
    addresses = foldTarget(target, ref, result.warnings);
  } else {
    const { ips, hostnames } = loadBalancerTargets(ing.loadBalancer);
    addresses = foldAddresses(
      ips,
      hostnames,
      `${ref} status.loadBalancer.ingress`,
      result.warnings,
    );
  }
  // Load balancer still pending: no name yet, so the name stays NXDOMAIN.
  if (!hasAddress(addresses)) return result;
  const ttl = objectTtl(ing.metadata, ctx.defaultTtl, ref, result);
  const hosts = [
    ...ing.hosts.map((value) => ({ value, field: 'spec.rules[].host' })),
    ...extraHosts(ing.metadata, ref, result.warnings),
  ];
  claimHosts(hosts, addresses, ttl, ctx.zones, ref, result);
  return result;
}
