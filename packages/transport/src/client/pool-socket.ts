import dgram from 'node:dgram';
import { clientCounters } from './counters.js';
import { DnsQueryError } from './errors.js';
import type { PooledQuery } from './pooled-query.js';
import { nextQueryId } from './query-bytes.js';

// Draws of a random ID before a socket is called full. With at most 65536 IDs per socket and
// a few hundred queries in flight, the first draw is free with probability > 99%.
const ID_DRAWS = 64;

/**
 * One long-lived UDP socket of a `DnsClient`: bound to a kernel-chosen random port, it
 * demultiplexes replies to its queries by message ID. An ID stays taken until its query
 * is answered or its tombstone expires (see `PooledQuery`), so a late reply can never be
 * taken for a newer query's answer.
 */
export class PoolSocket {
  readonly pending = new Map<number, PooledQuery>();
  /** Queries sent on this socket (rotation counts these). */
  sent = 0;
  readonly openedAt = performance.now();
  /** Rotation time, spread over the second half of the lifetime so sockets do not all rotate at once. */
  readonly retireAt: number;
  /** No new queries; closes once the last pending ID is released. */
  retired = false;
  closed = false;
  private readonly socket: dgram.Socket;

  constructor(family: 'udp4' | 'udp6', recvBufferSize: number, lifetimeMs: number) {
    this.retireAt = this.openedAt + lifetimeMs * (0.5 + Math.random() / 2);
    // A shared socket holds the replies of many queries: while the event loop is busy they
    // queue in its receive buffer, and a full buffer drops replies of healthy servers.
    this.socket = dgram.createSocket(
      recvBufferSize > 0 ? { type: family, recvBufferSize } : { type: family },
    );
    this.socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    this.socket.on('error', (error) => this.onError(error));
    // Exclusive: in a node:cluster worker a plain bind(0) would share ONE socket among all
    // workers through the primary, and replies would reach the wrong worker.
    this.socket.bind({ port: 0, exclusive: true });
    // The pool must not keep a process alive; a pending query's timer does.
    this.socket.unref();
    clientCounters.socketsOpened++;
  }

  /** A random ID not in flight on this socket, or -1 when none was found. */
  freeId(): number {
    for (let i = 0; i < ID_DRAWS; i++) {
      const id = nextQueryId();
      if (!this.pending.has(id)) return id;
    }
    return -1;
  }

  /** Registers `query` under its ID and sends its packet. Sends made while binding are queued by Node. */
  send(query: PooledQuery, packet: Uint8Array): void {
    this.pending.set(query.id, query);
    this.sent++;
    this.socket.send(packet, query.req.port, query.req.host, (error) => {
      if (error) query.onSendError(error);
    });
  }

  /** Frees `query`'s ID; a retired socket closes with its last ID. */
  release(query: PooledQuery): void {
    if (this.pending.get(query.id) === query) this.pending.delete(query.id);
    if (this.retired && this.pending.size === 0) this.close();
  }

  retire(): void {
    this.retired = true;
    if (this.pending.size === 0) this.close();
  }

  /** Closes now; every query still waiting fails with `error` (tombstones just go). */
  close(error?: DnsQueryError): void {
    if (this.closed) return;
    this.closed = true;
    this.retired = true;
    const queries = [...this.pending.values()];
    this.pending.clear();
    for (const q of queries) q.onSocketClosed(error);
    try {
      this.socket.close();
    } catch {
      // already closed by an error: nothing to release
    }
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < 12) {
      clientCounters.malformedReplies++;
      return;
    }
    const query = this.pending.get((msg[0] << 8) | msg[1]);
    if (query === undefined) {
      // Unknown ID: a forgery, a stray, or a reply older than its tombstone.
      clientCounters.mismatched++;
      clientCounters.mismatchedId++;
      return;
    }
    query.onDatagram(msg, rinfo.address, rinfo.port);
  }

  private onError(error: Error): void {
    this.close(
      new DnsQueryError('network', `udp client socket: ${error.message}`, { cause: error }),
    );
  }
}
