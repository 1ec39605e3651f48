import { describe, expect, it } from 'vitest';
import {
  applyDiff,
  applyZoneDiffs,
  type DnsRecord,
  HELD_TYPE_NAME,
  type IndexLookup,
  indexFromRecords,
  type LoadedZone,
  recordKey,
  type TransferOutcome,
  validateTransfer,
  type ZoneDiff,
} from '../src/index.js';
import { namesUpTo, rng } from './support/seeded.js';

// A secondary applies an IXFR to its loaded zone incrementally (`applyZoneDiffs`): the
// result must answer exactly as a full rebuild (`indexFromRecords`) over the records the
// diffs produce, and the zone it started from must answer as before (it is still being
// answered from while the new one is built). Random zones and diff sequences from a seeded
// generator (a failure repeats): wildcards, CNAME beside addresses and replacing them,
// held-name markers (TYPE65432), empty non-terminals appearing and vanishing, records
// the index skips (NS below the apex, other classes), the apex NS set.
const ZONE = 'z.test';

const LABELS = ['a', 'b', '*'];

const NAMES = namesUpTo(ZONE, LABELS, 3);
/** Query names: every owner name, and names below them (wildcard-covered, NXDOMAIN). */
const QUERIES = [...NAMES, ...NAMES.map((n) => `x.${n}`), ...NAMES.map((n) => `y.x.${n}`)];

const rr = (name: string, type: string, data: unknown, ttl = 300, rrClass = 'IN'): DnsRecord =>
  ({ name, type, class: rrClass, ttl, data }) as DnsRecord;

function randomRecord(next: () => number): DnsRecord {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)];
  const name = pick(NAMES);
  const ttl = pick([60, 300]);
  switch (Math.floor(next() * 9)) {
    case 0:
    case 1:
      return rr(name, 'A', `10.0.0.${Math.floor(next() * 4)}`, ttl);
    case 2:
      return rr(name, 'AAAA', `fd00::${Math.floor(next() * 3)}`, ttl);
    case 3:
      return rr(name, 'CNAME', pick(['t1.other.test', 't2.other.test']), ttl);
    case 4:
      return rr(name, 'TXT', [`v=${Math.floor(next() * 3)}`], ttl);
    case 5:
      return rr(name, 'MX', { preference: 10, exchange: `mx${Math.floor(next() * 2)}.z.test` });
    case 6:
      return rr(name, HELD_TYPE_NAME, Buffer.alloc(0), 0);
    case 7:
      return name === ZONE
        ? rr(ZONE, 'NS', `ns${Math.floor(next() * 2)}.z.test`)
        : rr(name, 'NS', 'ns.elsewhere.test');
    default:
      return rr(name, 'A', '10.9.9.9', ttl, pick(['IN', 'CH']));
  }
}

/** 30 random records, none twice. */
function randomZone(next: () => number): DnsRecord[] {
  const records: DnsRecord[] = [];
  for (let i = 0; i < 30; i++) {
    const r = randomRecord(next);
    if (!records.some((h) => recordKey(h) === recordKey(r))) records.push(r);
  }
  return records;
}

/** A diff that applies to `records`: some deleted, some new ones (never held already). */
function randomDiff(records: readonly DnsRecord[], next: () => number): ZoneDiff {
  const deleted = records.filter(() => next() < 0.25);
  const present = new Set(records.map(recordKey));
  for (const r of deleted) present.delete(recordKey(r));
  const added: DnsRecord[] = [];
  const count = Math.floor(next() * 6);
  for (let i = 0; i < count; i++) {
    const r = randomRecord(next);
    if (present.has(recordKey(r))) continue;
    present.add(recordKey(r));
    added.push(r);
  }
  return { deleted, added };
}

/** Everything a zone answers from: the lookup of every query name, the apex, the skipped count. */
function answers(zone: LoadedZone): unknown {
  const lookups: Record<string, IndexLookup> = {};
  for (const q of QUERIES) lookups[q] = zone.lookup(q, ZONE);
  return {
    lookups,
    apex: zone.apex.map(recordKey).sort(),
    skipped: zone.skipped.length,
    size: zone.index.size,
    held: [...zone.held.names()].sort(),
    // What the next IXFR is checked against (`recordsAt`): every record of each name.
    recordsAt: Object.fromEntries(NAMES.map((n) => [n, zone.recordsAt(n).map(recordKey).sort()])),
  };
}

describe('applyZoneDiffs: an IXFR applied to a loaded zone, name by name', () => {
  for (let seed = 1; seed <= 40; seed++) {
    it(`answers as a full rebuild, and leaves the zone it started from as it was (seed ${seed})`, () => {
      const next = rng(seed);
      let records = randomZone(next);
      let zone = indexFromRecords(records, ZONE);
      for (let step = 0; step < 12; step++) {
        // One transfer carries one to three diff sequences, applied in order.
        const diffs: ZoneDiff[] = [];
        let after = records;
        for (let d = 1 + Math.floor(next() * 3); d > 0; d--) {
          const diff = randomDiff(after, next);
          const applied = applyDiff(after, diff);
          if (!applied.ok) throw new Error(applied.error);
          after = applied.records;
          diffs.push(diff);
        }
        const before = answers(zone);
        const incremental = applyZoneDiffs(zone, diffs, ZONE);
        expect(answers(incremental)).toEqual(answers(indexFromRecords(after, ZONE)));
        expect(answers(zone)).toEqual(before);
        records = after;
        zone = incremental;
      }
    });
  }

  // Long chains: the copies' maps (OverlayMap) fold their deltas into fresh bases along the
  // way while earlier copies still share the old ones; none of them may change.
  for (let seed = 1; seed <= 8; seed++) {
    it(`a chain of 80 IXFRs: every copy still answers as it did when it was built (seed ${seed})`, () => {
      const next = rng(seed + 500);
      let records = randomZone(next);
      let zone = indexFromRecords(records, ZONE);
      const built: Array<{ zone: LoadedZone; answered: unknown }> = [
        { zone, answered: answers(zone) },
      ];
      for (let step = 0; step < 80; step++) {
        const diff = randomDiff(records, next);
        const applied = applyDiff(records, diff);
        if (!applied.ok) throw new Error(applied.error);
        records = applied.records;
        zone = applyZoneDiffs(zone, [diff], ZONE);
        expect(answers(zone)).toEqual(answers(indexFromRecords(records, ZONE)));
        built.push({ zone, answered: answers(zone) });
      }
      for (const { zone: z, answered } of built) expect(answers(z)).toEqual(answered);
    });
  }

  it('replaces addresses by a CNAME and removes an empty non-terminal with its last name', () => {
    const records = [rr('a.b.z.test', 'A', '10.0.0.1'), rr('c.z.test', 'A', '10.0.0.2')];
    const zone = indexFromRecords(records, ZONE);
    expect(zone.lookup('b.z.test', ZONE).type).toBe('empty');
    const next = applyZoneDiffs(
      zone,
      [
        {
          deleted: [records[0], records[1]],
          added: [rr('c.z.test', 'CNAME', 'target.other.test')],
        },
      ],
      ZONE,
    );
    expect(next.lookup('b.z.test', ZONE).type).toBe('nxdomain');
    expect(next.lookup('a.b.z.test', ZONE).type).toBe('nxdomain');
    const c = next.lookup('c.z.test', ZONE);
    expect(c.type === 'records' && c.records.cname).toBe('target.other.test');
    // The zone it came from still answers the old data.
    expect(zone.lookup('b.z.test', ZONE).type).toBe('empty');
    const old = zone.lookup('c.z.test', ZONE);
    expect(old.type === 'records' && old.records.cname).toBe(null);
  });
});

const soa = (serial: number): DnsRecord =>
  ({
    name: ZONE,
    type: 'SOA',
    ttl: 300,
    data: {
      mname: `ns.${ZONE}`,
      rname: `hostmaster.${ZONE}`,
      serial,
      refresh: 60,
      retry: 30,
      expire: 600,
      minimum: 60,
    },
  }) as DnsRecord;

/** An outcome with its record list as sorted keys (the two ways list records in other orders). */
function comparable(outcome: TransferOutcome): unknown {
  if (!outcome.ok || outcome.kind !== 'ixfr') return outcome;
  const { keyed: _keyed, records, ...rest } = outcome;
  return { ...rest, records: records.map(recordKey).sort() };
}

describe('validateTransfer: an IXFR checked against the records per name (recordsAt)', () => {
  for (let seed = 1; seed <= 30; seed++) {
    it(`gives the outcome of the records keyed, good diffs and bad (seed ${seed})`, () => {
      const next = rng(seed + 1000);
      const records = randomZone(next);
      const zone = indexFromRecords(records, ZONE);
      for (let step = 0; step < 10; step++) {
        const body: DnsRecord[] = [];
        let after = records;
        let serial = 1;
        for (let d = 1 + Math.floor(next() * 3); d > 0; d--) {
          const diff = randomDiff(after, next);
          const bad = next();
          // A deletion the copy does not hold, or an addition it already holds.
          if (bad < 0.15) diff.deleted.push(rr(`nothere.${ZONE}`, 'A', '10.1.1.1'));
          else if (bad < 0.3 && after.length > 0) diff.added.push(after[0]);
          const applied = applyDiff(after, diff);
          if (applied.ok) after = applied.records;
          body.push(soa(serial), ...diff.deleted, soa(serial + 1), ...diff.added);
          serial++;
        }
        const answers = [soa(serial), ...body, soa(serial)];
        const limits = { maxRecords: 10_000 };
        const keyed = validateTransfer(ZONE, answers, { serial: 1, records }, limits);
        const byName = validateTransfer(
          ZONE,
          answers,
          { serial: 1, records, recordsAt: zone.recordsAt },
          limits,
        );
        expect(comparable(byName)).toEqual(comparable(keyed));
        // The holder's lists are never changed.
        expect(answersOfRecords(zone)).toEqual(answersOfRecords(indexFromRecords(records, ZONE)));
      }
    });
  }
});

function answersOfRecords(zone: LoadedZone): unknown {
  return Object.fromEntries(NAMES.map((n) => [n, zone.recordsAt(n).map(recordKey)]));
}
