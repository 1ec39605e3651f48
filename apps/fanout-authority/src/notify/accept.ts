import { LogGate, type Logger, type Siblings } from '@mdns/ops';
import {
  buildResponse,
  errorResponse,
  maxResponseSize,
  RCODE,
  type ScannedQuery,
  type TsigKey,
  tsigSign,
} from '@mdns/protocol';
import type { Peer } from '@mdns/transport';
import type { CacheGuard } from '../cache/index.js';
import type { Runtime } from '../config/runtime.js';
import type { AuthorityMetrics } from '../metrics.js';
import { checkNotify, type NotifyAuth } from '../replica/notify-auth.js';
import { notifySenders } from '../upstream/notify-sources.js';
import { NotifyThrottle } from './throttle.js';

export interface NotifyContext {
  /** The current runtime: its `cache.notifyIntervalMs` is read at each NOTIFY. */
  runtime: () => Runtime;
  metrics: AuthorityMetrics;
  logger: Pick<Logger, 'debug' | 'warn'>;
  /** The other worker processes (listen.workers > 1): a NOTIFY must expire their caches too. */
  siblings?: Siblings;
}

/** The reply to one NOTIFY and the zone it is counted under (undefined: none of ours). */
export interface NotifyReply {
  zone: string | undefined;
  reply: Uint8Array;
  /**
   * Null: send the reply now. Else it is sent once this settles: every sibling worker has
   * expired the same entries (or `NOTIFY_RELAY_WAIT_MS` passed), so no worker answers from
   * an entry the acknowledged NOTIFY invalidated.
   */
  relayed: Promise<unknown> | null;
}

/**
 * The longest an acknowledgement waits for the sibling workers (listen.workers > 1) to expire
 * what the NOTIFY invalidated. The relay is one IPC round trip through the primary (well
 * under a millisecond when idle); the bound is for a worker that is stalled or gone, and it
 * stays far below a primary's NOTIFY retry interval (seconds), so a late ack is never a resend.
 */
export const NOTIFY_RELAY_WAIT_MS = 250;

export type NotifyAcceptor = (
  q: ScannedQuery,
  bytes: Uint8Array,
  peer: Peer,
  rt: Runtime,
) => NotifyReply;

/** What one worker tells (or asks) the others when a NOTIFY invalidated upstreams' entries. */
interface NotifyEvent {
  upstreams: string[];
}

const TOPIC = 'notify';

/**
 * NOTIFY (RFC 1996) from a gateway: "my names changed". Accepted for one of our zones from
 * an upstream's address or its `notify.allowFrom` (upstream/notify-sources.ts), else
 * REFUSED. An accepted one expires that upstream's cached entries and every negative entry,
 * rate-limited per upstream (throttle.ts); what passes is relayed to the sibling workers,
 * which apply it without a throttle of their own. An invalidation done at once is acked only
 * after every sibling confirmed it (a question through the primary, bounded): a client that
 * asks any worker after the primary's NOTIFY was acked never gets the entry it invalidated.
 * A trailing (coalesced) invalidation is told without waiting: its NOTIFY was acked already.
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
    (upstream, trailing) => {
      expire([upstream]);
      // At once, the acceptor asks the siblings itself and waits for them (below).
      if (trailing) ctx.siblings?.tell(TOPIC, { upstreams: [upstream] } satisfies NotifyEvent);
    },
  );
  // Refused NOTIFYs are logged once a minute per upstream, source and reason: a spoofer
  // must not be able to write our log at its own rate.
  const refusedLog = new LogGate(60_000);
  const applyEvent = (payload: unknown): null => {
    const event = payload as NotifyEvent;
    if (Array.isArray(event?.upstreams)) expire(event.upstreams);
    return null; // "done": an empty answer, so the asker hears once every sibling has it
  };
  ctx.siblings?.on(TOPIC, applyEvent);
  ctx.siblings?.answer(TOPIC, applyEvent);

  return (q, bytes, peer, rt) => {
    const udpSize = rt.config.listen.udpSize;
    const zone = q.qdcount === 1 ? rt.zoneSet.match(q.qname) : undefined;
    const senders = zone === undefined ? [] : notifySenders(rt.notifiers, zone, peer.address);
    if (zone === undefined || senders.length === 0) {
      metrics.notify.refused++;
      return { zone, reply: errorResponse(q, bytes, RCODE.REFUSED, udpSize), relayed: null };
    }
    // An upstream we replicate with a key speaks only through a NOTIFY signed with it; one
    // that verifies makes its replica pull (replica/replica.ts).
    const nowSeconds = Math.floor(Date.now() / 1000);
    const upstreams: string[] = [];
    let refusal: Extract<NotifyAuth, { ok: false }> | null = null;
    let ack: { key: TsigKey; mac: Uint8Array } | null = null;
    for (const u of senders) {
      const replica = rt.replicas.get(u.key);
      if (replica === undefined) {
        upstreams.push(u.name);
        continue;
      }
      const key = replica.options.key;
      const auth = checkNotify(bytes, key, nowSeconds);
      if (!auth.ok) {
        refusal = auth;
        if (refusedLog.pass(`${u.key}|${peer.address}|${auth.reason}`) !== null) {
          ctx.logger.warn(
            {
              zone,
              upstream: u.name,
              from: peer.address,
              reason: auth.reason,
              detail: auth.detail,
            },
            `NOTIFY for ${u.name} refused: ${auth.reason}`,
          );
        }
        continue;
      }
      upstreams.push(u.name);
      // With several workers the replica is the primary's: this passes it on (replica/share.ts).
      replica.notify(auth.serial);
      if (key !== undefined && auth.mac !== null) ack = { key, mac: auth.mac };
    }
    if (upstreams.length === 0) {
      metrics.notify.unauthenticated++;
      // RFC 8945 5.2: a signature that does not verify is NOTAUTH; an unsigned one is policy.
      const rcode = refusal?.reason === 'bad-tsig' ? RCODE.NOTAUTH : RCODE.REFUSED;
      return { zone, reply: errorResponse(q, bytes, rcode, udpSize), relayed: null };
    }
    const now = upstreams.filter((name) => throttle.notify(name));
    const relayed =
      now.length > 0 && ctx.siblings !== undefined
        ? ctx.siblings.ask(TOPIC, { upstreams: now } satisfies NotifyEvent, NOTIFY_RELAY_WAIT_MS)
        : null;
    metrics.notify.accepted++;
    ctx.logger.debug({ zone, from: peer.address, upstreams }, 'NOTIFY accepted');
    let reply = buildResponse(
      q,
      bytes,
      { rcode: RCODE.NOERROR, aa: true },
      { maxSize: maxResponseSize(q, peer.transport, udpSize), serverUdpSize: udpSize },
    );
    // A signed request gets a signed acknowledgement (RFC 8945 4.3).
    if (ack !== null) {
      reply = tsigSign(reply, { key: ack.key, timeSigned: nowSeconds, requestMac: ack.mac }).bytes;
    }
    return { zone, reply, relayed };
  };
}
