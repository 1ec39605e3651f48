import type { ZoneApex } from './apex.js';
import { anyResponseRecord, apexAnswer, glueAnswer } from './apex.js';
import { CLASS, OPCODE, QTYPE, RCODE } from './constants.js';
import type { DnsRecord } from './message.js';
import { validateQueryName } from './names.js';
import type { ResponseParts } from './response.js';
import type { ScannedQuery } from './scan.js';

/** A served zone as the shared rules see it. */
export interface RuleZone {
  readonly name: string;
  readonly apex: ZoneApex;
  /** `negativeSoa(apex)`, built once per zone: every NXDOMAIN/NODATA carries it. */
  readonly negativeSoa: DnsRecord;
}

/** Which row of the table decided (metrics, logs, tests). */
export type RuleReason =
  | 'edns-version'
  | 'opcode'
  | 'qdcount'
  | 'trailing'
  | 'class'
  | 'zone'
  | 'transfer'
  | 'name'
  | 'glue'
  | 'unready'
  | 'nxdomain'
  | 'any'
  | 'apex';

/**
 * The data a server holds itself for names inside its zones (the gateway's index). A server
 * that asks elsewhere (the authority's fan-out) has none, so ANY is synthesized for every
 * in-zone name there; with local data a name that does not exist is NXDOMAIN even for ANY.
 */
export interface LocalData<F> {
  /** False until the data is complete: SERVFAIL for everything the edge rules leave open. */
  ready(): boolean;
  /** What the data holds at `qname` (wildcards applied), `null` when nothing is at or below it. */
  find(qname: string, zone: string): F | null;
}

/** `F`: what the local data finds at a name; `Z`: the server's own zone type. */
export interface SharedRules<F = never, Z extends RuleZone = RuleZone> {
  /** The most specific served zone at or above `qname` (label boundaries only). */
  zoneOf(qname: string): Z | undefined;
  /**
   * AXFR/IXFR answer REFUSED. `false` hands them to the caller as `data` (a server that
   * serves transfers on a transport or to an ACL it allows).
   */
  refuseTransfers: boolean;
  /** The server's own data, consulted after the glue rule; `null` when it has none. */
  local: LocalData<F> | null;
}

/**
 * What the shared rules decided: an error (no records, AA clear), an answer inside `zone`,
 * or `data`: the server's own store answers, with what `local.find` returned (if asked).
 */
export type SharedDecision<F = never, Z extends RuleZone = RuleZone> =
  | {
      readonly kind: 'error';
      readonly rcode: number;
      readonly reason: RuleReason;
      readonly zone: Z | null;
    }
  | {
      readonly kind: 'answer';
      readonly parts: ResponseParts;
      readonly reason: RuleReason;
      readonly zone: Z;
    }
  | { readonly kind: 'data'; readonly zone: Z; readonly found: F | null };

const error = <Z>(rcode: number, reason: RuleReason, zone: Z | null = null) =>
  ({ kind: 'error', rcode, reason, zone }) as const;

const negative = (rcode: number, zone: RuleZone): ResponseParts => ({
  rcode,
  aa: true,
  authorities: [zone.negativeSoa],
});

/**
 * The "Shared rules (both servers)" rows of docs/behaviour.md, in one pure function both
 * servers call first. Order: EDNS version (the response builder turns any reply to a version
 * > 0 query into BADVERS, so it decides first), opcode, question count, class, zone,
 * transfer, query name, glue, then (with local data) readiness and existence, ANY, apex.
 */
export function sharedRules<F, Z extends RuleZone>(
  q: ScannedQuery,
  rules: SharedRules<F, Z>,
): SharedDecision<F, Z> {
  if (q.edns !== null && q.edns.version > 0) return error<Z>(RCODE.BADVERS, 'edns-version');
  if (q.opcode !== OPCODE.QUERY) return error<Z>(RCODE.NOTIMP, 'opcode');
  if (q.qdcount !== 1) return error<Z>(RCODE.FORMERR, 'qdcount');
  if (q.trailing !== 0) return error<Z>(RCODE.FORMERR, 'trailing');
  const { qname, qtype, qclass } = q;
  if (qclass !== CLASS.IN && !(qclass === CLASS.ANY && qtype === QTYPE.SOA)) {
    return error<Z>(RCODE.REFUSED, 'class');
  }
  const zone = rules.zoneOf(qname);
  if (zone === undefined) return error<Z>(RCODE.REFUSED, 'zone');
  if (qtype === QTYPE.AXFR || qtype === QTYPE.IXFR) {
    if (rules.refuseTransfers) return error(RCODE.REFUSED, 'transfer', zone);
    return { kind: 'data', zone, found: null };
  }
  // A name no object can claim (odd bytes, a dot inside a label): NXDOMAIN decided here at
  // the edge, never looked up, fanned out or cached, wildcards included.
  if (validateQueryName(qname) !== null) {
    return { kind: 'answer', parts: negative(RCODE.NXDOMAIN, zone), reason: 'name', zone };
  }
  // The nameserver names the apex NS set publishes resolve from their configured glue: no
  // data source claims them, and none may override them.
  const glue = glueAnswer(zone.apex, qname, qtype);
  if (glue !== null) {
    const parts: ResponseParts =
      glue.length > 0
        ? { rcode: RCODE.NOERROR, aa: true, answers: glue }
        : negative(RCODE.NOERROR, zone);
    return { kind: 'answer', parts, reason: 'glue', zone };
  }
  let found: F | null = null;
  if (rules.local !== null) {
    if (!rules.local.ready()) return error(RCODE.SERVFAIL, 'unready', zone);
    found = rules.local.find(qname, zone.name);
    if (found === null) {
      return { kind: 'answer', parts: negative(RCODE.NXDOMAIN, zone), reason: 'nxdomain', zone };
    }
  }
  if (qtype === QTYPE.ANY) {
    const parts: ResponseParts = {
      rcode: RCODE.NOERROR,
      aa: true,
      answers: [anyResponseRecord(qname)],
    };
    return { kind: 'answer', parts, reason: 'any', zone };
  }
  if (qname === zone.name) {
    const apex = apexAnswer(zone.apex, qtype);
    if (apex) {
      return {
        kind: 'answer',
        parts: { rcode: RCODE.NOERROR, aa: true, ...apex },
        reason: 'apex',
        zone,
      };
    }
  }
  return { kind: 'data', zone, found };
}
