import type { SlimService } from '../slim.js';
import {
  type Addresses,
  foldAddresses,
  foldTarget,
  hasAddress,
  loadBalancerTargets,
} from './addresses.js';
import {
  type AnnotatedHost,
  annotatedTarget,
  commaList,
  externalDnsAnnotation,
  hasAnnotatedHosts,
  KEYS,
  objectTtl,
  serviceAnnotatedHosts,
  switchAnnotation,
} from './annotations.js';
import { claimHosts, emptyResult } from './build.js';
import { type ClaimContext, type ClaimResult, objectRef } from './context.js';
import { inServedZone } from './names.js';

/** The hosts a Service asks for (annotations, see annotations.ts), else `<name>.<namespace>` per zone. */
export function serviceHosts(
  svc: SlimService,
  zones: readonly string[],
  ref: string,
  warnings: string[],
): AnnotatedHost[] {
  const annotated = serviceAnnotatedHosts(
    svc.metadata,
    zones,
    (h) => inServedZone(h, zones),
    ref,
    warnings,
  );
  if (annotated !== undefined) return annotated;
  const { name, namespace } = svc.metadata;
  return zones.map((zone) => ({
    value: zone === '' ? `${name}.${namespace}` : `${name}.${namespace}.${zone}`,
    field: 'metadata.name',
  }));
}

/**
 * The addresses of a LoadBalancer Service: `spec.externalIPs` when
 * `sources.services.externalIPs` allows them and they are set, else
 * `status.loadBalancer.ingress[]`. Any tenant may write any address into
 * `spec.externalIPs` (CVE-2020-8554), while the load balancer status is written by the
 * cloud controller: so externalIPs are off unless the cluster admin turns them on.
 */
function loadBalancerAddresses(
  svc: SlimService,
  ctx: ClaimContext,
  ref: string,
  result: ClaimResult,
): Addresses {
  if (svc.externalIPs.length > 0 && !ctx.externalIPs) {
    result.warnings.push(
      `${ref} spec.externalIPs ${svc.externalIPs.join(', ')} ignored (sources.services.externalIPs is false); using status.loadBalancer.ingress`,
    );
    result.rejected.push('external_ips');
  }
  if (svc.externalIPs.length > 0 && ctx.externalIPs) {
    return foldAddresses(svc.externalIPs, [], `${ref} spec.externalIPs`, result.warnings);
  }
  const { ips, hostnames } = loadBalancerTargets(svc.loadBalancer);
  return foldAddresses(ips, hostnames, `${ref} status.loadBalancer.ingress`, result.warnings);
}

/**
 * A headless Service that names its hosts (external-dns publishes these): the addresses of
 * its ready endpoints, as in-cluster DNS answers for it. None ready: no name, like a pending
 * load balancer. Without EndpointSlices (`sources.health` off, manifests): a warning.
 */
function endpointAddresses(
  svc: SlimService,
  ctx: ClaimContext,
  ref: string,
  result: ClaimResult,
): Addresses | undefined {
  if (!ctx.endpoints) {
    result.warnings.push(
      `${ref}: a headless Service is published with its ready endpoints, which need EndpointSlices (sources.health.enabled, Kubernetes source); not published`,
    );
    result.rejected.push('unsupported');
    return undefined;
  }
  const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
  return foldAddresses(ctx.endpoints(key), [], `${ref} EndpointSlices`, result.warnings);
}

/** Cluster IPs as addresses; undefined (with a warning naming `key`) for a headless Service. */
function clusterAddresses(
  svc: SlimService,
  key: string,
  ref: string,
  result: ClaimResult,
): Addresses | undefined {
  if (svc.clusterIPs.length === 0) {
    result.warnings.push(
      `${ref}: annotation ${key} ignored: a headless Service (clusterIP None) has no cluster IP to publish`,
    );
    result.rejected.push('unsupported');
    return undefined;
  }
  return foldAddresses(svc.clusterIPs, [], `${ref} spec.clusterIPs`, result.warnings);
}

/**
 * Service: annotated hosts, else `<name>.<namespace>.<zone>` per zone, pointing at the
 * external-dns `target` annotation when set, else:
 * - type LoadBalancer: its load balancer addresses (see loadBalancerAddresses);
 * - with `mdns.io/publish-cluster-ip: "true"` (any other type): its cluster IPs;
 * - otherwise nothing (ClusterIP and headless Services stay internal unless asked).
 * The external-dns `internal-hostname` annotation adds names for the cluster IPs, when
 * `sources.services.internalHostnames` is on.
 */
export function serviceClaims(svc: SlimService, ctx: ClaimContext): ClaimResult {
  const result = emptyResult();
  const ref = objectRef('Service', svc.metadata);
  const publishClusterIp = switchAnnotation(svc.metadata, KEYS.publishClusterIp, ref, result);
  const target = annotatedTarget(svc.metadata, ctx.targetAnnotation, ref, result);
  let addresses: Addresses | undefined;
  if (svc.type === 'LoadBalancer') {
    addresses = target
      ? foldTarget(target, ref, result.warnings)
      : loadBalancerAddresses(svc, ctx, ref, result);
  } else if (svc.headless && hasAnnotatedHosts(svc.metadata) && !publishClusterIp) {
    addresses = target
      ? foldTarget(target, ref, result.warnings)
      : endpointAddresses(svc, ctx, ref, result);
  } else if (publishClusterIp) {
    addresses = target
      ? foldTarget(target, ref, result.warnings)
      : clusterAddresses(svc, KEYS.publishClusterIp, ref, result);
  }
  const ttl = objectTtl(svc.metadata, ctx.defaultTtl, ref, result);
  if (addresses && hasAddress(addresses)) {
    claimHosts(
      serviceHosts(svc, ctx.zones, ref, result.warnings),
      addresses,
      ttl,
      ctx.zones,
      ref,
      result,
    );
  }
  internalHostnameClaims(svc, ctx, ttl, ref, result);
  return result;
}

/** external-dns `internal-hostname`: names for the cluster IPs (opt-in by config). */
function internalHostnameClaims(
  svc: SlimService,
  ctx: ClaimContext,
  ttl: number,
  ref: string,
  result: ClaimResult,
): void {
  const internal = externalDnsAnnotation(svc.metadata, 'internal-hostname', ref, result.warnings);
  if (internal === undefined) return;
  if (!ctx.internalHostnames) {
    result.warnings.push(
      `${ref}: annotation ${internal.key} ignored (sources.services.internalHostnames is false)`,
    );
    result.rejected.push('unsupported');
    return;
  }
  const addresses = clusterAddresses(svc, internal.key, ref, result);
  if (!addresses) return;
  const taken = new Set(result.claims.map((c) => c.name));
  const field = `annotation ${internal.key}`;
  const hosts = commaList(internal.value).map((value) => ({ value, field }));
  const before = result.claims.length;
  claimHosts(hosts, addresses, ttl, ctx.zones, ref, result);
  const added = result.claims.splice(before);
  for (const claim of added) {
    if (taken.has(claim.name)) {
      result.warnings.push(
        `${ref} ${field}: ${claim.name} is also a public host name of this Service; the public addresses win`,
      );
    } else {
      result.claims.push(claim);
    }
  }
}
