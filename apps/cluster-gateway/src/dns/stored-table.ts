import {
  type PatchOptions,
  patchStoredFrom,
  type ScannedQuery,
  type StoredAnswer,
  type StoredLayout,
} from '@mdns/protocol';

/** Bytes per arena chunk. Answers are ~50-500 bytes: a chunk holds a hundred or more. */
const ARENA_CHUNK = 64 * 1024;
/** An answer larger than this (rare: long TXT sets) gets a chunk of its own. */
const OWN_CHUNK_OVER = ARENA_CHUNK / 4;
/** Numbers kept per answer in `#places`: chunk, start, length, layout, zone. */
const STRIDE = 5;
const FIRST_CAPACITY = 1024;

/**
 * Stored answers as numbers, not objects: the cheap form for tens of thousands of them.
 *
 * An answer is five integers in one growing `Uint32Array` (its arena chunk, where its bytes
 * start, how long they are, its layout and its zone), and the name map holds the answer's
 * slot number (a small integer: no allocation on either runtime). Before, every answer was
 * one object plus one `Buffer` view over a shared chunk: cells that live as long as the
 * answer, and JavaScriptCore (Bun) does not compact its heap, so they pinned half-empty
 * blocks. Here filling the table allocates per answer only its name key and its map slot
 * (and, for a new shape, a layout). With 20k names on Bun the RSS growth across the
 * bench's load phase went from a median of 20.0 to 17.0 MB (BENCHMARKS.md, "membun15"):
 * most of what is left is the load burst's garbage, not the stored answers.
 *
 * - Bytes are copied into dense 64 KB chunks (one ArrayBuffer per hundred-odd answers).
 * - Layouts (header fields, TTL offsets, TTLs, cuts) are shared between answers with equal
 *   contents: answers of one shape (one A record, same TTL, same name length) have equal
 *   layouts, so a zone of similar names has a few dozen. They are only ever read.
 *
 * Nothing is removed: the handler drops a whole table (its young/old halves, a new index
 * generation), which frees everything at once.
 */
export class StoredAnswerTable {
  /** qtype -> qname -> slot. */
  readonly #byType = new Map<number, Map<string, number>>();
  #places = new Uint32Array(FIRST_CAPACITY * STRIDE);
  #count = 0;
  /** Answer bytes plus the caller's per-entry estimate, for the byte bound. */
  #bytes = 0;
  readonly #chunks: Uint8Array[] = [];
  /** The chunk being filled (the last of `#chunks`, unless that one is an own chunk). */
  #open = -1;
  #used = ARENA_CHUNK;
  /** The chunk the last `#copy` wrote into (a second result without an array per call). */
  #copiedTo = 0;
  readonly #layouts: StoredLayout[] = [];
  readonly #layoutKeys: string[] = [];
  readonly #layoutIds = new Map<string, number>();
  readonly #zones: string[] = [];
  readonly #zoneIds = new Map<string, number>();

  /** Answers held. */
  get count(): number {
    return this.#count;
  }

  /** Bytes counted for the bound: every answer's length plus `entryOverhead` at `add`. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The slot of the answer for (qtype, qname), or -1. */
  find(qtype: number, qname: string): number {
    const slot = this.#byType.get(qtype)?.get(qname);
    return slot === undefined ? -1 : slot;
  }

  /** Keeps a prepared answer (its bytes are copied) and returns its slot. */
  add(
    qtype: number,
    qname: string,
    stored: StoredAnswer,
    zone: string,
    entryOverhead: number,
  ): number {
    const bytes = stored.bytes;
    const layout = this.#internLayout(layoutKey(stored), stored);
    return this.#put(qtype, qname, bytes, 0, bytes.length, layout, zone, entryOverhead);
  }

  /** Copies the answer in `slot` of `from` into this table (the young half re-taking an old one). */
  adopt(
    from: StoredAnswerTable,
    slot: number,
    qtype: number,
    qname: string,
    entryOverhead: number,
  ): number {
    const at = slot * STRIDE;
    const p = from.#places;
    const layoutId = p[at + 3];
    const layout = this.#internLayout(from.#layoutKeys[layoutId], from.#layouts[layoutId]);
    const zone = from.#zones[p[at + 4]];
    return this.#put(
      qtype,
      qname,
      from.#chunks[p[at]],
      p[at + 1],
      p[at + 2],
      layout,
      zone,
      entryOverhead,
    );
  }

  /** The answer in `slot` served to `query` (`patchStoredFrom`). */
  patch(
    slot: number,
    query: ScannedQuery,
    queryBytes: Uint8Array,
    options: PatchOptions,
  ): Uint8Array {
    const p = this.#places;
    const at = slot * STRIDE;
    return patchStoredFrom(
      this.#layouts[p[at + 3]],
      this.#chunks[p[at]],
      p[at + 1],
      p[at + 2],
      query,
      queryBytes,
      options,
    );
  }

  /** The zone the answer in `slot` belongs to (for the query metrics). */
  zoneOf(slot: number): string {
    return this.#zones[this.#places[slot * STRIDE + 4]];
  }

  /** The full rcode of the answer in `slot`. */
  rcodeOf(slot: number): number {
    return this.#layouts[this.#places[slot * STRIDE + 3]].rcode;
  }

  /** Bytes of the answer in `slot`, a view (tests and diagnostics; the hot path patches). */
  bytesOf(slot: number): Uint8Array {
    const p = this.#places;
    const at = slot * STRIDE;
    return this.#chunks[p[at]].subarray(p[at + 1], p[at + 1] + p[at + 2]);
  }

  /** The layout of the answer in `slot` (shared with every answer of the same shape). */
  layoutOf(slot: number): StoredLayout {
    return this.#layouts[this.#places[slot * STRIDE + 3]];
  }

  #put(
    qtype: number,
    qname: string,
    src: Uint8Array,
    start: number,
    length: number,
    layout: number,
    zone: string,
    entryOverhead: number,
  ): number {
    const byName = this.#nameMap(qtype);
    const known = byName.get(qname);
    // The same key again (a rebuilt answer): the new one wins, the old bytes stay unused
    // until the table is dropped.
    const slot = known !== undefined ? known : this.#count++;
    const at = this.#copy(src, start, length);
    if (slot * STRIDE + STRIDE > this.#places.length) this.#grow();
    const p = this.#places;
    const i = slot * STRIDE;
    p[i] = this.#copiedTo;
    p[i + 1] = at;
    p[i + 2] = length;
    p[i + 3] = layout;
    p[i + 4] = this.#zoneId(zone);
    if (known === undefined) byName.set(qname, slot);
    this.#bytes += length + entryOverhead;
    return slot;
  }

  #nameMap(qtype: number): Map<string, number> {
    let byName = this.#byType.get(qtype);
    if (byName === undefined) {
      byName = new Map();
      this.#byType.set(qtype, byName);
    }
    return byName;
  }

  #grow(): void {
    const next = new Uint32Array(this.#places.length * 2);
    next.set(this.#places);
    this.#places = next;
  }

  /** Copies bytes into the arena; returns where they start, `#copiedTo` says in which chunk. */
  #copy(src: Uint8Array, start: number, length: number): number {
    const from = src.subarray(start, start + length);
    if (length > OWN_CHUNK_OVER) {
      this.#chunks.push(Uint8Array.from(from));
      this.#copiedTo = this.#chunks.length - 1;
      return 0;
    }
    if (this.#open < 0 || this.#used + length > ARENA_CHUNK) {
      this.#chunks.push(new Uint8Array(ARENA_CHUNK));
      this.#open = this.#chunks.length - 1;
      this.#used = 0;
    }
    const at = this.#used;
    this.#chunks[this.#open].set(from, at);
    // 8-byte aligned, as the views over the chunk were before (kept for the same layout).
    this.#used += (length + 7) & ~7;
    this.#copiedTo = this.#open;
    return at;
  }

  #internLayout(key: string, layout: StoredLayout): number {
    const known = this.#layoutIds.get(key);
    if (known !== undefined) return known;
    const id = this.#layouts.length;
    // Only the layout's own fields: a StoredAnswer passed in would keep its bytes alive.
    this.#layouts.push({
      flags: layout.flags,
      rcode: layout.rcode,
      questionEnd: layout.questionEnd,
      ancount: layout.ancount,
      nscount: layout.nscount,
      arcount: layout.arcount,
      ttlOffsets: layout.ttlOffsets,
      ttls: layout.ttls,
      cuts: layout.cuts,
    });
    this.#layoutKeys.push(key);
    this.#layoutIds.set(key, id);
    return id;
  }

  #zoneId(zone: string): number {
    let id = this.#zoneIds.get(zone);
    if (id === undefined) {
      id = this.#zones.length;
      this.#zones.push(zone);
      this.#zoneIds.set(zone, id);
    }
    return id;
  }
}

/** Equal keys mean equal layouts: every field `patchStoredFrom` reads besides the bytes. */
export function layoutKey(layout: StoredLayout): string {
  return `${layout.flags},${layout.rcode},${layout.questionEnd},${layout.ancount},${layout.nscount},${layout.arcount}|${layout.ttlOffsets.join(',')}|${layout.ttls.join(',')}|${layout.cuts.join(',')}`;
}
