import { RCODE } from '@mdns/protocol';
import type { DnsQueryErrorKind } from '@mdns/transport';

/**
 * Whose fault the outcome of one upstream query is, for that upstream's circuit
 * (spec: fanout-authority, "Only the upstream can fail the upstream").
 *
 * - `none`: a usable reply; the upstream answered.
 * - `upstream`: no reply in time, a network error, an unusable reply, or a failed apex check;
 *   counts toward opening the circuit.
 * - `name`: an error rcode (SERVFAIL, REFUSED, ...) for one client's name. The upstream is
 *   alive and answering; the name is what fails. It never counts toward the circuit — one
 *   name a cluster cannot serve, asked in a loop, must not take that cluster's other names
 *   away — but it prompts an apex check (the zone's SOA), and a cluster that fails that is
 *   broken for the whole zone and does count.
 * - `ours`: the query was never sent (our encoding, our validation, our bug) or we cancelled
 *   it; it says nothing about the upstream.
 */
export type Blame = 'none' | 'upstream' | 'name' | 'ours';

/** What one upstream query ended with, as far as blame is concerned. */
export type Settled =
  | { kind: 'error'; error: DnsQueryErrorKind }
  | { kind: 'reply'; rcode: number; usable: boolean };

export function blame(settled: Settled, apexCheck: boolean): Blame {
  if (settled.kind === 'error') {
    return settled.error === 'local' || settled.error === 'aborted' ? 'ours' : 'upstream';
  }
  if (settled.usable) return 'none';
  // NOERROR / NXDOMAIN that we still could not use: the reply itself was bad (does not decode).
  const errorRcode = settled.rcode !== RCODE.NOERROR && settled.rcode !== RCODE.NXDOMAIN;
  return errorRcode && !apexCheck ? 'name' : 'upstream';
}
