import type { Logger, Siblings } from '@mdns/ops';
import {
  buildResponse,
  errorResponse,
  maxResponseSize,
  RCODE,
  type ScannedQuery,
} from '@mdns/protocol';
import type { Peer } from '@mdns/transport';
import type { CacheGuard } from '../cache/index.js';
import type { Runtime } from '../config/runtime.js';
import type { AuthorityMetrics } from '../metrics.js';
import { notifySenders } from '../upstream/notify-sources.js';
import { NotifyThrottle } from './throttle.js';

export interface NotifyContext {
  /** The current runtime: its `cache.notifyIntervalMs` is read at each NOTIFY. */
  runtime: () => Runtime;
  metrics: AuthorityMetrics;
  logger: Pick<Logger, 'debug'>;
  /** The other worker processes (listen.workers > 1): a NOTIFY must expire their caches too. */
  siblings?: Siblings;
}

/** The reply to one NOTIFY and the zone it is counted under (undefined: none of ours). */
export interface NotifyReply {
  zone: string | undefined;
  reply: Uint8Array;
}

export type NotifyAcceptor = (
  q: ScannedQuery,
  bytes: Uint8Array,
  peer: Peer,
  rt: Runtime,
) => NotifyReply;

/** What one worker tells the others when a NOTIFY invalidated upstreams' entries. */
interface NotifyEvent {
  upstreams: string[];
}

/**
 * NOTIFY (RFC 1996) from a gateway: "my names changed". Accepted for one of our zones from
 * an upstream's address or its `notify.allowFrom` (upstream/notify-sources.ts), else
 * REFUSED. An accepted one expires that upstream's cached entries and every negative entry,
 * rate-limited per upstream (throttle.ts); what passes is relayed to the sibling workers,
 * which apply it without a throttle of their own.
 */
export function createNotifyAcceptor(ctx: NotifyContext, cache: CacheGuard): NotifyAcceptor {
  const { metrics } = ctx;

  // Expire, not drop: the entries stay for serve-stale (see AnswerCache.expireUpstream).
  function expire(upstreams: readonly string[]): void {
    cache.call('expireNegative', (c) => c.expireNegative());
    for (const name of upstreams) cache.call('expireUpstream', (c) => c.expireUpstream(name));
  }
  const throttle = new NotifyThrottle(
    metrics.notifyInvalidations,
    () => ctx.runtime().config.cache.notifyIntervalMs,
    (upstream) => {
      expire([upstream]);
      ctx.siblings?.tell('notify', { upstreams: [upstream] } satisfies NotifyEvent);
    },
  );
  ctx.siblings?.on('notify', (payload) => {
    const event = payload as NotifyEvent;
    if (Array.isArray(event?.upstreams)) expire(event.upstreams);
  });

  return (q, bytes, peer, rt) => {
    const udpSize = rt.config.listen.udpSize;
    const zone = q.qdcount === 1 ? rt.zoneSet.match(q.qname) : undefined;
    const senders = zone === undefined ? [] : notifySenders(rt.notifiers, zone, peer.address);
    if (zone === undefined || senders.length === 0) {
      metrics.notify.refused++;
      return { zone, reply: errorResponse(q, bytes, RCODE.REFUSED, udpSize) };
    }
    const upstreams = senders.map((u) => u.name);
    for (const name of upstreams) throttle.notify(name);
    metrics.notify.accepted++;
    ctx.logger.debug({ zone, from: peer.address, upstreams }, 'NOTIFY accepted');
    const reply = buildResponse(
      q,
      bytes,
      { rcode: RCODE.NOERROR, aa: true },
      { maxSize: maxResponseSize(q, peer.transport, udpSize), serverUdpSize: udpSize },
    );
    return { zone, reply };
  };
}
