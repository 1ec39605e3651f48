import type { Claim, SourceKind } from '../sources/types.js';

/**
 * The records one name answers with, after merging every claim on it. Immutable once built:
 * the answer builder and the response cache may hold on to it.
 */
export interface NameRecords {
  readonly a: readonly string[];
  readonly aaaa: readonly string[];
  /** Target of a CNAME (a cloud load balancer's host name); `null` when the name has addresses. */
  readonly cname: string | null;
  readonly txt: readonly string[];
  readonly ttl: number;
  /** The kind whose claims won this name. */
  readonly kind: SourceKind;
}

/** The order k8s_gateway uses when the configured `resources` list does not say otherwise. */
export const DEFAULT_KIND_ORDER: readonly SourceKind[] = [
  'HTTPRoute',
  'TLSRoute',
  'GRPCRoute',
  'Ingress',
  'Service',
  'DNSEndpoint',
];

function sortedUnique(values: string[]): string[] {
  if (values.length <= 1) return values;
  return [...new Set(values)].sort();
}

/**
 * Merges the claims that objects of ONE kind make on one name: a union of their addresses and
 * texts, deduplicated and sorted so the answer does not depend on event order.
 *
 * A CNAME cannot live beside other data (RFC 1034 3.6.2), so one choice is made here:
 * addresses win over a host name (an object that has both an IP and a load balancer host name
 * is answered by its IPs, which needs no second lookup) and a CNAME, when it stays, drops the
 * TXT records. Among several host names the smallest wins, again for stability.
 * The TTL is the smallest any claim asked for, so no claimant's TTL is stretched.
 */
export function mergeClaims(kind: SourceKind, claims: readonly Claim[]): NameRecords | null {
  const a: string[] = [];
  const aaaa: string[] = [];
  const txt: string[] = [];
  let cname: string | null = null;
  let ttl = Number.POSITIVE_INFINITY;
  for (const claim of claims) {
    for (const ip of claim.a) a.push(ip);
    for (const ip of claim.aaaa) aaaa.push(ip.toLowerCase());
    for (const t of claim.txt) txt.push(t);
    if (claim.cname && (cname === null || claim.cname < cname)) cname = claim.cname;
    if (claim.ttl < ttl) ttl = claim.ttl;
  }
  const hasAddress = a.length > 0 || aaaa.length > 0;
  if (!hasAddress && cname === null && txt.length === 0) return null;
  if (hasAddress) cname = null;
  return {
    a: sortedUnique(a),
    aaaa: sortedUnique(aaaa),
    cname,
    txt: cname === null ? sortedUnique(txt) : [],
    ttl: Number.isFinite(ttl) ? Math.max(0, Math.floor(ttl)) : 0,
    kind,
  };
}

/** Two merge results answer the same way (so the index generation need not move). */
export function sameRecords(x: NameRecords | null, y: NameRecords | null): boolean {
  if (x === y) return true;
  if (x === null || y === null) return false;
  return (
    x.kind === y.kind &&
    x.ttl === y.ttl &&
    x.cname === y.cname &&
    sameList(x.a, y.a) &&
    sameList(x.aaaa, y.aaaa) &&
    sameList(x.txt, y.txt)
  );
}

function sameList(x: readonly string[], y: readonly string[]): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
