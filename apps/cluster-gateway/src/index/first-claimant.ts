// Who owns a name that objects of several namespaces claim (`sources.ownership.conflicts`).
// Pure: the record index asks it (its owner rule) while it merges a name's claimants.
import { type Claimant, originOf } from '@mdns/protocol';
import type { SourceKind } from '../sources/types.js';

/** `sources.ownership.conflicts`: how claims of different namespaces on one name combine. */
export type ConflictPolicy = 'first-claimant' | 'merge';

/**
 * First-claimant: the namespace of the oldest claimant (creationTimestamp, then its key,
 * which is stable across restarts) owns the name; claimants of other namespaces are
 * refused. Claimants of the owning namespace all stay and merge as usual. Pure.
 */
export function firstClaimant(claimants: readonly Claimant<SourceKind>[]): {
  owners: readonly Claimant<SourceKind>[];
  refused: readonly Claimant<SourceKind>[];
  first: Claimant<SourceKind>;
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
  const owners: Claimant<SourceKind>[] = [];
  const refused: Claimant<SourceKind>[] = [];
  for (const c of claimants)
    (originOf(c).namespace === firstOrigin.namespace ? owners : refused).push(c);
  return { owners, refused, first };
}
