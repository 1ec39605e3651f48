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
  /** `this` is the socket. Also called for an ICMP error (ECONNREFUSED), unconnected or not. */
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
    let sent: number;
    try {
      sent = socket.sendMany(taken);
    } catch {
      // Bun reports one error for the whole call; which replies left is unknown, none is resent.
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
      error: () => req.onError(),
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
