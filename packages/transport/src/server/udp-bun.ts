import cluster from 'node:cluster';
import type { UdpBindRequest, UdpListener } from './udp-listener.js';
import { traceFromEnv } from './udp-trace.js';

// The slice of Bun's UDP API the server and client backends use (the package does not
// depend on bun-types).
export interface BunUdpSocket {
  readonly port: number;
  readonly fd: number;
  readonly closed: boolean;
  sendMany(packets: readonly (Uint8Array | number | string)[]): number;
  /** The socket no longer keeps the process alive. */
  unref(): void;
  close(): void;
}
interface BunUdpHandler {
  /** `message` is a Buffer (Bun's default `binaryType`). */
  data(socket: BunUdpSocket, message: Buffer, port: number, address: string): void;
  drain(socket: BunUdpSocket): void;
  /** `this` is the socket. Also called for an ICMP error (ECONNREFUSED), unconnected or not: `isIcmpReport`. */
  error(this: BunUdpSocket, error: Error): void;
}
export interface BunRuntime {
  udpSocket(options: {
    hostname: string;
    port: number;
    flags?: number;
    socket: BunUdpHandler;
  }): Promise<BunUdpSocket>;
}

/**
 * Bind flags of `Bun.udpSocket`, as Bun's own `node:dgram` passes them (undocumented, stable
 * since 1.1): SO_REUSEPORT, and fail instead of binding without it where it is unsupported.
 */
const LISTEN_REUSE_PORT = 4;
const LISTEN_DISALLOW_REUSE_PORT_FAILURE = 32;

/**
 * Replies waiting for the next flush. A bound, not a buffer: past it a reply is dropped
 * (and counted) rather than held while the socket cannot send.
 */
const MAX_QUEUED_REPLIES = 4096;

/**
 * The reply queue of one socket as the flat list `sendMany` takes
 * (`[data, port, address, data, port, address, ...]`). Pure bookkeeping, no I/O.
 */
export class ReplyBatch {
  private packets: (Uint8Array | number | string)[] = [];

  get size(): number {
    return this.packets.length / 3;
  }

  /** false (nothing queued) when the queue is full. */
  push(reply: Uint8Array, port: number, address: string): boolean {
    if (this.size >= MAX_QUEUED_REPLIES) return false;
    this.packets.push(reply, port, address);
    return true;
  }

  /** Everything queued, emptying the queue. */
  take(): (Uint8Array | number | string)[] {
    const taken = this.packets;
    this.packets = [];
    return taken;
  }

  /** Puts back what a partial send left (the tail of `taken` after `sent` replies), first in line. */
  requeue(taken: (Uint8Array | number | string)[], sent: number): void {
    this.packets = taken.slice(sent * 3).concat(this.packets);
  }
}

/**
 * `Bun.udpSocket`. Bun calls `data` once per datagram (receiving is batched below JS, but a
 * microtask would still run after every callback), so replies are queued and written with one
 * `sendMany` per event-loop turn (`setImmediate`): one syscall for the whole receive burst.
 * Measured on the echo floor under dnsperf, 2.2-2.5x the queries per second of one `send`
 * per reply on this 2-core box.
 */
export async function bindBunUdp(req: UdpBindRequest): Promise<UdpListener> {
  const bun = (globalThis as unknown as { Bun: BunRuntime }).Bun;
  const batch = new ReplyBatch();
  // Opt-in latency trace (MDNS_UDP_TRACE=FILE, udp-trace.ts): one null check per datagram when off.
  const trace = traceFromEnv();
  let flushScheduled = false;
  let waitingForDrain = false;

  const flush = () => {
    flushScheduled = false;
    if (batch.size === 0 || socket.closed) return;
    const taken = batch.take();
    const started = trace === null ? 0 : performance.now();
    const { sent, failed } = sendManyPastIcmpReports(socket, taken);
    if (failed !== null) {
      // Bun reports one error for the whole call: what was not sent is not resent.
      req.onError();
      trace?.flushed(started, performance.now(), taken.length / 3);
      return;
    }
    trace?.flushed(started, performance.now(), sent);
    if (sent * 3 < taken.length) {
      // The kernel buffer is full: the rest waits for 'drain'.
      batch.requeue(taken, sent);
      waitingForDrain = true;
    }
  };
  const schedule = () => {
    if (flushScheduled || waitingForDrain) return;
    flushScheduled = true;
    setImmediate(flush);
  };

  // A cluster worker asked to share the primary's socket gets SO_REUSEPORT instead: Bun's
  // cluster cannot pass sockets between processes, the kernel spreads datagrams the same way.
  const share = req.reusePort || (!req.exclusive && cluster.isWorker);
  const socket = await bun.udpSocket({
    hostname: req.host,
    port: req.port,
    flags: share ? LISTEN_REUSE_PORT | LISTEN_DISALLOW_REUSE_PORT_FAILURE : 0,
    socket: {
      data:
        trace === null
          ? (_socket, message, port, address) => req.receive(message, address, port)
          : (_socket, message, port, address) => {
              trace.received(performance.now());
              req.receive(message, address, port);
            },
      drain: () => {
        waitingForDrain = false;
        flush();
      },
      // ICMP errors about earlier replies arrive here too (a client gone, a spoofed source):
      // counted apart, they are no failure of ours.
      error: (error) => (isIcmpReport(error) ? req.onIcmpReport() : req.onError()),
    },
  });
  if (req.recvBufferSize || req.sendBufferSize) {
    try {
      await setBufferSizes(socket.fd, req.recvBufferSize, req.sendBufferSize);
    } catch (error) {
      socket.close();
      throw error;
    }
  }
  return {
    backend: 'bun',
    port: socket.port,
    send(reply, port, address) {
      if (socket.closed) throw new Error('UDP socket is closed');
      if (!batch.push(reply, port, address)) {
        req.onError();
        return;
      }
      trace?.handed(performance.now());
      schedule();
    },
    async close() {
      // Replies already handed over leave before the socket goes.
      waitingForDrain = false;
      flush();
      socket.close();
      trace?.write();
    },
  };
}

/**
 * Socket errors that report an ICMP message about an EARLIER datagram (RFC 1122 4.1.3.3:
 * port unreachable is ECONNREFUSED on Linux; host/net unreachable, admin prohibited, TTL
 * exceeded map to the others). Bun turns on IP_RECVERR, so an unconnected UDP socket sees
 * them, as `error` callbacks and, worse, as the result of the NEXT send: the kernel hands the
 * pending error to whichever datagram is sent next, and that datagram does not leave.
 * Node's `node:dgram` never sets IP_RECVERR; its unconnected sockets never see them.
 */
export function isIcmpReport(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && ICMP_REPORT_CODES.has(code);
}

const ICMP_REPORT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENONET',
  'EPROTO',
  'ENOPROTOOPT',
]);

function isFullBuffer(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'ENOBUFS';
}

/** What `sendManyPastIcmpReports` did: datagrams sent from the start of the list, and the error that stopped it (null: none; the rest, if any, waits for 'drain'). */
export interface SentMany {
  sent: number;
  failed: Error | null;
}

/**
 * `socket.sendMany(packets)` (the flat `[data, port, address, ...]` list) that does not let
 * one client's ICMP report cost other clients their datagrams. The kernel returns a pending
 * ICMP error (`isIcmpReport`) from the next `sendmmsg`: as a throw when it hits the first
 * datagram, as a short count when it hits a later one, the datagram it hit unsent either way.
 * Without this, one client that closed its port before its reply arrived (or a query with a
 * spoofed source) dropped the whole next batch of replies to everyone else (70 % of a
 * victim's answers under such a flood, measured). Each report is consumed by the call it
 * fails, so the rest is sent again at once; a short count with no report behind it (the
 * next call sends nothing) is a full buffer, left for 'drain'. Bounded: every round sends a
 * datagram or consumes a report, and reports are capped at the list's length.
 */
export function sendManyPastIcmpReports(
  socket: Pick<BunUdpSocket, 'sendMany'>,
  packets: (Uint8Array | number | string)[],
): SentMany {
  const total = packets.length / 3;
  let sent = 0;
  let reports = 0;
  while (sent < total) {
    let n: number;
    try {
      n = socket.sendMany(sent === 0 ? packets : packets.slice(sent * 3));
    } catch (error) {
      // A full buffer after a short count: the short count already armed 'drain'.
      if (sent > 0 && isFullBuffer(error)) break;
      if (!isIcmpReport(error) || reports >= total) {
        return { sent, failed: error instanceof Error ? error : new Error(String(error)) };
      }
      // Counted where Bun delivers the same report to the `error` callback (once each).
      reports++;
      continue;
    }
    if (n <= 0) break;
    sent += n;
  }
  return { sent, failed: null };
}

// Linux socket option numbers (the same on x86-64 and arm64).
const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;

type SetSockOpt = (
  fd: number,
  level: number,
  name: number,
  value: Int32Array,
  size: number,
) => number;
let setsockopt: SetSockOpt | null = null;

/**
 * SO_RCVBUF / SO_SNDBUF on a `Bun.udpSocket`, which has no option for them: libc's
 * `setsockopt` through `bun:ffi` (Bun itself links glibc, so the library is there).
 */
export async function setBufferSizes(fd: number, recv?: number, send?: number): Promise<void> {
  if (setsockopt === null) {
    // A computed specifier: bundlers leave it alone, and Node never reaches this line.
    const specifier = 'bun:ffi';
    const ffi = await import(specifier);
    const { i32, ptr, u32 } = ffi.FFIType;
    const libc = ffi.dlopen('libc.so.6', {
      setsockopt: { args: [i32, i32, i32, ptr, u32], returns: i32 },
    });
    setsockopt = libc.symbols.setsockopt as SetSockOpt;
  }
  for (const [name, size] of [
    [SO_RCVBUF, recv],
    [SO_SNDBUF, send],
  ] as const) {
    if (!size) continue;
    if (setsockopt(fd, SOL_SOCKET, name, new Int32Array([size]), 4) !== 0) {
      throw new Error(
        `setsockopt(${name === SO_RCVBUF ? 'SO_RCVBUF' : 'SO_SNDBUF'}, ${size}) failed`,
      );
    }
  }
}
