import { isIP } from 'node:net';
import type { LoadBalancerIngress } from '../slim.js';
import { checkTarget } from './names.js';

/** What the names of one object point at. */
export interface Addresses {
  a: string[];
  aaaa: string[];
  cname?: string;
}

function pushUnique(list: string[], v: string): void {
  if (!list.includes(v)) list.push(v);
}

/** Adds an IP to the A or AAAA list by family; false when it is not an IP at all. */
export function addIp(into: { a: string[]; aaaa: string[] }, ip: string): boolean {
  const family = isIP(ip.trim());
  if (family === 4) pushUnique(into.a, ip.trim());
  else if (family === 6) pushUnique(into.aaaa, ip.trim().toLowerCase());
  else return false;
  return true;
}

/**
 * Folds IPs and host names into Addresses. A name cannot hold a CNAME beside A/AAAA
 * (RFC 1034 3.6.2), so IPs win when both are present and the first host name is the
 * CNAME otherwise; the loser is reported so the user sees why a target is unused.
 */
export function foldAddresses(
  ips: readonly string[],
  hostnames: readonly string[],
  where: string,
  warnings: string[],
): Addresses {
  const out: Addresses = { a: [], aaaa: [] };
  for (const ip of ips) {
    if (!addIp(out, ip)) warnings.push(`${where}: "${ip}" is not an IP address`);
  }
  const targets: string[] = [];
  for (const h of hostnames) {
    const t = checkTarget(h, where);
    if ('warning' in t) warnings.push(t.warning);
    else pushUnique(targets, t.name);
  }
  if (targets.length === 0) return out;
  if (out.a.length > 0 || out.aaaa.length > 0) {
    warnings.push(`${where}: host names ${targets.join(', ')} ignored beside IP addresses`);
  } else {
    out.cname = targets[0];
    if (targets.length > 1) {
      warnings.push(`${where}: only the first host name ${targets[0]} is used as CNAME target`);
    }
  }
  return out;
}

/** Splits `status.loadBalancer.ingress[]` into IPs and host names. */
export function loadBalancerTargets(ingress: readonly LoadBalancerIngress[]): {
  ips: string[];
  hostnames: string[];
} {
  const ips: string[] = [];
  const hostnames: string[] = [];
  for (const i of ingress) {
    if (i.ip) ips.push(i.ip);
    else if (i.hostname) hostnames.push(i.hostname);
  }
  return { ips, hostnames };
}

export function hasAddress(a: Addresses): boolean {
  return a.a.length > 0 || a.aaaa.length > 0 || a.cname !== undefined;
}

/** A `target` annotation's values: IPs -> A/AAAA, else the first host name -> CNAME. */
export function foldTarget(
  target: { key: string; values: string[] },
  ref: string,
  warnings: string[],
): Addresses {
  const ips: string[] = [];
  const hostnames: string[] = [];
  for (const v of target.values) (isIpLike(v) ? ips : hostnames).push(v);
  return foldAddresses(ips, hostnames, `${ref} annotation ${target.key}`, warnings);
}

/** Looks like an address (so a typo such as 10.0.0.300 is reported as a bad IP, not taken as a name). */
function isIpLike(v: string): boolean {
  return /^[0-9.]+$/.test(v) || v.includes(':');
}
