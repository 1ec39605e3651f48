import {
  type AnswerSource,
  answerQuery,
  applyZoneDiffs,
  type DnsRecord,
  type HeldNameSet,
  type IndexFound,
  indexFromRecords,
  indexRules,
  isAtOrBelow,
  keyedRecords,
  type LoadedZone,
  negativeSoa,
  type RecordChanges,
  type RecordIndex,
  type RuleZone,
  type ScannedQuery,
  type SharedRules,
  type SoaFields,
  type ZoneApex,
  type ZoneCopy,
} from '@mdns/protocol';
import { type Classification, classifyReply } from '../upstream/classify.js';

/**
 * One upstream's zone as this secondary holds it: the records of a transfer and the
 * `RecordIndex` built from them, never changed after it is built (a newer transfer builds a
 * new copy beside it and the replica swaps one reference).
 */
export interface ReplicaCopy {
  readonly zone: string;
  readonly serial: number;
  readonly soa: SoaFields;
  /** The SOA record's TTL (what the workers' copies are rebuilt with, share.ts). */
  readonly soaTtl: number;
  /** Every record but the SOA, as transferred: what the next IXFR's diffs apply to. */
  readonly records: readonly DnsRecord[];
  /**
   * The same records by `recordKey`, for the next IXFR of a copy that answers nothing (the
   * primary of several workers): it copies this map and keys only the diff's records. Built
   * at first use when the transfer did not give it. A warm copy never builds it: its IXFR is
   * checked against its per-name lists (`heldForTransfer`), so the zone is not kept twice.
   */
  readonly keyed: ReadonlyMap<string, DnsRecord>;
  /** The answering structure is built (`warmCopy`, or a first query). */
  readonly warm: boolean;
  /** The loaded zone the index belongs to: what the next IXFR's copy is built from. */
  readonly loaded: LoadedZone;
  readonly index: RecordIndex<'zone'>;
  /** Names the primary holds without data (its held-name markers): NODATA, not NXDOMAIN. */
  readonly held: HeldNameSet;
  /** Records the index does not serve (NS below the apex, other types): counted, not fatal. */
  readonly skipped: number;
  /** The answer function's view of this copy (built once). */
  readonly rules: SharedRules<IndexFound>;
  readonly source: AnswerSource;
}

/**
 * Builds the copy of a transfer's zone at `serial`. The answering structure (index, rules)
 * is built at its first use, once: the primary of several workers holds copies it never
 * answers from (replica/share.ts), and a worker builds it at once (`warmCopy`), before the
 * copy is swapped in, so no query pays for it. `keyed`: the records by key, if the transfer
 * gave them (an IXFR).
 */
export function buildCopy(
  zone: string,
  soaRecord: DnsRecord,
  records: readonly DnsRecord[],
  keyed?: ReadonlyMap<string, DnsRecord>,
): ReplicaCopy {
  return copyOf(zone, soaRecord, records, keyed, () => indexFromRecords(records, zone));
}

/**
 * The copy after an IXFR, built from `previous` (warm: its answering structure exists) and
 * the diffs in work proportional to the names they touch (`applyZoneDiffs`), at once: the
 * new copy holds no reference to `previous`, so the old copy is garbage once swapped out.
 * `previous` is not changed: it answers until the new copy is swapped in.
 */
export function copyAfterDiffs(
  previous: ReplicaCopy,
  soaRecord: DnsRecord,
  records: readonly DnsRecord[],
  diffs: readonly RecordChanges[],
): ReplicaCopy {
  const loaded = applyZoneDiffs(previous.loaded, diffs, previous.zone);
  return warmCopy(copyOf(previous.zone, soaRecord, records, undefined, () => loaded));
}

/**
 * What the next transfer is checked against (the transfer client's `ZoneCopy`): a warm
 * copy's records per name (an IXFR keys only the names it touches), else the records by key.
 */
export function heldForTransfer(copy: ReplicaCopy): ZoneCopy {
  const { serial, records } = copy;
  return copy.warm
    ? { serial, records, recordsAt: copy.loaded.recordsAt }
    : { serial, records, keyed: copy.keyed };
}

function copyOf(
  zone: string,
  soaRecord: DnsRecord,
  records: readonly DnsRecord[],
  keyed: ReadonlyMap<string, DnsRecord> | undefined,
  load: () => LoadedZone,
): ReplicaCopy {
  const soa = { ...(soaRecord as { data: SoaFields }).data };
  const soaTtl = (soaRecord as { ttl?: number }).ttl ?? 0;
  let built: Answering | null = null;
  let loader: (() => LoadedZone) | null = load;
  const answering = () => {
    if (built === null) {
      built = buildAnswering(zone, soa, soaTtl, (loader as () => LoadedZone)());
      loader = null;
    }
    return built;
  };
  let byKey = keyed ?? null;
  return {
    zone,
    serial: soa.serial >>> 0,
    soa,
    soaTtl,
    records,
    get keyed() {
      byKey ??= keyedRecords(records);
      return byKey;
    },
    get warm() {
      return built !== null;
    },
    get loaded() {
      return answering().loaded;
    },
    get index() {
      return answering().index;
    },
    get held() {
      return answering().held;
    },
    get skipped() {
      return answering().skipped;
    },
    get rules() {
      return answering().rules;
    },
    get source() {
      return answering().source;
    },
  };
}

type Answering = Pick<ReplicaCopy, 'loaded' | 'index' | 'held' | 'skipped' | 'rules' | 'source'>;

/** Builds the answering structure of `copy` now (a worker, before the swap). */
export function warmCopy(copy: ReplicaCopy): ReplicaCopy {
  void copy.rules;
  return copy;
}

function buildAnswering(
  zone: string,
  soa: SoaFields,
  soaTtl: number,
  loaded: LoadedZone,
): Answering {
  const ns = loaded.apex
    .filter((r) => r.type === 'NS')
    .map((r) => String((r as { data: unknown }).data).toLowerCase());
  // The primary's own apex: its NS set, and no glue rule, so its nameservers' addresses are
  // answered from the transferred A/AAAA records like any other name's.
  const apex: ZoneApex = { zone, soa, soaTtl, ns, nsTtl: 0, glue: new Map() };
  const ruleZone: RuleZone = { name: zone, apex, negativeSoa: negativeSoa(apex) };
  const source: AnswerSource = {
    zoneOf: (qname) => (isAtOrBelow(qname, zone) ? ruleZone : undefined),
    lookup: loaded.lookup,
    ready: () => true,
  };
  return {
    loaded,
    index: loaded.index,
    held: loaded.held,
    skipped: loaded.skipped.length,
    rules: indexRules(source),
    source,
  };
}

/**
 * What the primary would answer for (qname, qtype), classified as its reply would be: the
 * protocol's answer function (the gateway's own) over the copy, then `classifyReply`, so a
 * replica answer enters the merge exactly as the same reply from the network does.
 * `qname` normalized (as the handler's scan gives it).
 */
export function answerFromCopy(copy: ReplicaCopy, qname: string, qtype: number): Classification {
  const query: ScannedQuery = {
    id: 0,
    flags: 0,
    qr: false,
    opcode: 0,
    rd: false,
    cd: false,
    qdcount: 1,
    ancount: 0,
    nscount: 0,
    arcount: 0,
    qname,
    questionStart: 12,
    questionEnd: 12,
    qtype,
    qclass: 1,
    edns: null,
    trailing: 0,
  };
  const { parts } = answerQuery(query, copy.source, copy.rules);
  return classifyReply(
    { rcode: parts.rcode, answers: parts.answers ?? [], additionals: parts.additionals ?? [] },
    qname,
    qtype,
    copy.zone,
  );
}
