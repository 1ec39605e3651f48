import { DnsClient } from '@mdns/transport';
import { watchLoopLag } from './loop-lag.js';

/**
 * The process-wide DNS client every upstream query goes through: a few long-lived UDP
 * sockets (`upstream.sockets`) instead of a socket per query. A reload that changes the
 * pool size gets a new client; the old one closes each socket once its queries in flight
 * are answered or timed out.
 */
let shared: DnsClient | null = null;
let sharedSockets = -1;

export function upstreamClient(sockets: number): DnsClient {
  if (shared === null || sharedSockets !== sockets) {
    watchLoopLag();
    shared?.close();
    shared = new DnsClient({ sockets });
    sharedSockets = sockets;
  }
  return shared;
}
