import type { LaterReply } from './later-reply.js';
import type { RateLimitOptions } from './rate-limit.js';

export type Transport = 'udp' | 'tcp';

/** Who sent the query. A fresh small object per query; the handler may keep it. */
export interface Peer {
  address: string;
  port: number;
  transport: Transport;
}

/** One message, or `null` for no reply. */
export type HandlerReply = Uint8Array | null;
/** Several messages for one query (TCP only: a zone transfer, RFC 5936 2.2), sent in order. */
export type MessageList = readonly Uint8Array[];

/**
 * Bytes in, bytes out. Return `null` to send nothing. The query bytes may be a
 * view into a larger receive buffer: copy them if they must outlive the call.
 * A returned view (subarray) is sent without copying. An array of messages is a TCP-only
 * reply (over UDP it counts as a handler error). A `LaterReply` is a promise without the
 * Promise: settled by the handler's own call, heard by the server without a closure.
 */
export type Handler = (
  query: Uint8Array,
  peer: Peer,
) => HandlerReply | Promise<HandlerReply> | LaterReply;

/** A handler that may also answer a TCP query with several messages (`MessageList`). */
export type StreamingHandler = (
  query: Uint8Array,
  peer: Peer,
) => HandlerReply | MessageList | Promise<HandlerReply | MessageList> | LaterReply;

export interface DnsServerOptions {
  /** Address for both UDP and TCP. IPv4 or IPv6 literal. Default `'0.0.0.0'`. */
  host?: string;
  /** Port for both UDP and TCP; `0` picks one free for both. */
  port: number;
  handler: Handler | StreamingHandler;
  /**
   * Close a TCP connection with no traffic and nothing in flight after this long, or whose
   * queued replies have made no progress for this long (a client that stopped reading).
   * Default 10_000.
   */
  tcpIdleTimeoutMs?: number;
  /** Open TCP connections allowed; more are closed at once and counted. Default 1000. */
  maxTcpConnections?: number;
  /**
   * Open TCP connections allowed from one source (an IPv4 address, an IPv6 /64); more from
   * that source are closed at once and counted, so one client cannot take every slot of
   * `maxTcpConnections`. Default 100.
   */
  maxTcpConnectionsPerSource?: number;
  /**
   * Reply bytes queued on one TCP connection that the client has not taken yet. At half of
   * it the connection stops reading queries; a reply that would take it past the limit closes
   * the connection (the client is not reading). Default 524288 (512 KiB).
   */
  maxTcpQueuedBytes?: number;
  /** Queries in flight per TCP connection before it stops reading. Default 100. */
  maxTcpPipelined?: number;
  /** Shorthand for both `recvBufferSize` and `sendBufferSize`; 0 = OS default. Default: OS default. */
  udpBufferBytes?: number;
  /** UDP SO_RCVBUF in bytes. Default `udpBufferBytes`, else the OS default. */
  recvBufferSize?: number;
  /** UDP SO_SNDBUF in bytes. Default `udpBufferBytes`, else the OS default. */
  sendBufferSize?: number;
  /**
   * SO_REUSEPORT on UDP and TCP for multi-process workers: each worker binds its own
   * sockets and the kernel spreads clients over them by address and port (Node >= 22.12;
   * ignored before). Default false.
   */
  reusePort?: boolean;
  /**
   * `false` in a `node:cluster` worker shares the primary's sockets instead of binding
   * its own: one UDP socket read by every worker, TCP connections handed out by the
   * primary (the multi-worker mode of Node < 22.12). Outside a cluster worker it changes
   * nothing. Default true.
   */
  exclusive?: boolean;
  /**
   * The UDP socket implementation. `auto`: `Bun.udpSocket` when running on Bun (replies of
   * one event-loop turn leave in one `sendMany`), `node:dgram` elsewhere. `node` forces
   * `node:dgram` (Bun runs it too); `bun` outside Bun is an error. Default `auto`.
   */
  udpBackend?: 'auto' | 'node' | 'bun';
  /** Attempts to find a port free for both UDP and TCP when `port` is 0. Default 10. */
  listenAttempts?: number;
  /**
   * Response rate limiting for UDP replies (BIND's RRL; see `RateLimitOptions`). Absent or
   * `responsesPerSecond: 0`: off. TCP replies are never limited (a TCP client cannot forge
   * its address, and TCP is where a slipped client is sent). Default off.
   */
  rateLimit?: RateLimitOptions;
  /** Called when the handler throws or rejects (for logging). Must not throw. */
  onHandlerError?: (error: unknown, peer: Peer) => void;
}

export interface CloseOptions {
  /** How long to wait for in-flight handlers before closing sockets anyway. Default 5000. */
  drainMs?: number;
}
