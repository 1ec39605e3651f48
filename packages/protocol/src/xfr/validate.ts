import type { DnsRecord } from '../message.js';
import { isAtOrBelow, normalizeName } from '../names.js';
import { applyDiffTo, keyedRecords, recordKey, type ZoneDiff } from './diff.js';
import { serialCompare } from './serial.js';

/** Why a received transfer cannot be used; the copy we hold stays as it was. */
export type TransferProblem =
  | 'soa-mismatch'
  | 'out-of-zone'
  | 'serial-backwards'
  | 'ixfr-mismatch'
  | 'too-large'
  | 'malformed';

export interface TransferLimits {
  /** Records of the resulting zone (SOA excluded). */
  maxRecords: number;
}

/** What we hold of the zone: a secondary's current copy (absent: none yet). */
export interface ZoneCopy {
  serial: number;
  records: readonly DnsRecord[];
  /**
   * The same records by `recordKey` (`keyedRecords`), if the holder keeps them: an IXFR then
   * copies this map and keys only the diff's records, not every record of the zone. Never
   * changed here.
   */
  keyed?: ReadonlyMap<string, DnsRecord>;
  /**
   * Every record held at one owner name (normalized), if the holder keeps its records per
   * name (without `keyed`): an IXFR then keys only the records at the names its diffs touch,
   * and the holder needs no map of the whole zone by key. The same record objects as
   * `records` (the IXFR's list is `records` with the touched names' lists replaced). Never
   * changed here.
   */
  recordsAt?(name: string): readonly DnsRecord[];
}

export type TransferOutcome =
  /** The zone at `serial`: every record but the SOA. */
  | {
      ok: true;
      kind: 'axfr' | 'ixfr';
      soa: DnsRecord;
      serial: number;
      records: DnsRecord[];
      /**
       * IXFR: the diffs applied, in order (what an incremental secondary applies to its
       * index), and the records by key (`keyed`, for the next IXFR's `ZoneCopy`).
       */
      diffs?: ZoneDiff[];
      keyed?: Map<string, DnsRecord>;
    }
  /** IXFR answered with our own serial: nothing to do. */
  | { ok: true; kind: 'up-to-date'; soa: DnsRecord; serial: number }
  | { ok: false; problem: TransferProblem; detail: string };

const serialOf = (soa: DnsRecord) => (soa as { data: { serial: number } }).data.serial >>> 0;
const fail = (problem: TransferProblem, detail: string): TransferOutcome => ({
  ok: false,
  problem,
  detail,
});

/**
 * Checks a complete transfer (the answer records of every message, in order) for `zone` and
 * turns it into the zone it describes: AXFR (RFC 5936: SOA, records, the same SOA), IXFR
 * (RFC 1995: diff sequences applied to `current`, each deletion present in it), or "up to
 * date". Untrusted input: every problem is a value naming what and where.
 */
export function validateTransfer(
  zoneName: string,
  answers: readonly DnsRecord[],
  current: ZoneCopy | undefined,
  limits: TransferLimits,
): TransferOutcome {
  const zone = normalizeName(zoneName);
  const first = answers[0];
  if (first === undefined || first.type !== 'SOA' || normalizeName(first.name) !== zone) {
    return fail('malformed', `the transfer does not start with the SOA of ${zone}`);
  }
  // Index loops: a zone's records, one entry pair of garbage each otherwise.
  for (let i = 0; i < answers.length; i++) {
    const r = answers[i];
    if (!isAtOrBelow(normalizeName(r.name), zone)) {
      return fail('out-of-zone', `record ${i + 1} (${r.name} ${r.type}) is outside ${zone}`);
    }
  }
  const serial = serialOf(first);
  if (current !== undefined && serialCompare(serial, current.serial) === -1) {
    return fail('serial-backwards', `serial ${serial} is older than our ${current.serial}`);
  }
  if (answers.length === 1) {
    if (current !== undefined && serial === current.serial >>> 0) {
      return { ok: true, kind: 'up-to-date', soa: first, serial };
    }
    return fail('malformed', 'a single SOA that is not our serial');
  }
  const last = answers[answers.length - 1];
  if (last.type !== 'SOA' || recordKey(last) !== recordKey(first)) {
    return fail('soa-mismatch', 'the last record is not the same SOA as the first');
  }
  const body = answers.slice(1, -1);
  if (body[0]?.type === 'SOA' && current !== undefined)
    return incremental(first, body, current, limits);
  for (let i = 0; i < body.length; i++) {
    if (body[i].type === 'SOA') return fail('malformed', `record ${i + 2}: a SOA inside an AXFR`);
  }
  const records = body;
  if (records.length > limits.maxRecords) {
    return fail('too-large', `${records.length} records, over the limit of ${limits.maxRecords}`);
  }
  return { ok: true, kind: 'axfr', soa: first, serial, records };
}

/** RFC 1995 4: (old SOA, deletions, new SOA, additions)… applied in turn to our copy. */
function incremental(
  soa: DnsRecord,
  body: readonly DnsRecord[],
  current: ZoneCopy,
  limits: TransferLimits,
): TransferOutcome {
  if (current.keyed === undefined && current.recordsAt !== undefined) {
    const named = new NamedRecords(current.records, current.recordsAt);
    return checkedDiffs(soa, body, current, limits, named);
  }
  // One copy of the held records for the whole transfer; the diffs change it in place.
  const records = current.keyed ? new Map(current.keyed) : keyedRecords(current.records);
  const held: HeldRecords = {
    apply: (diff) => applyDiffTo(records, diff),
    get size() {
      return records.size;
    },
    result: () => ({ records: [...records.values()], keyed: records }),
  };
  return checkedDiffs(soa, body, current, limits, held);
}

/** The records an IXFR's diffs apply to, as `incremental` needs them. */
interface HeldRecords {
  /** Applies one diff in place; the error of the first record that does not apply, else null. */
  apply(diff: ZoneDiff): string | null;
  readonly size: number;
  /** The zone after every diff (and the records by key, if that is how they are held). */
  result(): { records: DnsRecord[]; keyed?: Map<string, DnsRecord> };
}

/** Reads and applies the diff sequences of `body` to `held`, checking each serial. */
function checkedDiffs(
  soa: DnsRecord,
  body: readonly DnsRecord[],
  current: ZoneCopy,
  limits: TransferLimits,
  held: HeldRecords,
): TransferOutcome {
  const diffs: ZoneDiff[] = [];
  let at = current.serial >>> 0;
  let i = 0;
  while (i < body.length) {
    const from = body[i];
    if (from.type !== 'SOA')
      return fail('malformed', `record ${i + 2}: expected the old SOA of a diff`);
    if (serialOf(from) !== at) {
      return fail('ixfr-mismatch', `a diff from serial ${serialOf(from)}, our copy is at ${at}`);
    }
    const deleted: DnsRecord[] = [];
    for (i++; i < body.length && body[i].type !== 'SOA'; i++) deleted.push(body[i]);
    const to = body[i];
    if (to === undefined) return fail('malformed', `the diff from serial ${at} has no new SOA`);
    const added: DnsRecord[] = [];
    for (i++; i < body.length && body[i].type !== 'SOA'; i++) added.push(body[i]);
    const error = held.apply({ deleted, added });
    if (error !== null) return fail('ixfr-mismatch', error);
    diffs.push({ deleted, added });
    at = serialOf(to);
    if (held.size > limits.maxRecords) {
      return fail('too-large', `${held.size} records, over the limit of ${limits.maxRecords}`);
    }
  }
  if (at !== serialOf(soa)) {
    return fail(
      'ixfr-mismatch',
      `the diffs end at serial ${at}, the transfer announces ${serialOf(soa)}`,
    );
  }
  return { ok: true, kind: 'ixfr', soa, serial: at, ...held.result(), diffs };
}

/**
 * The held records seen per owner name (`ZoneCopy.recordsAt`): a diff keys only the records
 * at the names it touches, each name's list copied at its first touch (the holder's lists
 * are never changed). The same rules as `applyDiffTo` over the whole zone keyed: a record is
 * its `recordKey`, duplicates count once, a deletion must match a held record and an
 * addition must not.
 */
class NamedRecords implements HeldRecords {
  /** The touched names' records after the diffs so far. */
  readonly #touched = new Map<string, DnsRecord[]>();
  /** The held records of the touched names: their lists replace them in the zone's list. */
  readonly #replaced = new Set<DnsRecord>();
  #size: number;

  constructor(
    private readonly records: readonly DnsRecord[],
    private readonly recordsAt: (name: string) => readonly DnsRecord[],
  ) {
    this.#size = records.length;
  }

  get size(): number {
    return this.#size;
  }

  apply(diff: ZoneDiff): string | null {
    for (const r of diff.deleted) {
      const list = this.#at(r);
      const key = recordKey(r);
      const stays = list.filter((held) => recordKey(held) !== key);
      if (stays.length === list.length)
        return `deletion of ${r.name} ${r.type} does not match the current copy`;
      this.#size -= list.length - stays.length;
      this.#touched.set(normalizeName(r.name), stays);
    }
    for (const r of diff.added) {
      const list = this.#at(r);
      const key = recordKey(r);
      if (list.some((held) => recordKey(held) === key))
        return `addition of ${r.name} ${r.type} is already in the current copy`;
      list.push(r);
      this.#size++;
    }
    return null;
  }

  result(): { records: DnsRecord[] } {
    const replaced = this.#replaced;
    const records = this.records.filter((r) => !replaced.has(r));
    for (const list of this.#touched.values()) records.push(...list);
    return { records };
  }

  #at(record: DnsRecord): DnsRecord[] {
    const name = normalizeName(record.name);
    let list = this.#touched.get(name);
    if (list === undefined) {
      const held = this.recordsAt(name);
      for (const r of held) this.#replaced.add(r);
      list = [...held];
      this.#touched.set(name, list);
    }
    return list;
  }
}
