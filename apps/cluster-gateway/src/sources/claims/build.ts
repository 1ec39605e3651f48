import type { Claim } from '../types.js';
import type { Addresses } from './addresses.js';
import type { ClaimResult } from './context.js';
import { checkHost } from './names.js';

export function emptyResult(): ClaimResult {
  return { claims: [], warnings: [], outside: [], rejected: [] };
}

/**
 * One claim per distinct valid in-zone host, all pointing at the same addresses.
 * `hosts` pairs each raw host with the field it came from, for the warning text.
 */
export function claimHosts(
  hosts: readonly { value: string; field: string }[],
  addresses: Addresses,
  ttl: number,
  zones: readonly string[],
  ref: string,
  result: ClaimResult,
): void {
  const seen = new Set<string>();
  for (const { value, field } of hosts) {
    const check = checkHost(value, zones, `${ref} ${field}`);
    if (!check.ok) {
      if ('warning' in check) result.warnings.push(check.warning);
      else result.outside.push(check.outside);
      continue;
    }
    if (seen.has(check.name)) continue;
    seen.add(check.name);
    result.claims.push(claimOf(check.name, addresses, ttl));
  }
}

export function claimOf(name: string, addresses: Addresses, ttl: number): Claim {
  const claim: Claim = { name, a: [...addresses.a], aaaa: [...addresses.aaaa], txt: [], ttl };
  if (addresses.cname !== undefined) claim.cname = addresses.cname;
  return claim;
}
