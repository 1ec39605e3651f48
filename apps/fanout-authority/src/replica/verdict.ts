import { type DnsRecord, RCODE, serialCompare, type ZoneDiff } from '@mdns/protocol';
import type { TransferResult } from '@mdns/transport';

/**
 * What a secondary does with one pull's result and with one NOTIFY. Pure: the replica
 * (replica.ts) does the I/O and acts on these.
 */

export type TransferVerdict =
  /** A new copy at `serial`: build it aside and swap it in. */
  | {
      kind: 'apply';
      via: 'axfr' | 'ixfr';
      serial: number;
      soa: DnsRecord;
      records: DnsRecord[];
      /** An IXFR: the diffs applied, in order, and the records by key (copy.ts). */
      diffs?: ZoneDiff[];
      keyed?: Map<string, DnsRecord>;
    }
  /** The primary confirmed the serial we hold: the copy is fresh again. */
  | { kind: 'up-to-date'; serial: number }
  /** Keep the copy we hold; `reason` is a short label (metrics), `detail` the log text. */
  | { kind: 'reject'; reason: string; detail: string };

/**
 * Judges a pull against the serial we hold (null: no copy yet). The transfer client already
 * refuses cut streams, bad TSIG, mismatched SOAs, out-of-zone records, limits and a serial
 * that RFC 1982 says is older; this adds the one case it lets through: a serial exactly 2^31
 * away, whose order RFC 1982 leaves undefined (never taken as newer).
 */
export function judgeTransfer(result: TransferResult, held: number | null): TransferVerdict {
  if (!result.ok) return { kind: 'reject', reason: result.failure, detail: result.detail };
  if (held !== null && serialCompare(result.serial, held) === undefined) {
    return {
      kind: 'reject',
      reason: 'serial-backwards',
      detail: `serial ${result.serial} is 2^31 from our ${held}: not newer (RFC 1982)`,
    };
  }
  if (result.kind === 'up-to-date') return { kind: 'up-to-date', serial: result.serial };
  return {
    kind: 'apply',
    via: result.kind,
    serial: result.serial,
    soa: result.soa,
    records: result.records,
    ...(result.diffs === undefined ? {} : { diffs: result.diffs }),
    ...(result.keyed === undefined ? {} : { keyed: result.keyed }),
  };
}

/**
 * After a failed IXFR, is an AXFR worth trying at once? Yes when the primary could not give
 * a usable diff (its journal or ours disagree, it does not do IXFR, the diffs did not apply);
 * no when the primary is unreachable or refuses us, which an AXFR would only repeat.
 */
export function axfrAfterIxfr(result: TransferResult): boolean {
  if (result.ok) return false;
  if (result.failure === 'ixfr-mismatch' || result.failure === 'malformed') return true;
  return (
    result.failure === 'rcode' && (result.rcode === RCODE.NOTIMP || result.rcode === RCODE.FORMERR)
  );
}

/**
 * A NOTIFY for the zone, with the SOA serial it announced (RFC 1996 3.7; undefined when it
 * carried none): pull unless it announces the serial we hold or an older one.
 */
export function notifyWantsPull(held: number | null, announced: number | undefined): boolean {
  if (held === null || announced === undefined) return true;
  return serialCompare(announced, held) === 1;
}
