// Who owns a name that objects of several namespaces claim (`sources.ownership.conflicts`).
// Pure: the record index asks it while it merges a name's claimants.
import type { Claim, SourceKind } from '../sources/types.js';

/** The claims one object makes on one name. */
export interface Claimant {
  readonly kind: SourceKind;
  readonly key: string;
  claims: Claim[];
}

/** `sources.ownership.conflicts`: how claims of different namespaces on one name combine. */
export type ConflictPolicy = 'first-claimant' | 'merge';

/** A name whose claimants from other namespaces were refused (first-claimant). */
export interface ContestedName {
  name: string;
  /** The winning claimant (`kind key`) and its namespace. */
  owner: string;
  namespace: string;
  /** `kind key` of each refused claimant. */
  refused: string[];
}

export function originOf(c: Claimant): { namespace: string; createdAt: number } {
  const o = c.claims[0]?.origin;
  return { namespace: o?.namespace ?? '', createdAt: o?.createdAt ?? Number.POSITIVE_INFINITY };
}

/**
 * First-claimant: the namespace of the oldest claimant (creationTimestamp, then its key,
 * which is stable across restarts) owns the name; claimants of other namespaces are
 * refused. Claimants of the owning namespace all stay and merge as usual. Pure.
 */
export function firstClaimant(claimants: readonly Claimant[]): {
  owners: readonly Claimant[];
  refused: readonly Claimant[];
  first: Claimant;
} {
  let first = claimants[0];
  let firstOrigin = originOf(first);
  let mixed = false;
  for (let i = 1; i < claimants.length; i++) {
    const c = claimants[i];
    const o = originOf(c);
    if (o.namespace !== firstOrigin.namespace) mixed = true;
    if (
      o.createdAt < firstOrigin.createdAt ||
      (o.createdAt === firstOrigin.createdAt && c.key < first.key)
    ) {
      first = c;
      firstOrigin = o;
    }
  }
  if (!mixed) return { owners: claimants, refused: [], first };
  const owners: Claimant[] = [];
  const refused: Claimant[] = [];
  for (const c of claimants)
    (originOf(c).namespace === firstOrigin.namespace ? owners : refused).push(c);
  return { owners, refused, first };
}
