import type { QueryVia } from '@mdns/ops';
import {
  type AnswerSource,
  answerQuery,
  buildResponse,
  CLASS,
  indexRules,
  maxResponseSize,
  prepareStored,
  QTYPE,
  queryNameCacheSlots,
  type ScannedQuery,
  scan,
  setQueryNameCacheSlots,
} from '@mdns/protocol';
import { StoredAnswerTable } from './stored-table.js';

/** Called once per answered query; `zone` is `'none'` for names outside every zone. */
export type ObserveQuery = (
  zone: string,
  qtype: number,
  rcode: number,
  seconds: number,
  via: QueryVia,
) => void;

export interface GatewayHandlerOptions {
  source: AnswerSource;
  /** The index generation: built answers are reused only while it stays the same. */
  generation: () => number;
  /** UDP payload size we advertise in our OPT (listen.udpSize). */
  serverUdpSize: number;
  observe?: ObserveQuery;
  /**
   * Upper bound of reused answers (default 100 000), kept in two halves: when the young half
   * is full the old half is dropped and the young one becomes old; an old answer asked for
   * again moves back to the young half. An LRU approximation that costs a hit nothing.
   */
  maxStoredAnswers?: number;
  /** Upper bound of the reused answers' bytes, counted like entries. Default 16 MiB. */
  maxStoredBytes?: number;
  /**
   * AXFR/IXFR over TCP when transfers are enabled (`@mdns/ops` `createTransferResponder`); absent: they
   * take the shared rule (REFUSED) like over UDP.
   */
  transfer?: TransferHandler;
}

/** Answers a zone transfer request: one message, several (TCP), or none. */
export type TransferHandler = (
  query: ScannedQuery,
  bytes: Uint8Array,
  peer: QueryVia & { port?: number },
) => Uint8Array | Uint8Array[] | null;

/** Most slots the handler asks of `scan`'s name cache: 512 KiB of slots on 64-bit. */
const MAX_NAME_CACHE_SLOTS = 65536;

/**
 * Slots for `scan`'s query-name cache: room for every name of a full young half (the next
 * power of two), at most 65 536. With fewer slots than the names asked, nearly every query
 * makes a new name string (garbage that grew Bun's heap under load); the strings a slot
 * keeps are mostly the stored answers' own keys, so a bigger cache costs little more.
 */
export function nameCacheSlotsFor(halfEntries: number): number {
  let slots = 8192; // the protocol's default: never fewer
  while (slots < halfEntries && slots < MAX_NAME_CACHE_SLOTS) slots *= 2;
  return slots;
}

/** Estimated bytes per stored answer beside its own bytes (key, Map slot, objects). */
const ENTRY_OVERHEAD_BYTES = 200;

export interface HandlerCounters {
  /** Packets that did not scan as DNS, or were responses: dropped without an answer. */
  malformed: number;
  storedHits: number;
  storedMisses: number;
}

export interface GatewayHandler {
  handle(query: Uint8Array, peer: QueryVia): Uint8Array | Uint8Array[] | null;
  readonly counters: HandlerCounters;
}

/**
 * The hot path: scan -> (reused answer | answer from the index) -> bytes.
 *
 * Every answer of an IN-class query inside a zone is built once per index generation and kept
 * in a `StoredAnswerTable` (bytes in arena chunks, a shared layout, no object per answer),
 * keyed by (qtype, qname). A repeat is then a scan, two Map probes and one copy
 * (`patchStoredFrom` writes the new ID, the client's question case and the client's OPT). The key does not need the DO bit or the zone: we do not sign, so the records
 * do not depend on DO, the OPT is written per query, and a name belongs to one zone for the
 * life of the process. Any index change moves the generation and drops every stored answer,
 * which keeps invalidation trivially correct; answers are rebuilt lazily.
 */
export function createGatewayHandler(options: GatewayHandlerOptions): GatewayHandler {
  const { source, generation, serverUdpSize, observe, transfer } = options;
  const halfEntries = Math.max(1, Math.floor((options.maxStoredAnswers ?? 100_000) / 2));
  const halfBytes = Math.max(1, Math.floor((options.maxStoredBytes ?? 16 * 1024 * 1024) / 2));
  const counters: HandlerCounters = { malformed: 0, storedHits: 0, storedMisses: 0 };
  // Process-wide (per worker thread): only ever grown, so handlers never shrink each other's.
  const nameSlots = nameCacheSlotsFor(halfEntries);
  if (queryNameCacheSlots() < nameSlots) setQueryNameCacheSlots(nameSlots);
  const rules = indexRules(source);
  // One options object for every patch (handle is synchronous): no allocation per query.
  const patchOptions = { elapsedSeconds: 0, maxSize: 0, serverUdpSize };
  /** Young and old half, each a table of its own: dropping one frees its answers at once. */
  let young = new StoredAnswerTable();
  let old: StoredAnswerTable | null = null;
  let storedGeneration = generation();

  function dropAll(): void {
    young = new StoredAnswerTable();
    old = null;
  }

  /** The young half, rotated first when it is full. */
  function youngWithRoom(): StoredAnswerTable {
    if (young.count >= halfEntries || young.bytes >= halfBytes) {
      old = young;
      young = new StoredAnswerTable();
    }
    return young;
  }

  /** The table and slot of the answer for (qtype, qname), an old one moved to the young half. */
  let foundIn: StoredAnswerTable = young;
  function lookup(qtype: number, qname: string): number {
    const hit = young.find(qtype, qname);
    if (hit >= 0 || old === null) {
      foundIn = young;
      return hit;
    }
    const from = old;
    const aged = from.find(qtype, qname);
    if (aged < 0) return aged;
    // The name key and the map slot cost about as much again as small bytes.
    const into = youngWithRoom();
    foundIn = into;
    return into.adopt(from, aged, qtype, qname, ENTRY_OVERHEAD_BYTES);
  }

  function handle(bytes: Uint8Array, peer: QueryVia): Uint8Array | Uint8Array[] | null {
    const started = observe ? performance.now() : 0;
    const scanned = scan(bytes);
    // A packet that is not a query gets no answer (answering garbage invites reflection).
    if (!scanned.ok || scanned.query.qr) {
      counters.malformed++;
      return null;
    }
    const q = scanned.query;
    // The one place a transfer leaves the answer path: over TCP, with transfers enabled.
    if (
      transfer !== undefined &&
      (q.qtype === QTYPE.AXFR || q.qtype === QTYPE.IXFR) &&
      peer.transport === 'tcp' &&
      q.opcode === 0 &&
      q.qdcount === 1
    ) {
      return transfer(q, bytes, peer);
    }
    const maxSize = maxResponseSize(q, peer.transport, serverUdpSize);
    const badVersion = q.edns !== null && q.edns.version > 0;
    const reusable =
      q.opcode === 0 && q.qdcount === 1 && q.qclass === CLASS.IN && !badVersion && q.trailing === 0;

    if (reusable) {
      const gen = generation();
      if (gen !== storedGeneration) {
        dropAll();
        storedGeneration = gen;
      }
      const hit = lookup(q.qtype, q.qname);
      if (hit >= 0) {
        counters.storedHits++;
        patchOptions.maxSize = maxSize;
        const table = foundIn;
        const out = table.patch(hit, q, bytes, patchOptions);
        if (observe) {
          observe(
            table.zoneOf(hit),
            q.qtype,
            table.rcodeOf(hit),
            (performance.now() - started) / 1000,
            peer,
          );
        }
        return out;
      }
      counters.storedMisses++;
    }

    const answer = answerQuery(q, source, rules);
    let out: Uint8Array;
    if (reusable && answer.cacheable && answer.zone !== null) {
      // Build the full answer once; each client gets it cut to its own size limit.
      const full = buildResponse(q, bytes, answer.parts, { maxSize: 65535, serverUdpSize });
      const table = youngWithRoom();
      const slot = table.add(
        q.qtype,
        q.qname,
        prepareStored(full),
        answer.zone,
        ENTRY_OVERHEAD_BYTES,
      );
      patchOptions.maxSize = maxSize;
      out = table.patch(slot, q, bytes, patchOptions);
    } else {
      out = buildResponse(q, bytes, answer.parts, { maxSize, serverUdpSize });
    }
    if (observe) {
      observe(
        answer.zone ?? 'none',
        q.qtype,
        answer.parts.rcode,
        (performance.now() - started) / 1000,
        peer,
      );
    }
    return out;
  }

  return { handle, counters };
}
