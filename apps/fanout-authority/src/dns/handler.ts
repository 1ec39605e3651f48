import type { Logger, Siblings } from '@mdns/ops';
import {
  buildResponse,
  errorResponse,
  maxResponseSize,
  OPCODE,
  patchStored,
  RCODE,
  type ResponseParts,
  type ScannedQuery,
  scan,
} from '@mdns/protocol';
import type { Handler, Peer } from '@mdns/transport';
import type { AnswerCache, CacheHit, SingleFlight } from '../cache/index.js';
import type { Runtime, ZoneRuntime } from '../config/runtime.js';
import { type FanoutResult, fanout } from '../fanout/fanout.js';
import { capTtls } from '../fanout/ttl-cap.js';
import type { AuthorityMetrics } from '../metrics.js';
import { notifySenders } from '../upstream/notify-sources.js';
import { localAnswer, precheck } from './local.js';
import { MissLimiter } from './miss-limit.js';
import { NotifyThrottle } from './notify-throttle.js';

export interface HandlerContext {
  /** The current runtime; read once per query so a reload never mixes two configs. */
  runtime: () => Runtime;
  cache: () => AnswerCache | null;
  flights: SingleFlight<FanoutResult>;
  metrics: AuthorityMetrics;
  logger: Pick<Logger, 'warn' | 'debug'>;
  /** The other worker processes (listen.workers > 1): a NOTIFY must expire their caches too. */
  siblings?: Siblings;
}

/** What one worker tells the others when a NOTIFY invalidated upstreams' entries. */
interface NotifyEvent {
  upstreams: string[];
}

const NO_ZONE = 'none';

/** The DNS hot path: scan, shared rules, cache, fan-out, reply. */
export function createHandler(ctx: HandlerContext): Handler {
  const { metrics } = ctx;

  // Every cache call goes through here (or the inlined equivalent on the hit path): a cache
  // that throws is counted and bypassed, it never fails or slows an answer.
  function guarded<T>(what: string, f: (cache: AnswerCache) => T): T | null {
    const cache = ctx.cache();
    if (cache === null) return null;
    try {
      return f(cache);
    } catch (err) {
      cacheFailed(err, what);
      return null;
    }
  }

  function cacheFailed(err: unknown, what: string): void {
    metrics.cacheErrors++;
    ctx.logger.warn({ err, what }, 'cache call failed; answering without the cache');
  }

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
      cacheFailed(err, 'patch');
      return null;
    }
  }

  // Expire, not drop: the entries stay for serve-stale (see AnswerCache.expireUpstream).
  function expireFromNotify(upstreams: readonly string[]): void {
    guarded('expireNegative', (c) => c.expireNegative());
    for (const name of upstreams) guarded('expireUpstream', (c) => c.expireUpstream(name));
  }
  // Rate-limited per upstream (notify-throttle.ts); what passes is told to the sibling workers,
  // which apply it without a throttle of their own.
  const throttle = new NotifyThrottle(
    metrics.notifyInvalidations,
    () => ctx.runtime().config.cache.notifyIntervalMs,
    (upstream) => {
      expireFromNotify([upstream]);
      ctx.siblings?.tell('notify', { upstreams: [upstream] } satisfies NotifyEvent);
    },
  );
  ctx.siblings?.on('notify', (payload) => {
    const event = payload as NotifyEvent;
    if (Array.isArray(event?.upstreams)) expireFromNotify(event.upstreams);
  });

  const missLimiter = new MissLimiter();

  /**
   * A miss over its source's limit gets no fan-out: the stale entry when one is held, else
   * over UDP an empty TC=1 reply (a real client retries over TCP, where its address is proven;
   * a spoofed flood only sends victims a query-sized reply) and over TCP REFUSED.
   */
  function overLimit(
    q: ScannedQuery,
    bytes: Uint8Array,
    peer: Peer,
    rt: Runtime,
    zone: ZoneRuntime,
    stale: CacheHit | null,
    started: number,
  ): Uint8Array {
    if (stale !== null) {
      const out = serveStale(q, bytes, peer, rt, stale);
      if (out !== null) {
        metrics.ratelimited.stale++;
        return observe(zone.name, q, peer, out, started);
      }
    }
    const udp = peer.transport === 'udp';
    const reply = errorResponse(
      q,
      bytes,
      udp ? RCODE.NOERROR : RCODE.REFUSED,
      rt.config.listen.udpSize,
    );
    if (udp) {
      reply[2] |= 0x02; // TC
      metrics.ratelimited.truncated++;
    } else {
      metrics.ratelimited.refused++;
    }
    return observe(zone.name, q, peer, reply, started);
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

  function serveStale(
    q: ScannedQuery,
    bytes: Uint8Array,
    peer: Peer,
    rt: Runtime,
    hit: CacheHit,
  ): Uint8Array | null {
    const udpSize = rt.config.listen.udpSize;
    try {
      const out = patchStored(hit.stored, q, bytes, {
        elapsedSeconds: hit.elapsedSeconds,
        ttlOverride: hit.ttlOverride ?? 30,
        maxSize: maxResponseSize(q, peer.transport, udpSize),
        serverUdpSize: udpSize,
      });
      guarded('recordStaleServed', (c) => c.recordStaleServed());
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
  function fanoutAndStore(
    q: ScannedQuery,
    bytes: Uint8Array,
    rt: Runtime,
    zone: ZoneRuntime,
    key: string | null,
  ) {
    const work = async (): Promise<FanoutResult> => {
      const result = await fanout(zone, q.qname, q.qtype, { allPolicyWaitMs: rt.allPolicyWaitMs });
      metrics.fanout[result.decision.kind]++;
      const parts = partsOf(result, zone, rt);
      const partial = result.decision.kind === 'nxdomain' && result.decision.partial;
      if (key !== null && parts !== null && !partial) {
        guarded('store', (c) => {
          const full = buildResponse(q, bytes, parts, {
            maxSize: 65535,
            serverUdpSize: rt.config.listen.udpSize,
          });
          c.store(
            key,
            full,
            result.winners.length > 0 ? result.winners : zone.members.map((m) => m.upstream.name),
            Date.now(),
          );
        });
      }
      return result;
    };
    return key === null ? work() : ctx.flights.run(key, work);
  }

  async function fromUpstreams(
    q: ScannedQuery,
    queryBytes: Uint8Array,
    peer: Peer,
    rt: Runtime,
    zone: ZoneRuntime,
    key: string | null,
    stale: CacheHit | null,
    started: number,
  ): Promise<Uint8Array> {
    // The receive buffer may be reused once we yield; keep our own copy of the query.
    const bytes = Uint8Array.from(queryBytes);
    let result: FanoutResult | null = null;
    try {
      result = await fanoutAndStore(q, bytes, rt, zone, key);
    } catch (err) {
      ctx.logger.warn({ err, qname: q.qname }, 'fan-out failed');
    }
    const parts = result ? partsOf(result, zone, rt) : null;
    const partial = result?.decision.kind === 'nxdomain' && result.decision.partial;
    if ((parts === null || partial) && stale !== null) {
      const out = serveStale(q, bytes, peer, rt, stale);
      if (out) return observe(zone.name, q, peer, out, started);
    }
    if (parts === null) {
      metrics.answers.servfail++;
      return observe(
        zone.name,
        q,
        peer,
        errorResponse(q, bytes, RCODE.SERVFAIL, rt.config.listen.udpSize),
        started,
      );
    }
    metrics.answers.fanout++;
    return observe(zone.name, q, peer, respond(q, bytes, peer, rt, parts), started);
  }

  function prefetch(
    q: ScannedQuery,
    queryBytes: Uint8Array,
    rt: Runtime,
    zone: ZoneRuntime,
    key: string,
  ): void {
    metrics.prefetches++;
    const bytes = Uint8Array.from(queryBytes);
    fanoutAndStore(q, bytes, rt, zone, key).catch((err) =>
      ctx.logger.warn({ err, qname: q.qname }, 'prefetch failed'),
    );
  }

  function notify(
    q: ScannedQuery,
    bytes: Uint8Array,
    peer: Peer,
    rt: Runtime,
    started: number,
  ): Uint8Array {
    const zone = q.qdcount === 1 ? rt.zoneSet.match(q.qname) : undefined;
    const address = peer.address;
    const senders = zone === undefined ? [] : notifySenders(rt.notifiers, zone, address);
    if (zone === undefined || senders.length === 0) {
      metrics.notify.refused++;
      return observe(
        zone ?? NO_ZONE,
        q,
        peer,
        errorResponse(q, bytes, RCODE.REFUSED, rt.config.listen.udpSize),
        started,
      );
    }
    const upstreams = senders.map((u) => u.name);
    for (const name of upstreams) throttle.notify(name);
    metrics.notify.accepted++;
    ctx.logger.debug({ zone, from: address, upstreams }, 'NOTIFY accepted');
    return observe(
      zone,
      q,
      peer,
      respond(q, bytes, peer, rt, { rcode: RCODE.NOERROR, aa: true }),
      started,
    );
  }

  return (bytes: Uint8Array, peer: Peer): Uint8Array | null | Promise<Uint8Array> => {
    const started = performance.now();
    const scanned = scan(bytes);
    if (!scanned.ok) return null; // not a DNS message: no answer (counted by the server)
    const q = scanned.query;
    if (q.qr) return null; // a response sent to us: never answer it (reflection loops)
    const rt = ctx.runtime();
    const udpSize = rt.config.listen.udpSize;
    if (q.opcode === OPCODE.NOTIFY) return notify(q, bytes, peer, rt, started);

    const early = precheck(q);
    if (early !== null && early.kind === 'error') {
      metrics.answers.local++;
      return observe(NO_ZONE, q, peer, errorResponse(q, bytes, early.rcode, udpSize), started);
    }
    const zoneName = rt.zoneSet.match(q.qname);
    const zone = zoneName === undefined ? undefined : rt.zones.get(zoneName);
    if (zone === undefined) {
      metrics.answers.local++;
      return observe(NO_ZONE, q, peer, errorResponse(q, bytes, RCODE.REFUSED, udpSize), started);
    }
    const local = localAnswer(q, zone);
    if (local !== null) {
      metrics.answers.local++;
      const reply =
        local.kind === 'error'
          ? errorResponse(q, bytes, local.rcode, udpSize)
          : respond(q, bytes, peer, rt, local.parts);
      return observe(zone.name, q, peer, reply, started);
    }

    // The cache-hit fast path: synchronous, and no closure or options object per query.
    const cache = ctx.cache();
    let key: string | null = null;
    let hit: CacheHit | null = null;
    if (cache !== null) {
      try {
        key = cache.key(q.qname, q.qtype, q.qclass, q.edns?.dnssecOk ?? false);
        hit = cache.lookup(key, Date.now());
      } catch (err) {
        cacheFailed(err, key === null ? 'key' : 'lookup');
      }
    }
    if (hit !== null && hit.state === 'fresh') {
      const out = patchFresh(hit, q, bytes, peer, udpSize);
      if (out !== null) {
        if (hit.prefetch && key !== null) prefetch(q, bytes, rt, zone, key);
        metrics.answers.cache++;
        return observe(zone.name, q, peer, out, started);
      }
    }
    const stale = hit?.state === 'stale' ? hit : null;
    if (!missLimiter.allow(peer.address, peer.transport, Date.now(), rt.config.rateLimit)) {
      return overLimit(q, bytes, peer, rt, zone, stale, started);
    }
    return fromUpstreams(q, bytes, peer, rt, zone, key, stale, started);
  };
}
