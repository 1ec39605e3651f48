import {
  axfrRecords,
  type DnsRecord,
  decode,
  errorResponse,
  ixfrRecords,
  QTYPE,
  RCODE,
  type ScannedQuery,
  type TransferDecision,
  TSIG_ERROR,
  type TsigKey,
  type TsigRecord,
  transferDecision,
  transferMessages,
  tsigSign,
  tsigSplit,
  tsigUnsignedError,
  tsigVerifySplit,
} from '@mdns/protocol';
import { type AddressSet, inAddressSet } from '@mdns/transport';
import { LogGate } from '../log-gate.js';
import type { ZoneVersions } from './versions.js';

export interface TransferCounters {
  axfr: number;
  /** IXFR answered from the journal (diffs, or the single SOA of "up to date"). */
  ixfr: number;
  /** IXFR for a serial the journal no longer reaches: answered with the whole zone. */
  ixfrFullZone: number;
  refused: number;
  tsigBadKey: number;
  tsigBadSig: number;
  tsigBadTime: number;
  /** A transfer request that did not parse (a cut TSIG, IXFR without its SOA). */
  malformed: number;
  notReady: number;
}

/** The help text of each counter, for every primary's `/metrics` (`exportCounters`). */
export const TRANSFER_COUNTER_HELP: Readonly<Record<keyof TransferCounters, string>> = {
  axfr: 'AXFR served (whole zone).',
  ixfr: 'IXFR served from the journal (diffs, or one SOA when up to date).',
  ixfrFullZone: 'IXFR for a serial the journal no longer reaches: the whole zone sent.',
  refused: 'Transfer requests refused (REFUSED): not a zone apex, source not allowed, unsigned.',
  tsigBadKey: 'Transfer requests with an unknown TSIG key or algorithm (NOTAUTH, BADKEY).',
  tsigBadSig: 'Transfer requests whose TSIG MAC did not verify (NOTAUTH, BADSIG).',
  tsigBadTime: 'Transfer requests signed outside the allowed clock difference (NOTAUTH, BADTIME).',
  malformed: 'Transfer requests that did not parse (FORMERR).',
  notReady: 'Transfer requests while the zone data is not complete (SERVFAIL).',
};

export function newTransferCounters(): TransferCounters {
  return {
    axfr: 0,
    ixfr: 0,
    ixfrFullZone: 0,
    refused: 0,
    tsigBadKey: 0,
    tsigBadSig: 0,
    tsigBadTime: 0,
    malformed: 0,
    notReady: 0,
  };
}

export interface TransferLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface TransferResponderOptions {
  enabled: boolean;
  versions: ZoneVersions;
  allow: AddressSet;
  keys: readonly TsigKey[];
  maxMessageBytes: number;
  fudgeSeconds: number;
  /**
   * The zone's data is complete (the gateway: its index synced; the authority: every upstream
   * of the zone held as a fresh copy); false: SERVFAIL, never a partial zone.
   */
  ready: (zone: string) => boolean;
  /** Why `ready` is false, for the log line (default: "zone data not complete"). */
  notReadyWhy?: (zone: string) => string;
  counters: TransferCounters;
  logger: TransferLogger;
  /** Unix seconds. */
  now?: () => number;
  /** Refusals logged per peer address and reason at most this often (counters count all). */
  refusalLogIntervalMs?: number;
}

/** One refusal line per peer and reason a minute: refusals are the outsider's to cause. */
const REFUSAL_LOG_INTERVAL_MS = 60_000;

export interface TransferPeer {
  address: string;
  port?: number;
}

/** Room for the TSIG record each message carries (names, MAC up to SHA-512, fields). */
const TSIG_RESERVE = 400;

/**
 * Answers AXFR (RFC 5936) and IXFR (RFC 1995) over TCP: the decision in `access.ts`, the
 * records from `ZoneVersions`, the messages from @mdns/protocol, each message TSIG-signed
 * (RFC 8945 5.3.1, chained on the previous MAC).
 */
export function createTransferResponder(options: TransferResponderOptions) {
  const { versions, counters, logger } = options;
  const keys = new Map(options.keys.map((k) => [k.name, k]));
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const gate = new LogGate(options.refusalLogIntervalMs ?? REFUSAL_LOG_INTERVAL_MS);
  /** A refusal's log line, unless this peer had one for this reason within the interval. */
  const refused = (
    where: { peer: string },
    address: string,
    fields: { reason: string; key?: string; detail?: string },
    msg: string,
  ) => {
    const suppressed = gate.pass(`${address}|${fields.reason}`);
    if (suppressed === null) return;
    logger.warn({ ...where, ...fields, ...(suppressed > 0 ? { suppressed } : {}) }, msg);
  };

  return function respond(
    q: ScannedQuery,
    bytes: Uint8Array,
    peer: TransferPeer,
  ): Uint8Array | Uint8Array[] | null {
    const kind = q.qtype === QTYPE.AXFR ? 'axfr' : 'ixfr';
    const where = { peer: `${peer.address}:${peer.port ?? 0}`, zone: q.qname, kind };
    const split = tsigSplit(bytes);
    const version = versions.zone(q.qname);
    const at = now();
    let request: { tsig: TsigRecord; key: TsigKey; unsigned: Uint8Array } | null = null;
    const decision: TransferDecision = transferDecision({
      enabled: options.enabled,
      zone: version !== undefined,
      allowed: inAddressSet(options.allow, peer.address),
      tsig: () => {
        if (!split.ok) return { ok: false, failure: 'FORMERR', error: split.error };
        if (split.tsig === null) return { ok: false, failure: 'MISSING', error: 'unsigned' };
        const v = tsigVerifySplit(split.tsig, split.unsigned, {
          key: (name) => keys.get(name),
          now: at,
        });
        if (v.ok) request = { tsig: v.tsig, key: v.key, unsigned: split.unsigned };
        else if (v.failure === 'BADTIME' && v.key) {
          request = { tsig: v.tsig, key: v.key, unsigned: split.unsigned };
        }
        return v;
      },
      ready: version !== undefined && options.ready(q.qname),
    });

    if (decision.action === 'refuse') {
      counters.refused++;
      refused(where, peer.address, { reason: decision.reason }, 'zone transfer refused');
      return errorResponse(q, bytes, RCODE.REFUSED);
    }
    if (decision.action === 'notauth') {
      if (decision.failure === 'FORMERR' || !split.ok || split.tsig === null) {
        counters.malformed++;
        refused(where, peer.address, { reason: 'tsig_malformed' }, 'zone transfer refused');
        return errorResponse(q, bytes, RCODE.FORMERR);
      }
      const failure = decision.failure;
      if (failure === 'BADKEY') counters.tsigBadKey++;
      else if (failure === 'BADSIG') counters.tsigBadSig++;
      else counters.tsigBadTime++;
      refused(
        where,
        peer.address,
        { reason: failure, key: split.tsig.keyName },
        'zone transfer refused: TSIG check failed',
      );
      const reply = errorResponse(q, bytes, RCODE.NOTAUTH);
      if (failure === 'BADTIME' && request !== null) {
        const r = request as { tsig: TsigRecord; key: TsigKey };
        // RFC 8945 5.2.3: signed, with the server's time in Other Data.
        return tsigSign(reply, {
          key: r.key,
          timeSigned: r.tsig.timeSigned,
          fudge: options.fudgeSeconds,
          requestMac: r.tsig.mac,
          error: TSIG_ERROR.BADTIME,
          otherData: u48(at),
        }).bytes;
      }
      return tsigUnsignedError(reply, split.tsig, TSIG_ERROR[failure]);
    }
    const signed = request as unknown as { tsig: TsigRecord; key: TsigKey; unsigned: Uint8Array };
    const sign = (messages: Uint8Array[]): Uint8Array[] => {
      let previous: Uint8Array | undefined;
      return messages.map((m, i) => {
        const s = tsigSign(m, {
          key: signed.key,
          timeSigned: at,
          fudge: options.fudgeSeconds,
          ...(i === 0 ? { requestMac: signed.tsig.mac } : { previousMac: previous }),
        });
        previous = s.mac;
        return s.bytes;
      });
    };
    if (decision.action === 'servfail') {
      counters.notReady++;
      refused(
        where,
        peer.address,
        {
          reason: 'not_synced',
          detail: options.notReadyWhy?.(q.qname) ?? 'zone data not complete',
        },
        'zone transfer refused: zone data not complete',
      );
      return sign([errorResponse(q, bytes, RCODE.SERVFAIL)])[0];
    }

    const zone = version!;
    const soa = soaRecord(zone.apex);
    // Read only for a whole zone: a primary that keeps its records per name builds the
    // list when it is read, and an IXFR from the journal needs none of it.
    const whole = () => zone.records ?? [];
    let sequence: DnsRecord[];
    if (kind === 'axfr') {
      counters.axfr++;
      sequence = axfrRecords(soa, whole());
    } else {
      const clientSerial = ixfrSerial(signed.unsigned);
      if (clientSerial === null) {
        counters.malformed++;
        refused(where, peer.address, { reason: 'ixfr_without_soa' }, 'zone transfer refused');
        return sign([errorResponse(q, bytes, RCODE.FORMERR)])[0];
      }
      const entries = zone.journal.since(clientSerial, zone.apex.soa.serial);
      if (entries === null) {
        counters.ixfrFullZone++;
        sequence = axfrRecords(soa, whole());
      } else {
        counters.ixfr++;
        sequence = ixfrRecords(soa, entries);
      }
    }
    const messages = transferMessages(q, sequence, {
      maxMessageBytes: options.maxMessageBytes,
      reserveBytes: TSIG_RESERVE,
    });
    logger.info(
      {
        ...where,
        serial: zone.apex.soa.serial,
        records: sequence.length,
        messages: messages.length,
      },
      'zone transfer served',
    );
    return sign(messages);
  };
}

function soaRecord(apex: { zone: string; soa: object; soaTtl: number }): DnsRecord {
  return {
    name: apex.zone,
    type: 'SOA',
    class: 'IN',
    ttl: apex.soaTtl,
    data: { ...apex.soa },
  } as DnsRecord;
}

/** The serial of the SOA in an IXFR request's authority section (RFC 1995 3), or null. */
function ixfrSerial(unsigned: Uint8Array): number | null {
  const d = decode(unsigned);
  if (!d.ok) return null;
  const soa = d.message.authorities?.find((r) => r.type === 'SOA');
  const serial = (soa?.data as { serial?: unknown } | undefined)?.serial;
  return typeof serial === 'number' ? serial : null;
}

function u48(n: number): Uint8Array {
  const high = Math.floor(n / 2 ** 32);
  const low = n >>> 0;
  return Uint8Array.of(
    high >> 8,
    high & 0xff,
    low >>> 24,
    (low >> 16) & 0xff,
    (low >> 8) & 0xff,
    low & 0xff,
  );
}
