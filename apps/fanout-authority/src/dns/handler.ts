import type { Logger, Siblings } from '@mdns/ops';
import {
  buildResponse,
  errorResponse,
  maxResponseSize,
  OPCODE,
  patchAnswer,
  patchStored,
  prepareStored,
  RCODE,
  type ResponseParts,
  type ScannedQuery,
  scan,
  sharedRules,
} from '@mdns/protocol';
import type { Handler, Peer } from '@mdns/transport';
import {
  type AnswerCache,
  answerKey,
  CacheGuard,
  type CacheHit,
  type SingleFlight,
} from '../cache/index.js';
import type { Runtime, ZoneRuntime } from '../config/runtime.js';
import { decideFromReplicas, type FanoutResult, startFanout } from '../fanout/fanout.js';
import { capTtls } from '../fanout/ttl-cap.js';
import type { AuthorityMetrics } from '../metrics.js';
import { createNotifyAcceptor } from '../notify/accept.js';
import type { Replica } from '../replica/replica.js';
import {
  ReplicaAnswers,
  type ReplicaStoredAnswer,
  type ZoneStoredAnswers,
} from '../replica/stored-answers.js';
import { MissLimiter } from './miss-limit.js';
import { answerSiblingsFromCache, staleFromSiblings } from './sibling-stale.js';

export interface HandlerContext {
  /** The current runtime; read once per query so a reload never mixes two configs. */
  runtime: () => Runtime;
  cache: () => AnswerCache | null;
  flights: SingleFlight<FanoutResult>;
  metrics: AuthorityMetrics;
  logger: Pick<Logger, 'warn' | 'debug'>;
  /**
   * The other worker processes (listen.workers > 1): a NOTIFY must expire their caches too,
   * and a failed fan-out may be answered from their caches (sibling-stale.ts).
   */
  siblings?: Siblings;
  /**
   * Serve zones whose every upstream is replicated from stored merged answers (default
   * true). False: every replicated answer goes the long way (fan-out over the copies,
   * `buildResponse`); tests compare the two paths' bytes with it.
   */
  storedReplicaAnswers?: boolean;
}

/**
 * One query past the local rules and the fresh cache: what every step of the miss path
 * (limit, fan-out, store, serve-stale) needs, in one object.
 */
interface Miss {
  q: ScannedQuery;
  bytes: Uint8Array;
  peer: Peer;
  rt: Runtime;
  zone: ZoneRuntime;
  /** The cache key, or null when caching is off or the key could not be made. */
  key: string | null;
  /** The expired entry still held for serve-stale (RFC 8767), if any. */
  stale: CacheHit | null;
  /** performance.now() at receive, for the duration metric. */
  started: number;
  /**
   * The full-size reply this miss's own fan-out built for the cache (`stored`): when it fits
   * the client's size it is the client's reply too, byte for byte, so it is not built twice.
   */
  full?: Uint8Array;
}

const NO_ZONE = 'none';

/**
 * The DNS hot path: scan, shared rules (local.ts), cache, fan-out, reply. NOTIFY goes to
 * notify/accept.ts.
 */
export function createHandler(ctx: HandlerContext): Handler {
  const { metrics } = ctx;
  const cache = new CacheGuard(ctx.cache, metrics, ctx.logger);
  const acceptNotify = createNotifyAcceptor(ctx, cache);
  if (ctx.siblings) answerSiblingsFromCache(ctx.siblings, cache, ctx.runtime);

  // One options object for every fresh hit: patchStored reads it synchronously and keeps
  // no reference, so reusing it saves an allocation per answer.
  const freshPatch = { elapsedSeconds: 0, maxSize: 0, serverUdpSize: 0 };

  function patchFresh(
    hit: CacheHit,
    q: ScannedQuery,
    bytes: Uint8Array,
    peer: Peer,
    udpSize: number,
  ): Uint8Array | null {
    freshPatch.elapsedSeconds = hit.elapsedSeconds;
    freshPatch.maxSize = maxResponseSize(q, peer.transport, udpSize);
    freshPatch.serverUdpSize = udpSize;
    try {
      return patchStored(hit.stored, q, bytes, freshPatch);
    } catch (err) {
      cache.failed(err, 'patch');
      return null;
    }
  }

  const missLimiter = new MissLimiter();

  const replicaAnswers = new ReplicaAnswers();
  // Like `freshPatch`: stored replica answers are served at their stored TTLs (a copy's
  // TTLs do not age while it is fresh; a swap makes new answers).
  const replicaPatch = { elapsedSeconds: 0, maxSize: 0, serverUdpSize: 0 };

  /**
   * The replicated fast path: when every upstream of the zone has a fresh copy, the merged
   * answer's stored bytes patched for this query; synchronous, nothing on the network, no
   * fan-out. The first query of a (name, type, class, DO) per copy generation merges the
   * copies (`decideFromReplicas`) and stores the reply the long way would have sent; null
   * when the zone is not wholly replicated or the copies give no answer worth storing
   * (then the long way decides, as before).
   */
  function fromReplicaStore(
    q: ScannedQuery,
    bytes: Uint8Array,
    peer: Peer,
    rt: Runtime,
    zone: ZoneRuntime,
    nowMs: number,
  ): Uint8Array | null {
    if (ctx.storedReplicaAnswers === false) return null;
    const store = replicaAnswers.of(zone, nowMs);
    if (store === null) return null;
    const key = answerKey(q.qname, q.qtype, q.qclass, q.edns?.dnssecOk ?? false);
    let entry = store.get(key) ?? null;
    if (entry !== null) {
      // The copies' answer counts, as if each consulted copy had answered this query.
      const consulted = entry.consulted;
      for (let i = 0; i < consulted.length; i++) consulted[i].answered++;
    } else {
      entry = storeFromReplicas(store, key, q, bytes, rt, zone, nowMs);
      if (entry === null) return null;
    }
    const udpSize = rt.config.listen.udpSize;
    replicaPatch.maxSize = maxResponseSize(q, peer.transport, udpSize);
    replicaPatch.serverUdpSize = udpSize;
    metrics.answers.replica++;
    return patchStored(entry.stored, q, bytes, replicaPatch);
  }

  function storeFromReplicas(
    store: ZoneStoredAnswers,
    key: string,
    q: ScannedQuery,
    bytes: Uint8Array,
    rt: Runtime,
    zone: ZoneRuntime,
    nowMs: number,
  ): ReplicaStoredAnswer | null {
    const result = decideFromReplicas(zone, q.qname, q.qtype, nowMs);
    if (result === null) return null;
    const kind = result.decision.kind;
    const partial = kind === 'nxdomain' && result.decision.partial;
    // Not counted here: the long way decides again and counts it.
    if (kind === 'failed' || partial) return null;
    metrics.fanout[kind]++;
    // The full-size reply the long way builds for the cache (`fanoutAndStore`), so that
    // patching it per query gives that path's bytes.
    const full =
      patchWinner(result, q, bytes, rt, 65535) ??
      buildResponse(q, bytes, partsOf(result, zone, rt) as ResponseParts, {
        maxSize: 65535,
        serverUdpSize: rt.config.listen.udpSize,
      });
    const consulted: Replica[] = [];
    zone.members.forEach((member, i) => {
      if (member.replica !== null && result.fromReplica[i] !== null) consulted.push(member.replica);
    });
    const entry: ReplicaStoredAnswer = { stored: prepareStored(full), kind, consulted };
    store.set(key, entry);
    return entry;
  }

  /**
   * A miss over its source's limit gets no fan-out: the stale entry when one is held, else
   * over UDP an empty TC=1 reply (a real client retries over TCP, where its address is proven;
   * a spoofed flood only sends victims a query-sized reply) and over TCP REFUSED.
   */
  function overLimit(m: Miss): Uint8Array {
    const { q, peer } = m;
    if (m.stale !== null) {
      const out = serveStale(m, m.stale);
      if (out !== null) {
        metrics.ratelimited.stale++;
        return observe(m.zone.name, q, peer, out, m.started);
      }
    }
    const udp = peer.transport === 'udp';
    const reply = errorResponse(
      q,
      m.bytes,
      udp ? RCODE.NOERROR : RCODE.REFUSED,
      m.rt.config.listen.udpSize,
    );
    if (udp) {
      reply[2] |= 0x02; // TC
      metrics.ratelimited.truncated++;
    } else {
      metrics.ratelimited.refused++;
    }
    return observe(m.zone.name, q, peer, reply, m.started);
  }

  function observe(
    zone: string,
    q: ScannedQuery,
    peer: Peer,
    reply: Uint8Array,
    started: number,
  ): Uint8Array {
    const seconds = (performance.now() - started) / 1000;
    metrics.queries.observe(zone, q.qtype, reply[3] & 0x0f, seconds, peer);
    return reply;
  }

  function respond(
    q: ScannedQuery,
    bytes: Uint8Array,
    peer: Peer,
    rt: Runtime,
    parts: ResponseParts,
  ): Uint8Array {
    const udpSize = rt.config.listen.udpSize;
    return buildResponse(q, bytes, parts, {
      maxSize: maxResponseSize(q, peer.transport, udpSize),
      serverUdpSize: udpSize,
    });
  }

  function partsOf(result: FanoutResult, zone: ZoneRuntime, rt: Runtime): ResponseParts | null {
    const d = result.decision;
    if (d.kind === 'positive') {
      const answers = capTtls(result.records, rt.config.cache.maxTtl);
      const additionals = capTtls(result.additionals, rt.config.cache.maxTtl);
      return { rcode: RCODE.NOERROR, aa: true, answers, additionals };
    }
    if (d.kind === 'nodata')
      return { rcode: RCODE.NOERROR, aa: true, authorities: [zone.negativeSoa] };
    if (d.kind === 'nxdomain')
      return { rcode: RCODE.NXDOMAIN, aa: true, authorities: [zone.negativeSoa] };
    return null;
  }

  /**
   * A single winner's reply served as bytes (`patchAnswer`: our header, the client's question,
   * TTLs capped), or null when the long way (decode, `buildResponse`) must build it.
   */
  function patchWinner(
    result: FanoutResult,
    q: ScannedQuery,
    bytes: Uint8Array,
    rt: Runtime,
    maxSize: number,
  ): Uint8Array | null {
    const wire = result.wire;
    if (wire === undefined || result.decision.kind !== 'positive') return null;
    const config = rt.config;
    return patchAnswer(wire.reply, wire.chain, q, bytes, {
      maxTtl: config.cache.maxTtl,
      maxSize,
      serverUdpSize: config.listen.udpSize,
    });
  }

  function serveStale(m: Miss, hit: CacheHit): Uint8Array | null {
    const udpSize = m.rt.config.listen.udpSize;
    try {
      const out = patchStored(hit.stored, m.q, m.bytes, {
        elapsedSeconds: hit.elapsedSeconds,
        ttlOverride: hit.ttlOverride ?? 30,
        maxSize: maxResponseSize(m.q, m.peer.transport, udpSize),
        serverUdpSize: udpSize,
      });
      cache.call('recordStaleServed', (c) => c.recordStaleServed());
      metrics.answers.stale++;
      return out;
    } catch (err) {
      metrics.cacheErrors++;
      ctx.logger.warn({ err }, 'stale answer could not be patched');
      return null;
    }
  }

  /**
   * One fan-out per (key) however many ask at once; the caller that started it stores the
   * full-size reply in the cache (partial negatives are not stored: the name may live on a
   * cluster we could not ask).
   */
  function fanoutAndStore(m: Miss): Promise<FanoutResult> {
    // One Promise per miss: the fan-out itself reports through a callback.
    const work = () =>
      new Promise<FanoutResult>((resolve, reject) =>
        startFanout(
          m.zone,
          m.q.qname,
          m.q.qtype,
          { allPolicyWaitMs: m.rt.allPolicyWaitMs },
          (result) => {
            try {
              resolve(stored(m, result));
            } catch (err) {
              reject(err);
            }
          },
        ),
      );
    return m.key === null ? work() : ctx.flights.run(m.key, work);
  }

  /** Counts a fan-out's decision and stores its full-size reply when it may be cached. */
  function stored(m: Miss, result: FanoutResult): FanoutResult {
    const { q, rt, zone, key } = m;
    metrics.fanout[result.decision.kind]++;
    const partial = result.decision.kind === 'nxdomain' && result.decision.partial;
    if (key !== null && result.decision.kind !== 'failed' && !partial) {
      cache.call('store', (c) => {
        // Caching off: nothing to build (the refusal is counted as a store would count it).
        if (!c.willStore()) return;
        const full =
          patchWinner(result, q, m.bytes, rt, 65535) ??
          buildResponse(q, m.bytes, partsOf(result, zone, rt) as ResponseParts, {
            maxSize: 65535,
            serverUdpSize: rt.config.listen.udpSize,
          });
        m.full = full;
        c.store(
          key,
          full,
          result.winners.length > 0 ? result.winners : zone.members.map((u) => u.upstream.name),
          Date.now(),
        );
      });
    }
    return result;
  }

  /** `m.bytes` must be our own copy: the receive buffer may be reused once we yield. */
  async function fromUpstreams(m: Miss): Promise<Uint8Array> {
    const { q, peer, rt, zone } = m;
    let result: FanoutResult | null = null;
    try {
      result = await fanoutAndStore(m);
    } catch (err) {
      ctx.logger.warn({ err, qname: q.qname }, 'fan-out failed');
    }
    if (result !== null) {
      const maxSize = maxResponseSize(q, peer.transport, rt.config.listen.udpSize);
      // Set only for a decision the long way answers with its parts (not failed, not partial).
      const full = m.full;
      if (full !== undefined && full.length <= maxSize) {
        countAnswer(result);
        return observe(zone.name, q, peer, full, m.started);
      }
      const patched = patchWinner(result, q, m.bytes, rt, maxSize);
      if (patched !== null) {
        countAnswer(result);
        return observe(zone.name, q, peer, patched, m.started);
      }
    }
    const parts = result ? partsOf(result, zone, rt) : null;
    const partial = result?.decision.kind === 'nxdomain' && result.decision.partial;
    if ((parts === null || partial) && m.stale !== null) {
      const out = serveStale(m, m.stale);
      if (out) return observe(zone.name, q, peer, out, m.started);
    }
    if ((parts === null || partial) && m.stale === null && ctx.siblings && m.key !== null) {
      // Another worker may hold the entry this one lacks (sibling-stale.ts).
      const maxSize = maxResponseSize(q, peer.transport, rt.config.listen.udpSize);
      const out = await staleFromSiblings(ctx.siblings, m.key, m.bytes, maxSize);
      if (out !== null) {
        metrics.siblingStale.served++;
        metrics.answers.stale++;
        return observe(zone.name, q, peer, out, m.started);
      }
      metrics.siblingStale.none++;
    }
    if (parts === null) {
      metrics.answers.servfail++;
      return observe(
        zone.name,
        q,
        peer,
        errorResponse(q, m.bytes, RCODE.SERVFAIL, rt.config.listen.udpSize),
        m.started,
      );
    }
    countAnswer(result);
    return observe(zone.name, q, peer, respond(q, m.bytes, peer, rt, parts), m.started);
  }

  /** An answer from the upstreams: from replicas alone, or from a fan-out. */
  function countAnswer(result: FanoutResult | null): void {
    if (result !== null && result.sent === 0 && result.fromReplica.some((o) => o !== null)) {
      metrics.answers.replica++;
    } else {
      metrics.answers.fanout++;
    }
  }

  /** A fresh hit near its expiry refreshes the entry in the background (its own copy of the query). */
  function prefetch(m: Miss): void {
    metrics.prefetches++;
    fanoutAndStore(m).catch((err) => ctx.logger.warn({ err, qname: m.q.qname }, 'prefetch failed'));
  }

  return (bytes: Uint8Array, peer: Peer): Uint8Array | null | Promise<Uint8Array> => {
    const started = performance.now();
    const scanned = scan(bytes);
    if (!scanned.ok) return null; // not a DNS message: no answer (counted by the server)
    const q = scanned.query;
    if (q.qr) return null; // a response sent to us: never answer it (reflection loops)
    const rt = ctx.runtime();
    const udpSize = rt.config.listen.udpSize;
    if (q.opcode === OPCODE.NOTIFY) {
      const notified = acceptNotify(q, bytes, peer, rt);
      return observe(notified.zone ?? NO_ZONE, q, peer, notified.reply, started);
    }

    // The shared rules (docs/behaviour.md) answer locally; only `data` is fanned out.
    const decision = sharedRules(q, rt.rules);
    if (decision.kind !== 'data') {
      metrics.answers.local++;
      const reply =
        decision.kind === 'error'
          ? errorResponse(q, bytes, decision.rcode, udpSize)
          : respond(q, bytes, peer, rt, decision.parts);
      return observe(decision.zone?.name ?? NO_ZONE, q, peer, reply, started);
    }
    const zone = decision.zone;

    // Every upstream replicated: the stored merged answer, as cheap as a cache hit and ahead
    // of the cache (the copies are the fresher source: a swap drops these answers at once).
    // Not a miss for the limiter either: nothing is asked upstream.
    const replicated = fromReplicaStore(q, bytes, peer, rt, zone, Date.now());
    if (replicated !== null) return observe(zone.name, q, peer, replicated, started);

    // The cache-hit fast path: synchronous, and no closure or options object per query.
    const current = ctx.cache();
    let key: string | null = null;
    let hit: CacheHit | null = null;
    if (current !== null) {
      try {
        key = current.key(q.qname, q.qtype, q.qclass, q.edns?.dnssecOk ?? false);
        hit = current.lookup(key, Date.now());
      } catch (err) {
        cache.failed(err, key === null ? 'key' : 'lookup');
      }
    }
    if (hit !== null && hit.state === 'fresh') {
      const out = patchFresh(hit, q, bytes, peer, udpSize);
      if (out !== null) {
        if (hit.prefetch && key !== null) {
          const copy = Uint8Array.from(bytes);
          prefetch({ q, bytes: copy, peer, rt, zone, key, stale: null, started });
        }
        metrics.answers.cache++;
        return observe(zone.name, q, peer, out, started);
      }
    }
    const stale = hit?.state === 'stale' ? hit : null;
    if (!missLimiter.allow(peer.address, peer.transport, Date.now(), rt.config.rateLimit)) {
      return overLimit({ q, bytes, peer, rt, zone, key, stale, started });
    }
    // The fan-out yields: it keeps its own copy of the query, not the receive buffer.
    const copy = Uint8Array.from(bytes);
    return fromUpstreams({ q, bytes: copy, peer, rt, zone, key, stale, started });
  };
}
