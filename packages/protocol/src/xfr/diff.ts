import type { DnsRecord } from '../message.js';
import { normalizeName } from '../names.js';

/** What changed between two versions of a zone's record set (SOA excluded). */
export interface ZoneDiff {
  deleted: DnsRecord[];
  added: DnsRecord[];
}

/**
 * A record's identity in a zone: owner (case-insensitive), type, class, TTL and data. A TTL
 * change is a deletion and an addition, as IXFR (RFC 1995) expresses it.
 */
export function recordKey(record: DnsRecord): string {
  const r = record as { name: string; type: string; class?: string; ttl?: number; data?: unknown };
  return `${normalizeName(r.name)}\t${r.type}\t${r.class ?? 'IN'}\t${r.ttl ?? 0}\t${JSON.stringify(r.data)}`;
}

/** The records only in `before` (deleted) and only in `after` (added); duplicates count once. */
export function diffRecords(before: readonly DnsRecord[], after: readonly DnsRecord[]): ZoneDiff {
  return diffKeyed(keyedRecords(before), after).diff;
}

/**
 * `diffRecords` with `before` already keyed (the previous version's `keyed`): only `after`'s
 * records are keyed, and `after` keyed comes back for the next diff. A primary that keeps
 * it halves the cost of a commit.
 */
export function diffKeyed(
  before: ReadonlyMap<string, DnsRecord>,
  after: readonly DnsRecord[],
): { diff: ZoneDiff; keyed: Map<string, DnsRecord> } {
  const now = keyedRecords(after);
  const deleted: DnsRecord[] = [];
  const added: DnsRecord[] = [];
  for (const [key, r] of before) if (!now.has(key)) deleted.push(r);
  for (const [key, r] of now) if (!before.has(key)) added.push(r);
  return { diff: { deleted, added }, keyed: now };
}

export type ApplyResult = { ok: true; records: DnsRecord[] } | { ok: false; error: string };

/**
 * Applies a diff to a copy of a zone. A deletion of a record the copy does not hold, or an
 * addition of one it already holds, means the two sides disagree on the starting version:
 * an error naming the record, never a silently different zone.
 */
export function applyDiff(records: readonly DnsRecord[], diff: ZoneDiff): ApplyResult {
  const copy = keyedRecords(records);
  const error = applyDiffTo(copy, diff);
  return error === null ? { ok: true, records: [...copy.values()] } : { ok: false, error };
}

/** A zone's records by `recordKey` (duplicates count once), in their order. */
export function keyedRecords(records: readonly DnsRecord[]): Map<string, DnsRecord> {
  return new Map(records.map((r) => [recordKey(r), r]));
}

/**
 * `applyDiff` on records already keyed (`keyedRecords`), in place: costs the diff's keys, not
 * the zone's. The error of the first record that does not apply, else null; on an error the
 * map is half changed (the caller drops it).
 */
export function applyDiffTo(
  copy: Map<string, DnsRecord>,
  diff: { readonly deleted: readonly DnsRecord[]; readonly added: readonly DnsRecord[] },
): string | null {
  for (const r of diff.deleted) {
    if (!copy.delete(recordKey(r)))
      return `deletion of ${r.name} ${r.type} does not match the current copy`;
  }
  for (const r of diff.added) {
    const key = recordKey(r);
    if (copy.has(key)) return `addition of ${r.name} ${r.type} is already in the current copy`;
    copy.set(key, r);
  }
  return null;
}
