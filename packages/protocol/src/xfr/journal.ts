import { recordKey, type ZoneDiff } from './diff.js';

/** One journal entry: the change from serial `from` to serial `to`. */
export interface JournalEntry extends ZoneDiff {
  from: number;
  to: number;
  /** Estimated memory of the entry (the records' identity strings). */
  bytes: number;
}

export interface JournalLimits {
  /** Entries kept; the oldest goes first. */
  maxEntries: number;
  /** Estimated bytes kept; the oldest entries go first. */
  maxBytes: number;
}

/** Per-record overhead beside its key string: the record object and array slot. */
const RECORD_OVERHEAD = 64;

/**
 * The recent changes of one zone, bounded in entries and bytes, for IXFR (RFC 1995): a
 * client at a serial the journal still starts from gets the diffs since; any other serial
 * gets the whole zone.
 */
export class ZoneJournal {
  readonly #limits: JournalLimits;
  #entries: JournalEntry[] = [];
  #bytes = 0;

  constructor(limits: JournalLimits) {
    this.#limits = limits;
  }

  get entries(): number {
    return this.#entries.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Records a change; an entry over `maxBytes` alone empties the journal (AXFR for all). */
  append(from: number, to: number, diff: ZoneDiff): void {
    let bytes = 0;
    for (const r of diff.deleted) bytes += recordKey(r).length + RECORD_OVERHEAD;
    for (const r of diff.added) bytes += recordKey(r).length + RECORD_OVERHEAD;
    const last = this.#entries.at(-1);
    if (last !== undefined && last.to !== from) this.clear();
    this.#entries.push({ from, to, deleted: diff.deleted, added: diff.added, bytes });
    this.#bytes += bytes;
    while (
      this.#entries.length > 0 &&
      (this.#entries.length > this.#limits.maxEntries || this.#bytes > this.#limits.maxBytes)
    ) {
      this.#bytes -= this.#entries.shift()!.bytes;
    }
  }

  clear(): void {
    this.#entries = [];
    this.#bytes = 0;
  }

  /**
   * The entries from `serial` to the newest, in order: `[]` when `serial` is the newest,
   * `null` when the journal does not reach back to it (the caller sends the whole zone).
   */
  since(serial: number, current: number): readonly JournalEntry[] | null {
    if (serial >>> 0 === current >>> 0) return [];
    const at = this.#entries.findIndex((e) => e.from >>> 0 === serial >>> 0);
    if (at < 0) return null;
    const tail = this.#entries.slice(at);
    return tail.at(-1)!.to >>> 0 === current >>> 0 ? tail : null;
  }
}
