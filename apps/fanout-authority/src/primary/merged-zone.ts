import {
  type DnsRecord,
  heldMarker,
  isAtOrBelow,
  normalizeName,
  QTYPE,
  typeNumber,
  type ZoneApex,
  zoneRecords,
} from '@mdns/protocol';
import type { Policy } from '../config/schema.js';
import { mergeRecords, positiveAnswer } from '../fanout/fanout.js';
import { decide, type UpstreamState } from '../fanout/merge.js';
import { capTtls } from '../fanout/ttl-cap.js';
import { answerFromCopy, type ReplicaCopy } from '../replica/copy.js';

/** One member of the zone, in config order, with the copy the authority answers it from. */
export interface MergeSource {
  name: string;
  /** Lower = preferred (`priority` policy). */
  priority: number;
  /** The replica's fresh copy; null: none (replication off, loading or expired). */
  copy: ReplicaCopy | null;
}

export interface MergedZoneInput {
  apex: ZoneApex;
  policy: Policy;
  sources: readonly MergeSource[];
  /** `cache.maxTtl`: the answer path caps every TTL at it. */
  maxTtl: number;
  /** The name belongs to this zone (not to a more specific zone the authority also serves). */
  owns: (name: string) => boolean;
}

export type MergedZone =
  | { ok: true; records: DnsRecord[] }
  /** The zone cannot be listed: an upstream is answered per query, its names unknown. */
  | { ok: false; why: string };

/**
 * The authority's zone as it answers it, for transfer (SOA excluded; the caller's
 * `ZoneVersions` adds it): the apex NS set and glue as the shared rules answer them, then,
 * for every name and type any copy holds, the decision a live query for it gets — each
 * copy's answer (`answerFromCopy`), the merge (`decide`: `all` the union, `first` the first
 * member in config order with data, `priority` the best), the records (`positiveAnswer`,
 * `chooseOwnerData` across clusters) and the TTL cap — keeping the records owned by that
 * name. Built from the same functions as the answer path, so a secondary serves what the
 * authority answers.
 *
 * A name where the per-type decisions leave a CNAME beside other data (only `first` or
 * `priority`, a CNAME in one cluster and other data in another: each query type is
 * decided alone) cannot be a zone (RFC 1034 3.6.2): addresses win over the CNAME, else the
 * CNAME wins, as `chooseOwnerData` decides for `all`.
 *
 * Only when every member has a fresh copy: a member asked per query has no list of names.
 */
export function mergedZone(input: MergedZoneInput): MergedZone {
  const { apex, policy, sources, maxTtl, owns } = input;
  const zone = apex.zone;
  const missing = sources.filter((s) => s.copy === null).map((s) => s.name);
  if (missing.length > 0) {
    return {
      ok: false,
      why: `no fresh copy of ${missing.join(', ')} (the zone is listed only when every upstream is replicated and fresh)`,
    };
  }
  const copies = sources.map((s) => s.copy as ReplicaCopy);
  const out: DnsRecord[] = zoneRecords({ namesWithRecords: () => [] }, apex, () => false);
  const withRecords = new Set<string>();
  for (const [name, types] of namesAndTypes(copies, zone, apex, owns)) {
    const lists: DnsRecord[][] = [];
    for (const qtype of types) {
      const states: UpstreamState[] = sources.map((s, i) => ({
        name: s.name,
        priority: s.priority,
        status: 'done',
        outcome: answerFromCopy(copies[i], name, qtype),
        order: i,
        unhealthy: false,
      }));
      const decision = decide({ policy, upstreams: states, allWaitExpired: true });
      if (decision.kind !== 'positive') continue;
      const answer = positiveAnswer(decision.winners, name, states);
      lists.push(answer.records.filter((rr) => normalizeName(rr.name) === name));
    }
    const records = capTtls(oneOwnerData(mergeRecords(lists)), maxTtl);
    if (records.length > 0) withRecords.add(name);
    out.push(...records);
  }
  // A name some member holds without data (health), which no member answers with data: it
  // exists (NODATA, as the answer path merges it), so the merged zone carries its marker.
  for (const copy of copies) {
    for (const name of copy.held.names()) {
      if (withRecords.has(name) || name === zone || apex.glue.has(name)) continue;
      if (!isAtOrBelow(name, zone) || !owns(name)) continue;
      withRecords.add(name);
      out.push(heldMarker(name));
    }
  }
  return { ok: true, records: out };
}

/** Every owner name of the copies in this zone, with the types held there (config order). */
function namesAndTypes(
  copies: readonly ReplicaCopy[],
  zone: string,
  apex: ZoneApex,
  owns: (name: string) => boolean,
): Map<string, Set<number>> {
  const names = new Map<string, Set<number>>();
  for (const copy of copies) {
    for (const rr of copy.records) {
      const name = normalizeName(rr.name);
      const type = typeNumber(String(rr.type));
      if (type === undefined || !isAtOrBelow(name, zone) || !owns(name)) continue;
      // The apex SOA and NS and the nameservers' addresses are the authority's own.
      if (name === zone && (type === QTYPE.SOA || type === QTYPE.NS)) continue;
      if (apex.glue.has(name) && (type === QTYPE.A || type === QTYPE.AAAA)) continue;
      let types = names.get(name);
      if (types === undefined) {
        types = new Set();
        names.set(name, types);
      }
      types.add(type);
    }
  }
  return names;
}

/** A CNAME never beside other data: addresses win over it, else it wins. */
function oneOwnerData(records: DnsRecord[]): DnsRecord[] {
  const cname = records.filter((rr) => rr.type === 'CNAME');
  if (cname.length === 0 || cname.length === records.length) return records;
  const addresses = records.some((rr) => rr.type === 'A' || rr.type === 'AAAA');
  return addresses ? records.filter((rr) => rr.type !== 'CNAME') : cname;
}
