import type { TsigVerifyResult } from './tsig.js';

/** Why a transfer request was not served (logged, and a metric label). */
export type RefuseReason = 'disabled' | 'not_a_zone' | 'address' | 'unsigned';

export type TransferDecision =
  | { action: 'transfer' }
  | { action: 'refuse'; reason: RefuseReason }
  /** RFC 8945: NOTAUTH with the TSIG error (BADKEY, BADSIG: unsigned; BADTIME: signed). */
  | { action: 'notauth'; failure: 'BADKEY' | 'BADSIG' | 'BADTIME' | 'FORMERR' }
  /** Before the first full sync the zone is not known yet: never hand out an empty copy. */
  | { action: 'servfail' };

export interface TransferFacts {
  enabled: boolean;
  /** The query name is the apex of a zone we serve. */
  zone: boolean;
  /** The source is in `transfer.allow`. */
  allowed: boolean;
  /** Only computed for an allowed source (no crypto for strangers). */
  tsig: () => TsigVerifyResult;
  ready: boolean;
}

/**
 * Who gets a zone from a primary (the gateway's zones, the authority's merged zone):
 * transfers on, a zone apex, a source in `transfer.allow` AND a request signed with one of
 * `transfer.keys`. Address first, so strangers cost no HMAC. `ready` false (no complete
 * data to list) is SERVFAIL, decided after the key so strangers learn nothing of it.
 */
export function transferDecision(facts: TransferFacts): TransferDecision {
  if (!facts.enabled) return { action: 'refuse', reason: 'disabled' };
  if (!facts.zone) return { action: 'refuse', reason: 'not_a_zone' };
  if (!facts.allowed) return { action: 'refuse', reason: 'address' };
  const tsig = facts.tsig();
  if (!tsig.ok) {
    if (tsig.failure === 'MISSING') return { action: 'refuse', reason: 'unsigned' };
    return { action: 'notauth', failure: tsig.failure };
  }
  if (!facts.ready) return { action: 'servfail' };
  return { action: 'transfer' };
}
