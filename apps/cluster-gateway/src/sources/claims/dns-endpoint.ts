import { isIP } from 'node:net';
import { extraRecord } from '@mdns/protocol';
import type { SlimDnsEndpoint } from '../slim.js';
import type { Claim, ExtraRecord } from '../types.js';
import { emptyResult } from './build.js';
import { type ClaimContext, type ClaimResult, objectRef } from './context.js';
import { checkHost, checkTarget } from './names.js';
import { objectTtl, parseTtl } from './ttl.js';

/** One name's records from one object, with the TTL each of its RRsets asked for. */
interface NameBuild {
  claim: Claim;
  /** Smallest `recordTTL` among the endpoints of each type (A, AAAA, TXT, CNAME). */
  ttls: Map<'A' | 'AAAA' | 'TXT' | 'CNAME', number>;
}

/**
 * DNSEndpoint: each `spec.endpoints[i]` claims its own `dnsName` with only its own
 * targets (unlike k8s_gateway, which gives every name all targets of the object).
 * Endpoints of one object naming the same host (an A and an AAAA entry) merge; each
 * RRset keeps its own endpoint's TTL (see `splitByTtl`).
 */
export function dnsEndpointClaims(obj: SlimDnsEndpoint, ctx: ClaimContext): ClaimResult {
  const result = emptyResult();
  const ref = objectRef('DNSEndpoint', obj.metadata);
  const objectDefault = objectTtl(obj.metadata, ctx.defaultTtl, ref, result);
  const byName = new Map<string, NameBuild>();
  obj.endpoints.forEach((ep, i) => {
    const where = `${ref} spec.endpoints[${i}]`;
    const host = checkHost(ep.dnsName, ctx.zones, `${where}.dnsName`, { underscoreLabels: true });
    if (!host.ok) {
      if ('warning' in host) result.warnings.push(host.warning);
      else result.outside.push(host.outside);
      return;
    }
    // external-dns routing policies (weighted, geo, ...) and provider options: one name
    // here has one set of records, so they cannot apply; the records are served as given.
    if (ep.setIdentifier !== undefined) {
      result.warnings.push(
        `${where}.setIdentifier: ${JSON.stringify(ep.setIdentifier)} ignored (no routing policies here); its targets are served`,
      );
      result.rejected.push('endpoint_field');
    }
    if (ep.providerSpecific) {
      result.warnings.push(`${where}.providerSpecific: ignored (no provider options here)`);
      result.rejected.push('endpoint_field');
    }
    let ttl = objectDefault;
    if (ep.recordTTL !== undefined) {
      const parsed = parseTtl(ep.recordTTL);
      if (parsed === null) {
        result.warnings.push(
          `${where}.recordTTL: ${JSON.stringify(ep.recordTTL)} is not an integer; using ${ttl}`,
        );
        // A value mdns cannot read, as a bad ttl annotation: counted, never a silent fallback.
        result.rejected.push('unsupported');
      } else {
        ttl = parsed;
      }
    }
    let build = byName.get(host.name);
    if (!build) {
      build = { claim: { name: host.name, a: [], aaaa: [], txt: [], ttl }, ttls: new Map() };
      byName.set(host.name, build);
    }
    const type = ep.recordType.toUpperCase();
    addTargets(build.claim, type, ep.targets, `${where}.targets`, result, ttl);
    if (type === 'A' || type === 'AAAA' || type === 'TXT' || type === 'CNAME') {
      build.ttls.set(type, Math.min(build.ttls.get(type) ?? ttl, ttl));
    }
  });
  for (const { claim, ttls } of byName.values()) {
    const extras = claim.extra?.length ?? 0;
    if (
      claim.cname !== undefined &&
      (claim.a.length || claim.aaaa.length || claim.txt.length || extras)
    ) {
      result.warnings.push(
        `${ref}: ${claim.name} has a CNAME beside other records; the CNAME is dropped`,
      );
      delete claim.cname;
    }
    if (
      claim.a.length ||
      claim.aaaa.length ||
      claim.txt.length ||
      extras ||
      claim.cname !== undefined
    ) {
      result.claims.push(...splitByTtl(claim, ttls));
    }
  }
  return result;
}

/**
 * Pure: one name's records as claims of one TTL each. A claim has one `ttl` for its
 * A/AAAA/TXT/CNAME values, and the index gives each RRset the smallest TTL of the claims
 * holding that type: so an A endpoint with recordTTL 30 and a TXT endpoint with 3600 on
 * one name become two claims, and neither RRset takes the other's TTL. Types sharing a
 * TTL stay in one claim (the common case: one claim per name). SRV/MX/CAA/PTR carry
 * their own TTL per record and ride on the first claim.
 */
export function splitByTtl(
  claim: Claim,
  ttls: ReadonlyMap<'A' | 'AAAA' | 'TXT' | 'CNAME', number>,
): Claim[] {
  const present = (['A', 'AAAA', 'TXT', 'CNAME'] as const).filter((type) =>
    type === 'A'
      ? claim.a.length > 0
      : type === 'AAAA'
        ? claim.aaaa.length > 0
        : type === 'TXT'
          ? claim.txt.length > 0
          : claim.cname !== undefined,
  );
  const distinct = [...new Set(present.map((type) => ttls.get(type) ?? claim.ttl))];
  if (distinct.length === 0) return [claim];
  if (distinct.length === 1) return [{ ...claim, ttl: distinct[0] }];
  return distinct.map((ttl, i) => {
    const part: Claim = { name: claim.name, a: [], aaaa: [], txt: [], ttl };
    for (const type of present) {
      if ((ttls.get(type) ?? claim.ttl) !== ttl) continue;
      if (type === 'A') part.a = claim.a;
      else if (type === 'AAAA') part.aaaa = claim.aaaa;
      else if (type === 'TXT') part.txt = claim.txt;
      else part.cname = claim.cname;
    }
    if (i === 0 && claim.extra) part.extra = claim.extra;
    return part;
  });
}

function addTargets(
  claim: Claim,
  type: string,
  targets: string[],
  where: string,
  result: ClaimResult,
  ttl: number,
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
    case 'SRV':
    case 'MX':
    case 'CAA':
    case 'PTR':
      for (const t of targets) {
        const parsed = parseExtraTarget(type, t, ttl);
        if ('error' in parsed) {
          warnings.push(`${where}: ${type} target "${t}" skipped: ${parsed.error}`);
          result.rejected.push('unsupported');
        } else {
          claim.extra ??= [];
          if (!claim.extra.some((r) => r.type === type && r.text === parsed.text)) {
            claim.extra.push(parsed);
          }
        }
      }
      return;
    case 'NS':
      warnings.push(
        `${where}: record type NS refused: delegating a name away from the gateway is not supported`,
      );
      result.rejected.push('record_type');
      return;
    default:
      warnings.push(
        `${where}: record type ${type} is not supported (A, AAAA, CNAME, TXT, SRV, MX, CAA, PTR)`,
      );
      result.rejected.push('record_type');
  }
}

const U16 = /^\d{1,5}$/;
const u16 = (s: string): number | null => (U16.test(s) && Number(s) <= 65535 ? Number(s) : null);

/** A host name in a target (SRV target, MX exchange, PTR): RFC 1123, normalized. */
function targetName(raw: string): string | { error: string } {
  const target = checkTarget(raw, 'target');
  return 'warning' in target ? { error: 'not a valid host name' } : target.name;
}

/**
 * Pure: one external-dns target of an SRV (`priority weight port target`), MX
 * (`preference exchange`), CAA (`flags tag "value"`) or PTR (`host`) endpoint.
 */
export function parseExtraTarget(
  type: ExtraRecord['type'],
  raw: string,
  ttl: number,
): ExtraRecord | { error: string } {
  const text = raw.trim();
  if (type === 'PTR') {
    const name = targetName(text);
    return typeof name === 'string' ? extraRecord({ type, data: name }, ttl) : name;
  }
  if (type === 'CAA') {
    const m = /^(\d{1,3})\s+([A-Za-z0-9]{1,15})\s+(?:"(.*)"|(\S.*))$/.exec(text);
    if (!m || Number(m[1]) > 255)
      return { error: 'expected flags tag "value", e.g. 0 issue "letsencrypt.org"' };
    const flags = Number(m[1]);
    const tag = m[2].toLowerCase();
    const value = m[3] ?? m[4];
    return extraRecord({ type, data: { flags, tag, value } }, ttl);
  }
  const fields = text.split(/\s+/);
  if (type === 'MX') {
    const preference = u16(fields[0] ?? '');
    if (fields.length !== 2 || preference === null)
      return { error: 'expected preference exchange, e.g. 10 mail.example.com' };
    const exchange = targetName(fields[1]);
    if (typeof exchange !== 'string') return exchange;
    return extraRecord({ type, data: { preference, exchange } }, ttl);
  }
  const [priority, weight, port] = fields.slice(0, 3).map(u16);
  if (fields.length !== 4 || priority === null || weight === null || port === null) {
    return { error: 'expected priority weight port target, e.g. 10 5 443 web.example.com' };
  }
  const target = targetName(fields[3]);
  if (typeof target !== 'string') return target;
  return extraRecord({ type, data: { priority, weight, port, target } }, ttl);
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
