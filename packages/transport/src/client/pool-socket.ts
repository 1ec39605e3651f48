import type { UdpBackend } from '../server/udp-listener.js';
import { clientCounters } from './counters.js';
import { DnsQueryError } from './errors.js';
import { type DatagramOwner, openPoolDatagrams, type PoolDatagrams } from './pool-datagrams.js';
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
export class PoolSocket implements DatagramOwner {
  readonly pending = new Map<number, PooledQuery>();
  /** Queries sent on this socket (rotation counts these). */
  sent = 0;
  readonly openedAt = performance.now();
  /** Rotation time, spread over the second half of the lifetime so sockets do not all rotate at once. */
  readonly retireAt: number;
  /** No new queries; closes once the last pending ID is released. */
  retired = false;
  closed = false;
  private readonly socket: PoolDatagrams;

  constructor(
    family: 'udp4' | 'udp6',
    recvBufferSize: number,
    lifetimeMs: number,
    backend: UdpBackend = 'node',
  ) {
    this.retireAt = this.openedAt + lifetimeMs * (0.5 + Math.random() / 2);
    this.socket = openPoolDatagrams(backend, family, recvBufferSize, this);
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

  /** Registers `query` under its ID and sends its packet (queued while binding). */
  send(query: PooledQuery, packet: Uint8Array): void {
    this.pending.set(query.id, query);
    this.sent++;
    this.socket.send(query, packet);
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
    this.socket.close();
  }

  /** @internal A datagram on this socket (`DatagramOwner`). */
  onMessage(msg: Buffer, address: string, port: number): void {
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
    query.onDatagram(msg, address, port);
  }

  /** @internal The datagram socket failed (`DatagramOwner`): every query on it fails. */
  onError(error: Error): void {
    this.close(
      new DnsQueryError('network', `udp client socket: ${error.message}`, { cause: error }),
    );
  }
}
