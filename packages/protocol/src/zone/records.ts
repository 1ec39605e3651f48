import { chooseCname } from '../cname-rule.js';

export type ExtraType = 'SRV' | 'MX' | 'CAA' | 'PTR';

/**
 * A record of a type beyond A/AAAA/CNAME/TXT, `data` as the encoder takes it. `text` is its
 * presentation form (external-dns's target), the key for deduplication and sorting; `ttl` its
 * own (one source may give a name MX with TTL 300 and CAA with the default).
 */
export type ExtraRecord = { text: string; ttl: number } & ExtraData;

/** An extra record's type and `data` as the encoder takes it. */
export type ExtraData =
  | { type: 'SRV'; data: { priority: number; weight: number; port: number; target: string } }
  | { type: 'MX'; data: { preference: number; exchange: string } }
  | { type: 'CAA'; data: { flags: number; tag: string; value: string } }
  | { type: 'PTR'; data: string };

/**
 * An extra record with its presentation text, the dedup and sort key: SRV
 * `priority weight port target`, MX `preference exchange`, CAA `flags tag "value"`, PTR `host`
 * (external-dns's target forms).
 */
export function extraRecord(record: ExtraData, ttl: number): ExtraRecord {
  switch (record.type) {
    case 'SRV': {
      const { priority, weight, port, target } = record.data;
      return { ...record, text: `${priority} ${weight} ${port} ${target}`, ttl };
    }
    case 'MX':
      return { ...record, text: `${record.data.preference} ${record.data.exchange}`, ttl };
    case 'CAA': {
      const { flags, tag, value } = record.data;
      return { ...record, text: `${flags} ${tag} "${value}"`, ttl };
    }
    case 'PTR':
      return { ...record, text: record.data, ttl };
  }
}

/** Who makes a claim, for an ownership rule such as the gateway's first-claimant. */
export interface ClaimOrigin {
  /** The group that owns what it claims first (a Kubernetes namespace). */
  readonly namespace: string;
  /** When the claimant was created, epoch ms; Infinity when unknown. */
  readonly createdAt: number;
}

/**
 * One name claimed by one source object: what it wants the name to answer. Not changed
 * once handed to an index: the merged records may share its arrays (`mergeClaims`).
 */
export interface Claim {
  /** Normalized (lowercase, no trailing dot); may start with '*.' (wildcard). */
  name: string;
  a: string[];
  aaaa: string[];
  cname?: string;
  txt: string[];
  /** Records of the other types (SRV, MX, CAA, PTR); absent = none. */
  extra?: ExtraRecord[];
  /** Seconds. */
  ttl: number;
  /** Who claims it; shared by every claim of one object. Absent: one anonymous group. */
  origin?: ClaimOrigin;
}

/** The claims one object makes on one name. */
export interface Claimant<K extends string = string> {
  readonly kind: K;
  readonly key: string;
  claims: Claim[];
}

/** The origin of a claimant's claims, with the defaults for a claim that has none. */
export function originOf(c: Claimant): { namespace: string; createdAt: number } {
  const o = c.claims[0]?.origin;
  return { namespace: o?.namespace ?? '', createdAt: o?.createdAt ?? Number.POSITIVE_INFINITY };
}

/**
 * The records one name answers with, after merging every claim on it. Immutable once built:
 * the answer builder and the response cache may hold on to it.
 */
export interface NameRecords<K extends string = string> {
  readonly a: readonly string[];
  readonly aaaa: readonly string[];
  /** Target of a CNAME (a cloud load balancer's host name); `null` when the name has addresses. */
  readonly cname: string | null;
  readonly txt: readonly string[];
  /** SRV, MX, CAA, PTR: sorted by type, then presentation text; `ttl` is the RRset's. */
  readonly extra: readonly ExtraRecord[];
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
  readonly kind: K;
}

/** Shared by every name without values of a type: one empty array, not one per name. */
const NONE: readonly string[] = Object.freeze([]);
const NO_EXTRA: readonly ExtraRecord[] = Object.freeze([]);

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
 * A CNAME cannot live beside other data (RFC 1034 3.6.2): `chooseCname` (the rule the
 * authority's `all` merge applies across clusters too) keeps the addresses over a
 * host name, else the smallest host name, which then drops the TXT records.
 * Each RRset's TTL is the smallest any claim for that type asked for, so no claimant's
 * TTL is stretched and no other type's TTL is shortened.
 */
export function mergeClaims<K extends string>(
  kind: K,
  claims: readonly Claim[],
): NameRecords<K> | null {
  const simple = simpleMerge(kind, claims);
  if (simple !== undefined) return simple;
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
  // Nearly every name has one claim with one value: its records share the claim's array
  // (one array less per name). Safe because claims are not changed once handed to an index.
  const only = claims.length === 1 ? claims[0] : null;
  return {
    a: only !== null && a.length === 1 && only.a.length === 1 ? only.a : sortedUnique(a),
    aaaa:
      only !== null && aaaa.length === 1 && only.aaaa.length === 1 && only.aaaa[0] === aaaa[0]
        ? only.aaaa
        : sortedUnique(aaaa),
    cname,
    txt:
      cname !== null
        ? NONE
        : only !== null && txt.length === 1 && only.txt.length === 1
          ? only.txt
          : sortedUnique(txt),
    // A CNAME that stays drops the name's other data (RFC 1034 3.6.2), as for TXT.
    extra:
      cname === null && extra.size > 0
        ? [...extra.keys()].sort().map((key) => {
            const r = extra.get(key) as ExtraRecord;
            return { ...r, ttl: seconds(extraTtl.get(r.type) ?? 0) };
          })
        : NO_EXTRA,
    ttl: seconds(ttl),
    aTtl: seconds(aTtl),
    aaaaTtl: seconds(aaaaTtl),
    txtTtl: seconds(txtTtl),
    kind,
  };
}

/**
 * `mergeClaims` of the common case, allocating only the result: no CNAME, no extra records,
 * and at most one value of each of A, AAAA, TXT, from one claim each (a zone's RRsets of one
 * record: a transfer's name with an A and an AAAA is two claims). The records share the
 * claims' arrays. `undefined`: not that case (the general merge decides; the same result).
 * Loading a 20k-name zone merged every name through two Maps and four arrays of garbage.
 */
function simpleMerge<K extends string>(
  kind: K,
  claims: readonly Claim[],
): NameRecords<K> | null | undefined {
  let a: Claim | null = null;
  let aaaa: Claim | null = null;
  let txt: Claim | null = null;
  for (const claim of claims) {
    if (claim.cname || claim.extra !== undefined) return undefined;
    if (claim.a.length > 1 || claim.aaaa.length > 1 || claim.txt.length > 1) return undefined;
    if (claim.a.length === 1) {
      if (a !== null) return undefined;
      a = claim;
    }
    if (claim.aaaa.length === 1) {
      // Shared only when already lowercase (the general merge lowercases AAAA values).
      if (aaaa !== null || claim.aaaa[0] !== claim.aaaa[0].toLowerCase()) return undefined;
      aaaa = claim;
    }
    if (claim.txt.length === 1) {
      if (txt !== null) return undefined;
      txt = claim;
    }
  }
  if (a === null && aaaa === null && txt === null) return null;
  return {
    a: a?.a ?? NONE,
    aaaa: aaaa?.aaaa ?? NONE,
    cname: null,
    txt: txt?.txt ?? NONE,
    extra: NO_EXTRA,
    ttl: 0,
    aTtl: a === null ? 0 : seconds(a.ttl),
    aaaaTtl: aaaa === null ? 0 : seconds(aaaa.ttl),
    txtTtl: txt === null ? 0 : seconds(txt.ttl),
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
