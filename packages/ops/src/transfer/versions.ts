import {
  type DnsRecord,
  diffKeyed,
  isAtOrBelow,
  type JournalLimits,
  keyedRecords,
  nextSerial,
  type ZoneApex,
  type ZoneDiff,
  ZoneJournal,
} from '@mdns/protocol';
import { RecordsByName, type ZoneNames } from './records-by-name.js';

export type { ZoneNames } from './records-by-name.js';

/** One zone as a primary serves it: the serial, the records at that serial, its journal. */
export interface ZoneVersion {
  readonly apex: ZoneApex;
  /**
   * The records (SOA excluded) at `apex.soa.serial`; null while transfers are off, or (the
   * authority) until the zone's data was first complete. With `names`, built when first
   * read after a change (an AXFR), from the records kept per name.
   */
  readonly records: DnsRecord[] | null;
  readonly journal: ZoneJournal;
}

export interface ZoneVersionsOptions {
  /** The forward zones; each apex's `soa.serial` is moved in place on a change. */
  apexes: readonly ZoneApex[];
  /**
   * The zone's records now; absent (transfers off): no snapshot, no journal, serial only.
   * null: not known now (the authority with a copy missing): the version stays as it is.
   */
  records?: (apex: ZoneApex) => DnsRecord[] | null;
  /**
   * The zones' records name by name (the gateway), in place of `records`: a commit diffs
   * only the names `changed` reports, against the records kept per name.
   */
  names?: ZoneNames;
  journal: JournalLimits;
  /** A change is committed this long after the first change not yet committed. */
  debounceMs: number;
  /** Unix seconds. */
  now?: () => number;
  /** After a commit that changed these zones (NOTIFY goes out from here). */
  onCommit?: (zones: readonly string[]) => void;
}

/** A zone's version as kept here: `records` replaced whole, or (with `names`) a getter. */
interface Version {
  readonly apex: ZoneApex;
  records: DnsRecord[] | null;
  readonly journal: ZoneJournal;
}

/**
 * The zones' versions: the SOA serial moves with every change of a zone's data (time-based,
 * RFC 1982 `nextSerial`: never backwards, +1 within one second), and with transfers on, the
 * records at that serial and a journal of the diffs between serials for IXFR. Index changes
 * are condensed: the first change arms a timer of `debounceMs` (the NOTIFY debounce) and
 * everything up to its end is one new serial and one journal entry.
 */
export class ZoneVersions {
  readonly #options: ZoneVersionsOptions;
  readonly #zones = new Map<string, Version>();
  /** With `names`: each zone's records per name, and the names changed since its last commit. */
  readonly #byName = new Map<string, { kept: RecordsByName; pending: Set<string> }>();
  #timer: NodeJS.Timeout | null = null;
  #commits = 0;
  /**
   * Each zone's `records` by `recordKey`, kept from the commit that took them: the next
   * commit keys only the new list (`diffKeyed`). Dropped whenever `records` is replaced
   * otherwise (`baseline`).
   */
  readonly #keyed = new Map<string, ReadonlyMap<string, DnsRecord>>();

  constructor(options: ZoneVersionsOptions) {
    this.#options = options;
    const names = options.names;
    for (const apex of options.apexes) {
      const journal = new ZoneJournal(options.journal);
      if (names === undefined) {
        const records = options.records ? options.records(apex) : null;
        this.#zones.set(apex.zone, { apex, records, journal });
        continue;
      }
      const kept = new RecordsByName(() => names.fixed(apex));
      kept.reset(names.all(), (name) => names.records(apex, name));
      this.#byName.set(apex.zone, { kept, pending: new Set() });
      this.#zones.set(apex.zone, {
        apex,
        journal,
        get records() {
          return kept.list();
        },
      });
    }
    if (names !== undefined) this.#takeChanged(names);
  }

  /** Commits that moved a serial: answers built before one carry an old SOA. */
  get commits(): number {
    return this.#commits;
  }

  zone(name: string): ZoneVersion | undefined {
    return this.#zones.get(name);
  }

  /** The data changed: commit within `debounceMs` (later changes ride along). */
  changed(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.commit();
    }, this.#options.debounceMs);
    this.#timer.unref();
  }

  /**
   * Takes every zone's records now as its version at the serial it has: no new serial, no
   * journal entry, no commit counted; then `onCommit` for the zones (the secondaries may pull).
   * For data nobody can have been served yet (the gateway before its first full sync answers
   * SERVFAIL and refuses transfers): so each worker of one process that syncs the same data
   * holds the same serial for it (the start second), whenever its sync finished.
   */
  baseline(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const names: string[] = [];
    const byName = this.#options.names;
    if (byName !== undefined) this.#takeChanged(byName);
    for (const [name, version] of this.#zones) {
      const zone = this.#byName.get(name);
      if (byName !== undefined && zone !== undefined) {
        zone.kept.reset(byName.all(), (owner) => byName.records(version.apex, owner));
        zone.pending.clear();
      } else if (this.#options.records) {
        const records = this.#options.records(version.apex);
        if (records === null) continue;
        version.records = records;
        this.#keyed.delete(name);
      }
      names.push(name);
    }
    if (names.length > 0) this.#options.onCommit?.(names);
  }

  /** Takes the new version of every zone whose records changed; returns those zones. */
  commit(): string[] {
    const now = (this.#options.now ?? (() => Date.now() / 1000))();
    const changed: string[] = [];
    if (this.#options.names !== undefined) this.#takeChanged(this.#options.names);
    for (const [name, version] of this.#zones) {
      const soa = version.apex.soa;
      const byName = this.#takeDiff(name);
      if (byName !== null) {
        if (byName.deleted.length === 0 && byName.added.length === 0) continue;
        const from = soa.serial;
        soa.serial = nextSerial(from, now);
        version.journal.append(from, soa.serial, byName);
        changed.push(name);
        continue;
      }
      if (this.#options.records === undefined) {
        // Transfers off: no copy to compare with, so every zone takes the change.
        soa.serial = nextSerial(soa.serial, now);
        changed.push(name);
        continue;
      }
      const records = this.#options.records(version.apex);
      if (records === null) continue;
      const before = this.#keyed.get(name) ?? keyedRecords(version.records ?? []);
      const { diff, keyed } = diffKeyed(before, records);
      this.#keyed.set(name, keyed);
      if (diff.deleted.length === 0 && diff.added.length === 0) continue;
      const from = soa.serial;
      soa.serial = nextSerial(from, now);
      version.journal.append(from, soa.serial, diff);
      version.records = records;
      changed.push(name);
    }
    if (changed.length > 0) {
      this.#commits++;
      this.#options.onCommit?.(changed);
    }
    return changed;
  }

  /**
   * A follower's commit (a gateway worker, whose primary owns the serial): the zone's data
   * now is version `serial`. The records are taken and the journal entry written as
   * `commit` does, from this process's own data: the follower applied the same changes up
   * to the primary's commit, so both hold the same version. No `onCommit` (the primary sends
   * the NOTIFY). `whole` false: the data is still loading (before the first full sync):
   * only the serial is taken, `baseline` takes the records once they are whole. Returns
   * whether the serial moved.
   */
  adopt(zone: string, serial: number, whole: boolean): boolean {
    const version = this.#zones.get(zone);
    if (version === undefined || version.apex.soa.serial === serial) return false;
    const from = version.apex.soa.serial;
    if (this.#options.names !== undefined && whole) {
      this.#takeChanged(this.#options.names);
      // Even an empty diff is an entry: the journal's chain of serials stays unbroken.
      version.journal.append(from, serial, this.#takeDiff(zone) ?? { deleted: [], added: [] });
    }
    const records =
      whole && this.#options.names === undefined
        ? this.#options.records?.(version.apex)
        : undefined;
    if (records !== undefined && records !== null) {
      if (version.records !== null) {
        const before = this.#keyed.get(zone) ?? keyedRecords(version.records);
        const { diff, keyed } = diffKeyed(before, records);
        this.#keyed.set(zone, keyed);
        // Even an empty diff is an entry: the journal's chain of serials stays unbroken.
        version.journal.append(from, serial, diff);
      } else {
        this.#keyed.delete(zone);
      }
      version.records = records;
    }
    version.apex.soa.serial = serial;
    this.#commits++;
    return true;
  }

  /** Hands the names changed since the last call to each zone they are at or below. */
  #takeChanged(names: ZoneNames): void {
    for (const name of names.changed()) {
      for (const [zone, { pending }] of this.#byName) {
        if (isAtOrBelow(name, zone)) pending.add(name);
      }
    }
  }

  /**
   * With `names`: the zone's pending names taken into its kept records, and what that
   * changed; null without `names`.
   */
  #takeDiff(zone: string): ZoneDiff | null {
    const state = this.#byName.get(zone);
    const version = this.#zones.get(zone);
    if (state === undefined || version === undefined || this.#options.names === undefined) {
      return null;
    }
    const names = this.#options.names;
    const diff = state.kept.update(state.pending, (name) => names.records(version.apex, name));
    state.pending.clear();
    return diff;
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
