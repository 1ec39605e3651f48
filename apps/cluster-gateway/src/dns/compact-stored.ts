import type { StoredAnswer } from '@mdns/protocol';

/** A stored answer and the zone it belongs to (for the query metrics), in one object. */
export interface StoredEntry extends StoredAnswer {
  readonly zone: string;
}

/** Bytes per arena chunk. Answers are ~50-500 bytes: a chunk holds a hundred or more. */
const ARENA_CHUNK = 64 * 1024;
/** Distinct interned arrays kept; past it the table starts over (entries keep theirs). */
const MAX_INTERNED = 4096;

/**
 * Re-homes stored answers so that tens of thousands of them stay cheap (measured with 20k
 * names: ~1.6 KB per answer before, ~360 bytes after, name key and Map slot included):
 *
 * - `bytes` are copied into dense 64 KB chunks. `prepareStored` gives each answer a
 *   right-sized buffer of its own, and every one of those is a JS object, an ArrayBuffer
 *   and a malloc'd backing store: a chunk shared by a hundred answers costs one of each.
 * - `ttlOffsets`, `ttls` and `cuts` are shared between answers with equal contents. Each
 *   small Uint32Array costs ~180 bytes of objects, and answers of one shape (one A record,
 *   same TTL, same name length) have equal arrays: for a zone of similar names there are
 *   a few dozen distinct ones. They are only ever read (`patchStored`).
 */
export class StoredCompactor {
  #chunk = new ArrayBuffer(ARENA_CHUNK);
  #used = 0;
  #interned = new Map<string, Uint32Array>();

  compact(stored: StoredAnswer, zone: string): StoredEntry {
    return {
      bytes: this.#copy(stored.bytes),
      flags: stored.flags,
      rcode: stored.rcode,
      questionEnd: stored.questionEnd,
      ancount: stored.ancount,
      nscount: stored.nscount,
      arcount: stored.arcount,
      ttlOffsets: this.#intern(stored.ttlOffsets),
      ttls: this.#intern(stored.ttls),
      cuts: this.#intern(stored.cuts),
      minTtl: stored.minTtl,
      zone,
    };
  }

  #copy(bytes: Buffer): Buffer {
    const len = bytes.length;
    // A large answer (rare: long TXT sets) gets its own memory rather than waste a chunk.
    if (len > ARENA_CHUNK / 4) return Buffer.from(bytes);
    if (this.#used + len > ARENA_CHUNK) {
      this.#chunk = new ArrayBuffer(ARENA_CHUNK);
      this.#used = 0;
    }
    const out = Buffer.from(this.#chunk, this.#used, len);
    bytes.copy(out);
    // 8-byte aligned, so a view never straddles another's alignment.
    this.#used += (len + 7) & ~7;
    return out;
  }

  #intern(values: Uint32Array): Uint32Array {
    const key = values.join(',');
    const known = this.#interned.get(key);
    if (known) return known;
    if (this.#interned.size >= MAX_INTERNED) this.#interned = new Map();
    this.#interned.set(key, values);
    return values;
  }
}
