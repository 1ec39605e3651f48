import {
  anyResponseRecord,
  apexAnswer,
  CLASS,
  glueAnswer,
  OPCODE,
  QTYPE,
  RCODE,
  type ResponseParts,
  type ScannedQuery,
  validateQueryName,
} from '@mdns/protocol';
import type { ZoneRuntime } from '../config/runtime.js';

/**
 * The shared rules (spec: "Shared rules (both servers)") that need no upstream: a pure
 * function from the scanned query (and the zone it falls in) to a local answer, or `null`
 * when the name must be fanned out.
 */
export type LocalAnswer =
  | { kind: 'error'; rcode: number; reason: string }
  | { kind: 'answer'; parts: ResponseParts; reason: string };

/** Checks before the zone lookup: opcode, question count, EDNS version, class. */
export function precheck(q: ScannedQuery): LocalAnswer | null {
  if (q.opcode !== OPCODE.QUERY) return { kind: 'error', rcode: RCODE.NOTIMP, reason: 'opcode' };
  if (q.qdcount !== 1) return { kind: 'error', rcode: RCODE.FORMERR, reason: 'qdcount' };
  if (q.edns !== null && q.edns.version > 0)
    return { kind: 'error', rcode: RCODE.BADVERS, reason: 'edns-version' };
  if (q.qclass !== CLASS.IN && !(q.qclass === CLASS.ANY && q.qtype === QTYPE.SOA)) {
    return { kind: 'error', rcode: RCODE.REFUSED, reason: 'class' };
  }
  return null;
}

/**
 * Inside a served zone: transfers refused, a name no cluster can hold NXDOMAIN, ANY per
 * RFC 8482, the apex SOA/NS and the A/AAAA of in-zone nameservers (glue) from config.
 * Everything else is fanned out (null).
 */
export function localAnswer(q: ScannedQuery, zone: ZoneRuntime): LocalAnswer | null {
  const { qname, qtype } = q;
  if (qtype === QTYPE.AXFR || qtype === QTYPE.IXFR)
    return { kind: 'error', rcode: RCODE.REFUSED, reason: 'transfer' };
  // Checked once, here at the edge: such a name is never fanned out nor cached, so a flood of
  // them costs the upstreams nothing and cannot crowd the cache.
  if (validateQueryName(qname) !== null) {
    return {
      kind: 'answer',
      parts: { rcode: RCODE.NXDOMAIN, aa: true, authorities: [zone.negativeSoa] },
      reason: 'name',
    };
  }
  if (qtype === QTYPE.ANY) {
    return {
      kind: 'answer',
      parts: { rcode: RCODE.NOERROR, aa: true, answers: [anyResponseRecord(qname)] },
      reason: 'any',
    };
  }
  if (qname === zone.name) {
    const apex = apexAnswer(zone.apex, qtype);
    if (apex)
      return { kind: 'answer', parts: { rcode: RCODE.NOERROR, aa: true, ...apex }, reason: 'apex' };
    return null;
  }
  // The nameserver names we publish at the apex must resolve even though no cluster serves
  // them: their A/AAAA come from the configured glue.
  const glue = glueAnswer(zone.apex, qname, qtype);
  if (glue !== null) {
    const parts: ResponseParts =
      glue.length > 0
        ? { rcode: RCODE.NOERROR, aa: true, answers: glue }
        : { rcode: RCODE.NOERROR, aa: true, authorities: [zone.negativeSoa] };
    return { kind: 'answer', parts, reason: 'glue' };
  }
  return null;
}
