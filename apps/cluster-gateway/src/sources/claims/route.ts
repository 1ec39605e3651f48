import type { SlimGateway, SlimRoute } from '../slim.js';
import { objectKey } from '../slim.js';
import { addIp, foldAddresses, hasAddress } from './addresses.js';
import { annotatedTarget, extraHosts, objectTtl, reportUnsupported } from './annotations.js';
import { claimHosts, emptyResult } from './build.js';
import {
  type ClaimContext,
  type ClaimResult,
  type GatewayTarget,
  objectRef,
  type RejectReason,
} from './context.js';
import { checkTarget } from './names.js';

export type RouteKind = 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** The `namespace/name` of every parent that is a Gateway (other parent kinds publish no addresses). */
export function parentGatewayKeys(route: SlimRoute): string[] {
  const keys: string[] = [];
  for (const ref of route.parentRefs) {
    if (ref.group !== GATEWAY_GROUP || ref.kind !== 'Gateway') continue;
    const key = objectKey(ref);
    if (!keys.includes(key)) keys.push(key);
  }
  return keys;
}

/**
 * A Gateway's `status.addresses` (IPAddress -> A/AAAA, Hostname -> CNAME candidates), or
 * the external-dns `target` annotation instead when set and allowed
 * (`sources.annotations.target`), as external-dns does.
 */
export function gatewayTarget(
  gw: SlimGateway,
  targetAnnotation: boolean,
): {
  target: GatewayTarget;
  warnings: string[];
  rejected: RejectReason[];
} {
  const target: GatewayTarget = { a: [], aaaa: [], hostnames: [] };
  const report = { warnings: [] as string[], rejected: [] as RejectReason[] };
  const { warnings } = report;
  const ref = objectRef('Gateway', gw.metadata);
  reportUnsupported('Gateway', gw.metadata, ref, report);
  const annotated = annotatedTarget(gw.metadata, targetAnnotation, ref, report);
  if (annotated) {
    for (const value of annotated.values) {
      if (addIp(target, value)) continue;
      const t = checkTarget(value, `${ref} annotation ${annotated.key}`);
      if ('warning' in t) warnings.push(t.warning);
      else if (!target.hostnames.includes(t.name)) target.hostnames.push(t.name);
    }
    return { target, ...report };
  }
  for (const { type, value } of gw.addresses) {
    if (type === 'IPAddress') {
      if (!addIp(target, value))
        warnings.push(`${ref} status.addresses: "${value}" is not an IP address`);
    } else if (type === 'Hostname') {
      if (!target.hostnames.includes(value)) target.hostnames.push(value);
    } else {
      warnings.push(`${ref} status.addresses: type "${type}" is not supported`);
    }
  }
  return { target, ...report };
}

/**
 * HTTPRoute / GRPCRoute / TLSRoute: `spec.hostnames` plus the external-dns `hostname`
 * annotation -> addresses of every parent Gateway.
 */
export function routeClaims(kind: RouteKind, route: SlimRoute, ctx: ClaimContext): ClaimResult {
  const result = emptyResult();
  const ref = objectRef(kind, route.metadata);
  const ips: string[] = [];
  const hostnames: string[] = [];
  for (const key of parentGatewayKeys(route)) {
    const target = ctx.gateway(key);
    if (!target) continue;
    ips.push(...target.a, ...target.aaaa);
    hostnames.push(...target.hostnames);
  }
  const addresses = foldAddresses(
    ips,
    hostnames,
    `${ref} parent Gateway status.addresses`,
    result.warnings,
  );
  if (!hasAddress(addresses)) return result;
  const ttl = objectTtl(route.metadata, ctx.defaultTtl, ref, result);
  const hosts = [
    ...route.hostnames.map((value) => ({ value, field: 'spec.hostnames' })),
    ...extraHosts(route.metadata, ref, result.warnings),
  ];
  claimHosts(hosts, addresses, ttl, ctx.zones, ref, result);
  return result;
}
