import {
  buildResponse,
  CLASS,
  maxResponseSize,
  patchStored,
  prepareStored,
  RCODE,
  type StoredAnswer,
  scan,
} from '@mdns/protocol';
import { type AnswerSource, answerQuery } from './answer.js';

/** Called once per answered query; `zone` is `'none'` for names outside every zone. */
export type ObserveQuery = (zone: string, qtype: number, rcode: number, seconds: number) => void;

export interface GatewayHandlerOptions {
  source: AnswerSource;
  /** The index generation: built answers are reused only while it stays the same. */
  generation: () => number;
  /** UDP payload size we advertise in our OPT (listen.udpSize). */
  serverUdpSize: number;
  observe?: ObserveQuery;
  /** Upper bound of reused answers; past it the store starts over. Default 100 000. */
  maxStoredAnswers?: number;
}

export interface HandlerCounters {
  /** Packets that did not scan as DNS, or were responses: dropped without an answer. */
  malformed: number;
  storedHits: number;
  storedMisses: number;
}

interface StoredEntry {
  readonly stored: StoredAnswer;
  readonly zone: string;
}

export interface GatewayHandler {
  handle(query: Uint8Array, peer: { transport: 'udp' | 'tcp' }): Uint8Array | null;
  readonly counters: HandlerCounters;
}

/**
 * The hot path: scan -> (reused answer | answer from the index) -> bytes.
 *
 * Every answer of an IN-class query inside a zone is built once per index generation and kept
 * as a protocol `StoredAnswer`, keyed by (qtype, qname). A repeat is then a scan, two Map
 * probes and one copy (`patchStored` writes the new ID, the client's question case and the
 * client's OPT). The key does not need the DO bit or the zone: we do not sign, so the records
 * do not depend on DO, the OPT is written per query, and a name belongs to one zone for the
 * life of the process. Any index change moves the generation and drops every stored answer,
 * which keeps invalidation trivially correct; answers are rebuilt lazily.
 */
export function createGatewayHandler(options: GatewayHandlerOptions): GatewayHandler {
  const { source, generation, serverUdpSize, observe } = options;
  const maxStored = options.maxStoredAnswers ?? 100_000;
  const counters: HandlerCounters = { malformed: 0, storedHits: 0, storedMisses: 0 };
  let byType = new Map<number, Map<string, StoredEntry>>();
  let storedCount = 0;
  let storedGeneration = generation();

  function remember(qtype: number, qname: string, entry: StoredEntry): void {
    if (storedCount >= maxStored) {
      byType = new Map();
      storedCount = 0;
    }
    let byName = byType.get(qtype);
    if (!byName) {
      byName = new Map();
      byType.set(qtype, byName);
    }
    byName.set(qname, entry);
    storedCount++;
  }

  function handle(bytes: Uint8Array, peer: { transport: 'udp' | 'tcp' }): Uint8Array | null {
    const started = observe ? performance.now() : 0;
    const scanned = scan(bytes);
    // A packet that is not a query gets no answer (answering garbage invites reflection).
    if (!scanned.ok || scanned.query.qr) {
      counters.malformed++;
      return null;
    }
    const q = scanned.query;
    const maxSize = maxResponseSize(q, peer.transport, serverUdpSize);
    const badVersion = q.edns !== null && q.edns.version > 0;
    const reusable = q.opcode === 0 && q.qdcount === 1 && q.qclass === CLASS.IN && !badVersion;

    if (reusable) {
      const gen = generation();
      if (gen !== storedGeneration) {
        byType = new Map();
        storedCount = 0;
        storedGeneration = gen;
      }
      const hit = byType.get(q.qtype)?.get(q.qname);
      if (hit) {
        counters.storedHits++;
        const out = patchStored(hit.stored, q, bytes, {
          elapsedSeconds: 0,
          maxSize,
          serverUdpSize,
        });
        if (observe)
          observe(hit.zone, q.qtype, hit.stored.rcode, (performance.now() - started) / 1000);
        return out;
      }
      counters.storedMisses++;
    }

    const answer = answerQuery(q, source);
    let out: Uint8Array;
    if (reusable && answer.cacheable && answer.zone !== null) {
      // Build the full answer once; each client gets it cut to its own size limit.
      const full = buildResponse(q, bytes, answer.parts, { maxSize: 65535, serverUdpSize });
      const stored = prepareStored(full);
      remember(q.qtype, q.qname, { stored, zone: answer.zone });
      out = patchStored(stored, q, bytes, { elapsedSeconds: 0, maxSize, serverUdpSize });
    } else {
      out = buildResponse(q, bytes, answer.parts, { maxSize, serverUdpSize });
    }
    if (observe) {
      const rcode = badVersion ? RCODE.BADVERS : answer.parts.rcode;
      observe(answer.zone ?? 'none', q.qtype, rcode, (performance.now() - started) / 1000);
    }
    return out;
  }

  return { handle, counters };
}
