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
import { type Handler, LaterReply, type Peer } from '@mdns/transport';
import {
  type AnswerCache,
  answerKey,
  CacheGuard,
  type CacheHit,
  type Flight,
  type FlightFailure,
  type FlightListener,
  type SingleFlight,
} from '../cache/index.js';
import type { Runtime, ZoneRuntime } from '../config/runtime.js';
import {
  decideFromReplicas,
  type FanoutListener,
  type FanoutOptions,
  type FanoutResult,
  startFanout,
} from '../fanout/fanout.js';
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
   * One miss from receive to reply, in one object: the reply the server waits for (a
   * `LaterReply`: no Promise), the listener of the key's flight and, when this miss starts
   * the fan-out, of the fan-out itself. One fan-out per key however many ask at once; the
   * miss that started it stores the full-size reply in the cache (partial negatives are not
   * stored: the name may live on a cluster we could not ask).
   */
  class MissReply extends LaterReply implements Miss, FlightListener<FanoutResult>, FanoutListener {
    full?: Uint8Array;
    /** The flight this miss started (null: it joined one, or there is no key). */
    flight: Flight<FanoutResult> | null = null;

    constructor(
      readonly q: ScannedQuery,
      /** Our own copy: the receive buffer may be reused once we yield. */
      readonly bytes: Uint8Array,
      readonly peer: Peer,
      readonly rt: Runtime,
      readonly zone: ZoneRuntime,
      readonly key: string | null,
      readonly stale: CacheHit | null,
      readonly started: number,
      /** A background refresh of a fresh entry: stores, answers nobody. */
      readonly prefetch: boolean,
    ) {
      super();
    }

    /** Asks the upstreams: joins (or starts) the key's flight, or fans out alone without a key. */
    ask(): void {
      if (this.key !== null) {
        ctx.flights.join(this.key, this, startMissFlight);
        return;
      }
      try {
        fanoutFor(this);
      } catch (error) {
        this.flightEnded(undefined, { error });
      }
    }

    /** The fan-out this miss started decided: count, store, then everyone waiting hears. */
    onFanout(result: FanoutResult): void {
      try {
        stored(this, result);
      } catch (error) {
        if (this.flight !== null) this.flight.fail(error);
        else this.flightEnded(undefined, { error });
        return;
      }
      if (this.flight !== null) this.flight.done(result);
      else this.flightEnded(result, null);
    }

    flightEnded(result: FanoutResult | undefined, failed: FlightFailure | null): void {
      if (failed !== null) {
        const what = this.prefetch ? 'prefetch failed' : 'fan-out failed';
        ctx.logger.warn({ err: failed.error, qname: this.q.qname }, what);
      }
      if (this.prefetch) return;
      try {
        answerMiss(this, failed === null ? (result as FanoutResult) : null);
      } catch (error) {
        this.fail(error); // the server answers SERVFAIL, as for a rejected promise
      }
    }
  }

  function startMissFlight(flight: Flight<FanoutResult>, m: MissReply): void {
    m.flight = flight;
    fanoutFor(m);
  }

  // One options object per runtime, not per miss (the fan-out only reads it).
  let optionsOf: Runtime | null = null;
  let fanoutOptions: FanoutOptions = { allPolicyWaitMs: 0 };

  function fanoutFor(m: MissReply): void {
    if (optionsOf !== m.rt) {
      optionsOf = m.rt;
      fanoutOptions = { allPolicyWaitMs: m.rt.allPolicyWaitMs };
    }
    startFanout(m.zone, m.q.qname, m.q.qtype, fanoutOptions, m);
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

  /** The reply to a miss once the upstreams decided (`result` null: the fan-out failed). */
  function answerMiss(m: MissReply, result: FanoutResult | null): void {
    const { q, peer, rt, zone } = m;
    if (result !== null) {
      const maxSize = maxResponseSize(q, peer.transport, rt.config.listen.udpSize);
      // Set only for a decision the long way answers with its parts (not failed, not partial).
      const full = m.full;
      if (full !== undefined && full.length <= maxSize) {
        countAnswer(result);
        m.reply(observe(zone.name, q, peer, full, m.started));
        return;
      }
      const patched = patchWinner(result, q, m.bytes, rt, maxSize);
      if (patched !== null) {
        countAnswer(result);
        m.reply(observe(zone.name, q, peer, patched, m.started));
        return;
      }
    }
    const parts = result ? partsOf(result, zone, rt) : null;
    const partial = result?.decision.kind === 'nxdomain' && result.decision.partial;
    if ((parts === null || partial) && m.stale !== null) {
      const out = serveStale(m, m.stale);
      if (out) {
        m.reply(observe(zone.name, q, peer, out, m.started));
        return;
      }
    }
    if ((parts === null || partial) && m.stale === null && ctx.siblings && m.key !== null) {
      // Another worker may hold the entry this one lacks (sibling-stale.ts).
      const maxSize = maxResponseSize(q, peer.transport, rt.config.listen.udpSize);
      staleFromSiblings(ctx.siblings, m.key, m.bytes, maxSize).then(
        (out) => {
          try {
            if (out !== null) {
              metrics.siblingStale.served++;
              metrics.answers.stale++;
              m.reply(observe(zone.name, q, peer, out, m.started));
              return;
            }
            metrics.siblingStale.none++;
            m.reply(lastAnswer(m, result, parts));
          } catch (error) {
            m.fail(error);
          }
        },
        (error: unknown) => m.fail(error),
      );
      return;
    }
    m.reply(lastAnswer(m, result, parts));
  }

  /** The upstreams' decision as built parts, or SERVFAIL when there is none. */
  function lastAnswer(
    m: MissReply,
    result: FanoutResult | null,
    parts: ResponseParts | null,
  ): Uint8Array {
    const { q, peer, rt, zone } = m;
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

  return (bytes: Uint8Array, peer: Peer): Uint8Array | null | LaterReply => {
    const started = performance.now();
    const scanned = scan(bytes);
    if (!scanned.ok) return null; // not a DNS message: no answer (counted by the server)
    const q = scanned.query;
    if (q.qr) return null; // a response sent to us: never answer it (reflection loops)
    const rt = ctx.runtime();
    const udpSize = rt.config.listen.udpSize;
    if (q.opcode === OPCODE.NOTIFY) {
      const notified = acceptNotify(q, bytes, peer, rt);
      const zoneName = notified.zone ?? NO_ZONE;
      if (notified.relayed === null) return observe(zoneName, q, peer, notified.reply, started);
      // Acked once the sibling workers expired the same entries (notify/accept.ts).
      const acked = new LaterReply();
      const ack = () => acked.reply(observe(zoneName, q, peer, notified.reply, started));
      notified.relayed.then(ack, ack);
      return acked;
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
          // A fresh hit near its expiry refreshes the entry in the background (its own copy
          // of the query).
          metrics.prefetches++;
          const copy = Uint8Array.from(bytes);
          new MissReply(q, copy, peer, rt, zone, key, null, started, true).ask();
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
    const miss = new MissReply(
      q,
      Uint8Array.from(bytes),
      peer,
      rt,
      zone,
      key,
      stale,
      started,
      false,
    );
    miss.ask();
    return miss;
  };
}
