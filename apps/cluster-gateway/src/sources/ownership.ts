// Tenant boundaries on the names a namespace may claim (`sources.ownership`). Pure: the
// ledger calls `applyOwnership` on every object's claims before they reach the index.
import { isAtOrBelow } from '@mdns/protocol';
import type { ClaimResult } from './claims/context.js';
import type { SourcesConfig } from './config.js';
import type { SlimMeta } from './slim.js';
import type { ClaimOrigin } from './types.js';

export interface OwnershipPolicy {
  /** Namespace -> allowed suffixes; null: no suffix rule (every namespace, every name). */
  readonly suffixes: ReadonlyMap<string, readonly string[]> | null;
  /** Namespaces allowed wildcard names; null: every namespace. */
  readonly wildcards: ReadonlySet<string> | null;
}

/** No rule at all: what `sources.ownership` with its defaults compiles to. */
export const OPEN_POLICY: OwnershipPolicy = { suffixes: null, wildcards: null };

export function compileOwnership(config: SourcesConfig['ownership']): OwnershipPolicy {
  const entries = Object.entries(config.namespaces);
  const suffixes = entries.length > 0 ? new Map(entries) : null;
  // Unset: wildcards stay open only while there is no policy; with one, they are opt-in.
  const wildcardList = config.wildcardNamespaces ?? (suffixes === null ? null : []);
  return { suffixes, wildcards: wildcardList === null ? null : new Set(wildcardList) };
}

/** Why `namespace` may not claim `name` under `policy`, or null when it may. */
export function ownershipProblem(
  policy: OwnershipPolicy,
  namespace: string,
  name: string,
): { reason: 'wildcard' | 'ownership'; rule: string } | null {
  const wildcard = name.startsWith('*.');
  if (wildcard && policy.wildcards !== null && !policy.wildcards.has(namespace)) {
    return {
      reason: 'wildcard',
      rule: `namespace ${namespace} is not in sources.ownership.wildcardNamespaces`,
    };
  }
  if (policy.suffixes === null) return null;
  const allowed = policy.suffixes.get(namespace);
  if (allowed === undefined || allowed.length === 0) {
    return {
      reason: 'ownership',
      rule: `namespace ${namespace} has no entry in sources.ownership.namespaces`,
    };
  }
  const base = wildcard ? name.slice(2) : name;
  if (allowed.some((suffix) => isAtOrBelow(base, suffix))) return null;
  return {
    reason: 'ownership',
    rule: `namespace ${namespace} may claim only names under ${allowed.join(', ')} (sources.ownership.namespaces)`,
  };
}

/**
 * Drops, in place, every claim the object's namespace may not make (a warning naming the
 * object, the name and the rule for each, and a `rejected` reason), then stamps the
 * remaining claims with their origin for the index's first-claimant rule.
 */
export function applyOwnership(
  policy: OwnershipPolicy,
  ref: string,
  meta: SlimMeta,
  result: ClaimResult,
): void {
  const origin: ClaimOrigin = { namespace: meta.namespace, createdAt: meta.createdAt };
  let kept = 0;
  // A DNSEndpoint name may come as several claims (one per TTL): refused and counted once.
  const refused = new Set<string>();
  for (const claim of result.claims) {
    const problem = ownershipProblem(policy, meta.namespace, claim.name);
    if (problem !== null) {
      if (!refused.has(claim.name)) {
        refused.add(claim.name);
        result.warnings.push(`${ref}: name ${claim.name} refused: ${problem.rule}`);
        result.rejected.push(problem.reason);
      }
      continue;
    }
    claim.origin = origin;
    result.claims[kept++] = claim;
  }
  result.claims.length = kept;
}
