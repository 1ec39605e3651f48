import dgram from 'node:dgram';
import { ipLiteralLookup } from '../ip-lookup.js';
import {
  type BunRuntime,
  type BunUdpSocket,
  isIcmpReport,
  sendManyPastIcmpReports,
  setBufferSizes,
} from '../server/udp-bun.js';
import type { UdpBackend } from '../server/udp-listener.js';
import { clientCounters } from './counters.js';
import type { PooledQuery } from './pooled-query.js';

/** What a `PoolSocket` hears from its datagram socket. */
export interface DatagramOwner {
  onMessage(msg: Buffer, address: string, port: number): void;
  onError(error: Error): void;
}

/**
 * The datagram side of one pool socket, whichever runtime provides it: bound to a random
 * port, unref'd (a pending query keeps the process alive, not the pool).
 */
export interface PoolDatagrams {
  /** Sends `packet` to the query's server; a failed send reaches `query.onSendError`, never synchronously. */
  send(query: PooledQuery, packet: Uint8Array): void;
  close(): void;
}

export function openPoolDatagrams(
  backend: UdpBackend,
  family: 'udp4' | 'udp6',
  recvBufferSize: number,
  owner: DatagramOwner,
): PoolDatagrams {
  return backend === 'bun'
    ? new BunPoolDatagrams(family, recvBufferSize, owner)
    : nodePoolDatagrams(family, recvBufferSize, owner);
}

/** `node:dgram`: one `send` (one syscall) per query. */
function nodePoolDatagrams(
  family: 'udp4' | 'udp6',
  recvBufferSize: number,
  owner: DatagramOwner,
): PoolDatagrams {
  // A shared socket holds the replies of many queries: while the event loop is busy they
  // queue in its receive buffer, and a full buffer drops replies of healthy servers.
  // Queries go to canonical IPs: sent inside `send`, not a tick later (ip-lookup.ts).
  const socket = dgram.createSocket(
    recvBufferSize > 0
      ? { type: family, recvBufferSize, lookup: ipLiteralLookup }
      : { type: family, lookup: ipLiteralLookup },
  );
  socket.on('message', (msg, rinfo) => owner.onMessage(msg, rinfo.address, rinfo.port));
  socket.on('error', (error) => owner.onError(error));
  // Exclusive: in a node:cluster worker a plain bind(0) would share ONE socket among all
  // workers through the primary, and replies would reach the wrong worker.
  socket.bind({ port: 0, exclusive: true });
  socket.unref();
  return {
    send(query, packet) {
      // Sends made while binding are queued by Node.
      const attempt = (left: number) => {
        clientCounters.udpSendCalls++;
        socket.send(packet, query.req.port, query.req.host, (error) => {
          if (!error) return;
          // On Bun (IP_RECVERR) the ICMP error of an EARLIER query (an upstream down, its
          // port closed) fails whichever send comes next on the socket, this one unsent: it
          // is not this upstream's failure. Send again; the report was consumed.
          if (isIcmpReport(error) && left > 0) {
            clientCounters.icmpReports++;
            attempt(left - 1);
          } else query.onSendError(error);
        });
      };
      attempt(MAX_ICMP_RESENDS);
    },
    close() {
      try {
        socket.close();
      } catch {
        // already closed by an error: nothing to release
      }
    },
  };
}

/**
 * Most datagrams one `sendMany` carries: a fuller queue leaves at once, mid-turn. On loopback a
 * `sendMany` lands every datagram in the server's receive buffer within microseconds; a
 * whole turn's queries in one call (hundreds per upstream at full speed) overflowed a Knot
 * upstream's default buffer, and the queries it dropped timed out (issue 15: ≈260 drops per
 * upstream in `/proc/net/udp`, 0 late replies, 0 drops on our sockets). Small batches spread
 * the sends over the turn the way one `send` per query does. Timeouts in 5 s at full speed on
 * Bun (3 Knot upstreams): a turn's socket (≤ 256) 41–269 a run, 64: 8, 16: 9, 8: 0–11,
 * 4: 0 in 8 of 9 runs (9 in one, a burst after a stall of our loop); a quarter of the
 * syscalls of one `send` per query (BENCHMARKS.md, "Upstream sends batched on Bun, fixed").
 */
export const MAX_SEND_BATCH = 4;

/**
 * Times one query is sent again after an ICMP report of an earlier one (`isIcmpReport`):
 * each report is consumed by the send it fails, so a second report in a row needs a second
 * dead upstream answering in between; past this the query fails as a network error.
 */
const MAX_ICMP_RESENDS = 3;

/** Pool sockets with queries queued since the last flush; one `setImmediate` flushes them all. */
const dirty = new Set<BunPoolDatagrams>();
let flushScheduled = false;

function flushDirty(): void {
  flushScheduled = false;
  // A failed batch calls back into the client, which may queue (and schedule) anew.
  const sockets = [...dirty];
  dirty.clear();
  for (const d of sockets) d.flush();
}

/**
 * `Bun.udpSocket`: the queries sent in one event-loop turn leave in `sendMany` calls (one
 * syscall each) of `MAX_SEND_BATCH` as they queue up, the rest at the start of the next turn,
 * the way the server backend batches replies. A fan-out asks every upstream in the same turn,
 * so a receive burst of N misses is 3N / 4 calls instead of 3N. The queue is bounded by the
 * pool's `maxPendingPerSocket` (a queued query is already pending on its socket).
 */
class BunPoolDatagrams implements PoolDatagrams {
  private socket: BunUdpSocket | null = null;
  /** `sendMany`'s flat list: `[packet, port, host, ...]`, and the queries in the same order. */
  private packets: (Uint8Array | number | string)[] = [];
  private queries: PooledQuery[] = [];
  private waitingForDrain = false;
  private closed = false;

  constructor(family: 'udp4' | 'udp6', recvBufferSize: number, owner: DatagramOwner) {
    const bun = (globalThis as unknown as { Bun: BunRuntime }).Bun;
    bun
      .udpSocket({
        hostname: family === 'udp6' ? '::' : '0.0.0.0',
        port: 0,
        socket: {
          data: (_socket, message, port, address) => owner.onMessage(message, address, port),
          drain: () => {
            this.waitingForDrain = false;
            this.flush();
          },
          // Bun reports asynchronous errors here, ECONNREFUSED from an ICMP port unreachable
          // among them, without saying which send caused it. Node never does on an unconnected
          // socket (no IP_RECVERR): there the queries to a closed port time out, and so they
          // do here, rather than failing every query on the socket with it.
          error: (error) => {
            if (isIcmpReport(error)) clientCounters.icmpReports++;
          },
        },
      })
      .then(async (socket) => {
        socket.unref();
        if (this.closed) {
          socket.close();
          return;
        }
        if (recvBufferSize > 0) {
          // A tuning, not a condition of working: where libc's setsockopt is out of reach
          // (bun:ffi, glibc) the socket keeps the OS default rather than failing every query.
          await setBufferSizes(socket.fd, recvBufferSize).catch(() => {});
        }
        this.socket = socket;
        // What was sent while binding leaves now.
        if (this.closed) socket.close();
        else this.flush();
      })
      .catch((error: unknown) => {
        if (!this.closed) owner.onError(error instanceof Error ? error : new Error(String(error)));
      });
  }

  send(query: PooledQuery, packet: Uint8Array): void {
    this.packets.push(packet, query.req.port, query.req.host);
    this.queries.push(query);
    if (this.socket === null || this.waitingForDrain) return; // bound / drained: flushed then
    if (this.queries.length >= MAX_SEND_BATCH) {
      dirty.delete(this);
      this.flush();
      return;
    }
    dirty.add(this);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushDirty);
    }
  }

  /** @internal Writes what is queued (or as much as the kernel takes; the rest on 'drain'). */
  flush(): void {
    const socket = this.socket;
    if (socket === null || this.closed || this.waitingForDrain || this.queries.length === 0) return;
    const packets = this.packets;
    const queries = this.queries;
    this.packets = [];
    this.queries = [];
    clientCounters.udpSendCalls++;
    // Past the ICMP reports of earlier queries (an upstream down): not these queries' failure.
    const { sent, failed } = sendManyPastIcmpReports(socket, packets);
    if (failed !== null) {
      // One error for the rest of the call: every query not sent fails as its own failed
      // `send` would (kind 'network').
      // Deferred: `send` flushes a full batch itself, and a failed send never calls back
      // synchronously (`PoolDatagrams.send`).
      setImmediate(failBatch, queries.slice(sent), failed);
      return;
    }
    if (sent < queries.length) {
      // The kernel buffer is full: the rest goes first once Bun says it drained.
      this.packets = packets.slice(sent * 3).concat(this.packets);
      this.queries = queries.slice(sent).concat(this.queries);
      this.waitingForDrain = true;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    dirty.delete(this);
    this.packets = [];
    this.queries = [];
    this.socket?.close();
  }
}

function failBatch(queries: PooledQuery[], cause: Error): void {
  for (const q of queries) q.onSendError(cause);
}
