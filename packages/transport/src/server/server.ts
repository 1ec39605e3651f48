import net from 'node:net';
import { bindUdpAndTcp } from './bind.js';
import { newServerCounters, type ServerCounters } from './counters.js';
import { LaterReply, type LaterReplySink } from './later-reply.js';
import { isThenable, looksLikeQuery, MAX_UDP_PAYLOAD, servfailFor } from './query-gate.js';
import { ResponseRateLimiter, truncatedReply } from './rate-limit.js';
import { sourcePrefix } from './source-prefix.js';
import { type ConnectionHost, TcpConnection } from './tcp-connection.js';
import type { CloseOptions, DnsServerOptions, Peer, StreamingHandler } from './types.js';
import {
  chooseUdpBackend,
  runningOnBun,
  type UdpBackend,
  type UdpListener,
} from './udp-listener.js';

type State = 'new' | 'listening' | 'closing' | 'closed';

/**
 * A DNS listener: UDP and TCP on one address and port, bytes in, bytes out.
 * What to answer is the handler's business; this class only moves packets,
 * frames TCP, bounds resources and counts.
 */
export class DnsServer implements ConnectionHost, LaterReplySink {
  readonly counters: ServerCounters = newServerCounters();
  readonly handler: StreamingHandler;
  readonly maxPipelined: number;
  readonly idleTimeoutMs: number;
  readonly maxQueuedBytes: number;

  private readonly options: DnsServerOptions;
  private readonly maxConnections: number;
  private readonly maxPerSource: number;
  private readonly connections = new Set<TcpConnection>();
  /** Open connections per source prefix (only sources with at least one). */
  private readonly perSource = new Map<string, number>();
  private readonly rateLimiter: ResponseRateLimiter | null;
  private readonly tcp: net.Server;
  private udp: UdpListener | null = null;
  /** The UDP implementation in use (see `DnsServerOptions.udpBackend`). */
  readonly udpBackend: UdpBackend;
  private state: State = 'new';
  private boundPort = 0;
  private inFlight = 0;
  private onIdle: (() => void) | null = null;
  private closing: Promise<void> | null = null;

  constructor(options: DnsServerOptions) {
    if (typeof options.handler !== 'function') throw new Error('DnsServer: handler is required');
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
      throw new Error(`DnsServer: port must be an integer 0..65535, got ${options.port}`);
    }
    this.options = options;
    this.handler = options.handler;
    this.idleTimeoutMs = positive(options.tcpIdleTimeoutMs, 10_000, 'tcpIdleTimeoutMs');
    this.maxConnections = positive(options.maxTcpConnections, 1000, 'maxTcpConnections');
    this.maxPerSource = positive(
      options.maxTcpConnectionsPerSource,
      100,
      'maxTcpConnectionsPerSource',
    );
    this.maxPipelined = positive(options.maxTcpPipelined, 100, 'maxTcpPipelined');
    this.maxQueuedBytes = positive(options.maxTcpQueuedBytes, 512 * 1024, 'maxTcpQueuedBytes');
    const rrl = options.rateLimit;
    this.rateLimiter =
      rrl !== undefined && rrl.responsesPerSecond > 0 ? new ResponseRateLimiter(rrl) : null;
    this.udpBackend = chooseUdpBackend(options.udpBackend ?? 'auto', runningOnBun());
    this.tcp = net.createServer({ noDelay: true }, (socket) => this.onConnection(socket));
  }

  /** Bind UDP and TCP; resolves with the port actually used (useful with port 0). */
  async listen(): Promise<{ port: number }> {
    if (this.state !== 'new') throw new Error(`DnsServer: listen() called when ${this.state}`);
    const o = this.options;
    const bound = await bindUdpAndTcp(
      {
        host: o.host ?? '0.0.0.0',
        port: o.port,
        // 0 (like undefined) keeps the OS default.
        recvBufferSize: (o.recvBufferSize ?? o.udpBufferBytes) || undefined,
        sendBufferSize: (o.sendBufferSize ?? o.udpBufferBytes) || undefined,
        reusePort: o.reusePort ?? false,
        exclusive: o.exclusive ?? true,
        attempts: o.listenAttempts ?? 10,
        backend: this.udpBackend,
        receive: (msg, address, port) => this.onUdpMessage(msg, address, port),
        // A failed send (EMSGSIZE, ENOBUFS...) must not take the process down.
        onError: () => {
          this.counters.sendErrors++;
        },
        onIcmpReport: () => {
          this.counters.udpIcmpReports++;
        },
      },
      this.tcp,
    );
    this.udp = bound.udp;
    this.boundPort = bound.port;
    this.tcp.on('error', () => {
      this.counters.sendErrors++;
    });
    this.state = 'listening';
    return { port: bound.port };
  }

  /** The bound port (0 before `listen()`). */
  get port(): number {
    return this.boundPort;
  }

  /**
   * Stop accepting, let in-flight handlers finish (at most `drainMs`), then
   * close every socket. Safe to call more than once.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = this.shutdown(options.drainMs ?? 5000);
    return this.closing;
  }

  private async shutdown(drainMs: number): Promise<void> {
    const wasListening = this.state === 'listening';
    this.state = 'closing';
    if (!wasListening) {
      this.state = 'closed';
      return;
    }
    const tcpClosed = new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    for (const connection of this.connections) connection.drain();
    await this.waitForIdle(drainMs);
    for (const connection of this.connections) connection.close(1000);
    const udp = this.udp!;
    this.udp = null;
    await udp.close();
    await tcpClosed;
    this.state = 'closed';
  }

  private waitForIdle(drainMs: number): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, drainMs);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.onIdle = null;
        resolve();
      }
      this.onIdle = done;
    });
  }

  // ---- UDP: the hot path. One peer object per datagram; closures only for async handlers.

  private onUdpMessage(msg: Uint8Array, address: string, port: number): void {
    const counters = this.counters;
    counters.udpQueries++;
    if (this.state !== 'listening' || !looksLikeQuery(msg)) {
      counters.dropped++;
      return;
    }
    const peer: Peer = { address, port, transport: 'udp' };
    let result: unknown;
    try {
      result = this.handler(msg, peer);
    } catch (error) {
      this.sendUdp(this.handlerFailed(error, msg, peer), peer);
      return;
    }
    if (result instanceof Uint8Array) {
      this.sendUdp(result, peer);
      return;
    }
    if (result instanceof LaterReply) {
      // The handler's callback form: one call, no closure or microtask per query.
      this.queryStarted();
      result.deliverTo(this, msg, peer);
      return;
    }
    if (!isThenable(result)) {
      this.sendUdp(this.replyOf(result, msg, peer), peer);
      return;
    }
    this.queryStarted();
    result.then(
      (reply) => {
        this.queryFinished();
        this.sendUdp(this.replyOf(reply, msg, peer), peer);
      },
      (error: unknown) => {
        this.queryFinished();
        this.sendUdp(this.handlerFailed(error, msg, peer), peer);
      },
    );
  }

  /** @internal A `LaterReply` a UDP query's handler returned settled (`LaterReplySink`). */
  laterReplied(reply: unknown, query: Uint8Array, peer: Peer): void {
    this.queryFinished();
    this.sendUdp(this.replyOf(reply, query, peer), peer);
  }

  /** @internal The same, failed: SERVFAIL as for a rejected promise. */
  laterFailed(error: unknown, query: Uint8Array, peer: Peer): void {
    this.queryFinished();
    this.sendUdp(this.handlerFailed(error, query, peer), peer);
  }

  private sendUdp(answer: Uint8Array | null, peer: Peer): void {
    const udp = this.udp;
    if (answer === null || udp === null) return;
    let reply = answer;
    if (reply.length > MAX_UDP_PAYLOAD) {
      this.counters.oversizeReplies++;
      return;
    }
    if (this.rateLimiter !== null) {
      const verdict = this.rateLimiter.judge(reply, peer.address);
      if (verdict === 'drop') {
        this.counters.rrlDropped++;
        return;
      }
      if (verdict === 'slip') {
        this.counters.rrlSlipped++;
        reply = truncatedReply(reply);
      }
    }
    try {
      udp.send(reply, peer.port, peer.address);
      this.counters.udpReplies++;
    } catch {
      // Thrown synchronously when the socket is already closed (a handler outlived drainMs).
      this.counters.sendErrors++;
    }
  }

  // ---- ConnectionHost (also used by UDP)

  replyOf(value: unknown, query: Uint8Array, peer: Peer): Uint8Array | null {
    if (value instanceof Uint8Array) return value;
    if (value == null) {
      this.counters.noReply++;
      return null;
    }
    const what = Array.isArray(value) ? 'several messages over UDP' : typeof value;
    return this.handlerFailed(
      new TypeError(`handler returned ${what}, expected Uint8Array, null or a promise`),
      query,
      peer,
    );
  }

  handlerFailed(error: unknown, query: Uint8Array, peer: Peer): Uint8Array | null {
    this.counters.handlerErrors++;
    try {
      this.options.onHandlerError?.(error, peer);
    } catch {
      // A logging hook that throws must not turn one bad query into a crash.
    }
    const reply = servfailFor(query);
    if (reply === null) this.counters.handlerErrorsUnanswered++;
    return reply;
  }

  queryStarted(): void {
    this.inFlight++;
  }

  queryFinished(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.onIdle) this.onIdle();
  }

  connectionClosed(connection: TcpConnection): void {
    this.connections.delete(connection);
    const open = (this.perSource.get(connection.source) ?? 1) - 1;
    if (open > 0) this.perSource.set(connection.source, open);
    else this.perSource.delete(connection.source);
  }

  private onConnection(socket: net.Socket): void {
    if (this.state !== 'listening' || this.connections.size >= this.maxConnections) {
      this.counters.tcpRejected++;
      refuse(socket);
      return;
    }
    const source = sourcePrefix(socket.remoteAddress ?? '', 32, 64);
    const open = this.perSource.get(source) ?? 0;
    if (open >= this.maxPerSource) {
      this.counters.tcpSourceRejected++;
      refuse(socket);
      return;
    }
    this.perSource.set(source, open + 1);
    this.counters.tcpConnections++;
    this.counters.tcpOpen++;
    this.connections.add(new TcpConnection(this, socket, source));
  }
}

function refuse(socket: net.Socket): void {
  socket.on('error', () => {});
  socket.destroy();
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`DnsServer: ${name} must be a positive number, got ${value}`);
  }
  return value;
}
