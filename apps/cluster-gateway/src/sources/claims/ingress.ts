import type { SlimIngress } from '../slim.js';
import { foldAddresses, hasAddress, loadBalancerTargets } from './addresses.js';
import { claimHosts, emptyResult } from './build.js';
import { type ClaimContext, type ClaimResult, objectRef } from './context.js';
import { objectTtl } from './ttl.js';

/** Ingress: every `spec.rules[].host` -> `status.loadBalancer.ingress[]` (ip, or hostname as CNAME). */
export function ingressClaims(ing: SlimIngress, ctx: ClaimContext): ClaimResult {
  const result = emptyResult();
  const ref = objectRef('Ingress', ing.metadata);
  const { ips, hostnames } = loadBalancerTargets(ing.loadBalancer);
  const addresses = foldAddresses(
    ips,
    hostnames,
    `${ref} status.loadBalancer.ingress`,
    result.warnings,
  );
  // Load balancer still pending: no name yet, so the name stays NXDOMAIN.
  if (!hasAddress(addresses)) return result;
  const ttl = objectTtl(ing.metadata, ctx.defaultTtl, ref, result.warnings);
  const hosts = ing.hosts.map((value) => ({ value, field: 'spec.rules[].host' }));
  claimHosts(hosts, addresses, ttl, ctx.zones, ref, result);
  return result;
}
