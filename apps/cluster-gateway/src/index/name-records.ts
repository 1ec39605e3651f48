import { chooseCname } from '@mdns/protocol';
import { SOURCE_KINDS } from '../sources/kinds.js';
import type { Claim, ExtraRecord, ExtraType, SourceKind } from '../sources/types.js';

/** An SRV/MX/CAA/PTR record of a name; `ttl` is its RRset's (the smallest asked for). */
export type ExtraRecordWithTtl = ExtraRecord;

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
  /** SRV, MX, CAA, PTR (DNSEndpoint): sorted by type, then presentation text. */
  readonly extra: readonly ExtraRecordWithTtl[];
  /**
   * TTL per RRset: each is the smallest TTL among the claims that contributed to that
   * type, so a DNSEndpoint's A endpoint with recordTTL 120 keeps 120 beside a TXT
   * endpoint of the same name with the default TTL. `ttl` is the CNAME's.
   */
  readonly ttl: number;
  readonly aTtl: number;
  readonly aaaaTtl: number;
  readonly txtTtl: number;
  /** The kind whose claims won this name. */
  readonly kind: SourceKind;
}

/** The order k8s_gateway uses when the configured `resources` list does not say otherwise. */
export const DEFAULT_KIND_ORDER: readonly SourceKind[] = SOURCE_KINDS;

/** Shared by every name without values of a type: one empty array, not one per name. */
const NONE: readonly string[] = Object.freeze([]);
const NO_EXTRA: readonly ExtraRecord[] = Object.freeze([]);
const NO_EXTRA_WITH_TTL: readonly ExtraRecordWithTtl[] = Object.freeze([]);

function sortedUnique(values: string[]): readonly string[] {
  if (values.length === 0) return NONE;
  // A literal is exactly one slot; the array built by push has room for 17 (~150 bytes).
  if (values.length === 1) return [values[0]];
  return [...new Set(values)].sort();
}

/**
 * Merges the claims that objects of ONE kind make on one name: a union of their addresses and
 * texts, deduplicated and sorted so the answer does not depend on event order.
 *
 * A CNAME cannot live beside other data (RFC 1034 3.6.2): `chooseCname` (@mdns/protocol, the
 * rule the authority's `all` merge applies across clusters too) keeps the addresses over a
 * host name, else the smallest host name, which then drops the TXT records.
 * Each RRset's TTL is the smallest any claim for that type asked for, so no claimant's
 * TTL is stretched and no other type's TTL is shortened.
 */
export function mergeClaims(kind: SourceKind, claims: readonly Claim[]): NameRecords | null {
  const a: string[] = [];
  const aaaa: string[] = [];
  const txt: string[] = [];
  const hostNames: string[] = [];
  const extra = new Map<string, ExtraRecord>();
  const extraTtl = new Map<ExtraType, number>();
  let ttl = Number.POSITIVE_INFINITY;
  let aTtl = Number.POSITIVE_INFINITY;
  let aaaaTtl = Number.POSITIVE_INFINITY;
  let txtTtl = Number.POSITIVE_INFINITY;
  for (const claim of claims) {
    for (const ip of claim.a) a.push(ip);
    for (const ip of claim.aaaa) aaaa.push(ip.toLowerCase());
    for (const t of claim.txt) txt.push(t);
    if (claim.cname) hostNames.push(claim.cname);
    if (claim.a.length > 0 && claim.ttl < aTtl) aTtl = claim.ttl;
    if (claim.aaaa.length > 0 && claim.ttl < aaaaTtl) aaaaTtl = claim.ttl;
    if (claim.txt.length > 0 && claim.ttl < txtTtl) txtTtl = claim.ttl;
    if (claim.cname && claim.ttl < ttl) ttl = claim.ttl;
    for (const r of claim.extra ?? NO_EXTRA) {
      extra.set(`${r.type} ${r.text}`, r);
      extraTtl.set(r.type, Math.min(extraTtl.get(r.type) ?? Number.POSITIVE_INFINITY, r.ttl));
    }
  }
  const hasAddress = a.length > 0 || aaaa.length > 0;
  const cname = chooseCname(hasAddress, hostNames);
  if (!hasAddress && cname === null && txt.length === 0 && extra.size === 0) return null;
  return {
    a: sortedUnique(a),
    aaaa: sortedUnique(aaaa),
    cname,
    txt: cname === null ? sortedUnique(txt) : NONE,
    // A CNAME that stays drops the name's other data (RFC 1034 3.6.2), as for TXT.
    extra:
      cname === null && extra.size > 0
        ? [...extra.keys()].sort().map((key) => {
            const r = extra.get(key) as ExtraRecord;
            return { ...r, ttl: seconds(extraTtl.get(r.type) ?? 0) };
          })
        : NO_EXTRA_WITH_TTL,
    ttl: seconds(ttl),
    aTtl: seconds(aTtl),
    aaaaTtl: seconds(aaaaTtl),
    txtTtl: seconds(txtTtl),
    kind,
  };
}

function seconds(ttl: number): number {
  return Number.isFinite(ttl) ? Math.max(0, Math.floor(ttl)) : 0;
}

/** Two merge results answer the same way (so the index generation need not move). */
export function sameRecords(x: NameRecords | null, y: NameRecords | null): boolean {
  if (x === y) return true;
  if (x === null || y === null) return false;
  return (
    x.kind === y.kind &&
    x.ttl === y.ttl &&
    x.aTtl === y.aTtl &&
    x.aaaaTtl === y.aaaaTtl &&
    x.txtTtl === y.txtTtl &&
    x.cname === y.cname &&
    sameList(x.a, y.a) &&
    sameList(x.aaaa, y.aaaa) &&
    sameList(x.txt, y.txt) &&
    x.extra.length === y.extra.length &&
    x.extra.every(
      (r, i) =>
        r.type === y.extra[i].type && r.text === y.extra[i].text && r.ttl === y.extra[i].ttl,
    )
  );
}

function sameList(x: readonly string[], y: readonly string[]): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
