import { isIP } from 'node:net';
import type { SlimDnsEndpoint } from '../slim.js';
import type { Claim } from '../types.js';
import { emptyResult } from './build.js';
import { type ClaimContext, type ClaimResult, objectRef } from './context.js';
import { checkHost, checkTarget } from './names.js';
import { objectTtl, parseTtl } from './ttl.js';

/**
 * DNSEndpoint: each `spec.endpoints[i]` claims its own `dnsName` with only its own
 * targets (unlike k8s_gateway, which gives every name all targets of the object).
 * Endpoints of one object naming the same host (an A and an AAAA entry) merge.
 */
export function dnsEndpointClaims(obj: SlimDnsEndpoint, ctx: ClaimContext): ClaimResult {
  const result = emptyResult();
  const ref = objectRef('DNSEndpoint', obj.metadata);
  const objectDefault = objectTtl(obj.metadata, ctx.defaultTtl, ref, result);
  const byName = new Map<string, Claim>();
  obj.endpoints.forEach((ep, i) => {
    const where = `${ref} spec.endpoints[${i}]`;
    const host = checkHost(ep.dnsName, ctx.zones, `${where}.dnsName`);
    if (!host.ok) {
      if ('warning' in host) result.warnings.push(host.warning);
      else result.outside.push(host.outside);
      return;
    }
    let ttl = objectDefault;
    if (ep.recordTTL !== undefined) {
      const parsed = parseTtl(ep.recordTTL);
      if (parsed === null) {
        result.warnings.push(
          `${where}.recordTTL: ${JSON.stringify(ep.recordTTL)} is not an integer; using ${ttl}`,
        );
      } else {
        ttl = parsed;
      }
    }
    let claim = byName.get(host.name);
    if (!claim) {
      claim = { name: host.name, a: [], aaaa: [], txt: [], ttl };
      byName.set(host.name, claim);
    } else {
      claim.ttl = Math.min(claim.ttl, ttl);
    }
    addTargets(claim, ep.recordType.toUpperCase(), ep.targets, `${where}.targets`, result);
  });
  for (const claim of byName.values()) {
    if (claim.cname !== undefined && (claim.a.length || claim.aaaa.length || claim.txt.length)) {
      result.warnings.push(
        `${ref}: ${claim.name} has a CNAME beside other records; the CNAME is dropped`,
      );
      delete claim.cname;
    }
    if (claim.a.length || claim.aaaa.length || claim.txt.length || claim.cname !== undefined) {
      result.claims.push(claim);
    }
  }
  return result;
}

function addTargets(
  claim: Claim,
  type: string,
  targets: string[],
  where: string,
  result: ClaimResult,
): void {
  const warnings = result.warnings;
  switch (type) {
    case 'A':
    case 'AAAA': {
      const family = type === 'A' ? 4 : 6;
      const into = type === 'A' ? claim.a : claim.aaaa;
      for (const t of targets) {
        const ip = t.trim().toLowerCase();
        if (isIP(ip) !== family) warnings.push(`${where}: "${t}" is not an IPv${family} address`);
        else if (!into.includes(ip)) into.push(ip);
      }
      return;
    }
    case 'CNAME':
      for (const t of targets) {
        const target = checkTarget(t, where);
        if ('warning' in target) warnings.push(target.warning);
        else if (claim.cname === undefined) claim.cname = target.name;
        else if (claim.cname !== target.name)
          warnings.push(`${where}: second CNAME target "${t}" ignored`);
      }
      return;
    case 'TXT':
      for (const t of targets) {
        const problem = txtProblem(t);
        if (problem !== null) {
          warnings.push(`${where}: TXT value ${preview(t)} skipped: ${problem}`);
          result.rejected.push('txt');
        } else if (!claim.txt.includes(t)) claim.txt.push(t);
      }
      return;
    default:
      warnings.push(`${where}: record type ${type} is not supported (A, AAAA, CNAME, TXT)`);
  }
}

/**
 * Bytes one TXT value may have. The answer splits it into 255-byte strings; 4096 bytes
 * (a 4096-bit DKIM key is ~800) keeps even several values of one name inside a TCP answer.
 */
export const MAX_TXT_BYTES = 4096;

// A UTF-16 surrogate without its pair has no UTF-8 form (it would be sent as U+FFFD).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a TXT value cannot be served, or null. Counted in UTF-8 bytes, as on the wire. */
export function txtProblem(value: string): string | null {
  if (LONE_SURROGATE.test(value)) return 'it is not valid Unicode (a lone surrogate)';
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_TXT_BYTES) return `it is ${bytes} bytes (max ${MAX_TXT_BYTES})`;
  return null;
}

function preview(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
}
