import { scan, typeNumber } from '@mdns/protocol';
import { chooseUdpBackend, runningOnBun, type UdpBackend } from '../server/udp-listener.js';
import { clientCounters } from './counters.js';
import { DnsQueryError } from './errors.js';
import { canonicalIp, type ExchangeRequest } from './exchange.js';
import { PoolSocket } from './pool-socket.js';
import {
  type LateReplyCallback,
  type PendingQuery,
  PooledQuery,
  type QueryCallback,
} from './pooled-query.js';
import { countedFailure, type DnsQueryOptions, type DnsQueryResult } from './query.js';
import { buildQuery, randomizeCase } from './query-bytes.js';
import type { ExpectedReply } from './reply-match.js';

export interface DnsClientOptions {
  /**
   * Long-lived UDP sockets per address family, used in turn. Default 16. `0` = a fresh
   * socket (new random port) per query, as `dnsQuery` does: the strict mode.
   */
  sockets?: number;
  /** A socket is replaced (new random port) after this many queries. Default 2000. */
  queriesPerSocket?: number;
  /** ... or once it is this old, in ms (each socket at a random point of the second half). Default 10000. */
  socketLifetimeMs?: number;
  /**
   * Queries in flight per socket before the next socket is tried; when every pooled socket
   * is that busy, the query gets a socket of its own. Default 256.
   */
  maxPendingPerSocket?: number;
  /** `SO_RCVBUF` of each socket in bytes (the kernel caps it at `net.core.rmem_max`); 0 = OS default. Default 1 MiB. */
  recvBufferBytes?: number;
  /**
   * The sockets: `node` (default) is `node:dgram` on both runtimes; `auto` is `Bun.udpSocket`
   * on Bun (the queries of one event-loop turn leave in `sendMany` calls of at most 4 per
   * socket: −25–27 % CPU per miss on Bun, BENCHMARKS.md "Upstream sends batched on Bun,
   * fixed") and `node:dgram` elsewhere; `bun` outside Bun throws. Not `auto` by default yet:
   * with batches of 4, one full-speed run in nine still overflowed an upstream's receive
   * buffer after a stall of our loop (9 timeouts, circuits opened) where `node:dgram` had
   * none; the choice is the operator's only once it is a config option.
   */
  udpBackend?: 'auto' | UdpBackend;
}

/** One question for `DnsClient`: `dnsQuery`'s options without `tcp` and `signal`, plus `randomCase`. */
export type DnsClientQuery = Omit<DnsQueryOptions, 'tcp' | 'signal'> & {
  /**
   * Send the name's letters in random case and accept only a reply whose question echoes
   * them byte for byte (0x20). Only for servers known to echo the question (ours, Knot,
   * BIND, CoreDNS do); a server that lowercases it would see every reply dropped. Default false.
   */
  randomCase?: boolean;
};

const DEFAULT_SOCKETS = 16;
const DEFAULT_QUERIES_PER_SOCKET = 2000;
const DEFAULT_SOCKET_LIFETIME_MS = 10_000;
const DEFAULT_MAX_PENDING_PER_SOCKET = 256;
const DEFAULT_RECV_BUFFER_BYTES = 1 << 20;
const DEFAULT_TIMEOUT_MS = 5000;
// Canonical forms of the hosts asked (an IPv6 literal costs a URL parse otherwise).
const MAX_KNOWN_HOSTS = 1024;

/**
 * A DNS client for many queries to known servers: a few UDP sockets bound to random ports
 * and rotated, random IDs, strict reply matching (source address and port, ID, question),
 * a per-query timeout whose verdict waits out a busy event loop, TC=1 -> TCP retry, and
 * cancellation by a plain `cancel()`. See the README for the spoofing trade-off.
 */
export class DnsClient {
  private readonly size: number;
  private readonly queriesPerSocket: number;
  private readonly lifetimeMs: number;
  private readonly maxPending: number;
  private readonly recvBufferBytes: number;
  /** Which UDP sockets this client's queries use (`DnsClientOptions.udpBackend`). */
  readonly udpBackend: UdpBackend;
  private readonly slots: Record<'udp4' | 'udp6', Array<PoolSocket | null>>;
  private cursor = 0;
  /**
   * The pooled socket of this event-loop turn, per family: every query of a turn goes on it
   * and the next turn takes the next socket. On Bun the turn's queries leave in one
   * `sendMany` (16 sockets in turn would split a burst into 16 calls); on both runtimes the
   * replies to a fan-out (one question to several upstreams) come back on one socket, read
   * in one wake-up instead of one wake-up (and one empty read, EAGAIN) per reply.
   */
  private readonly turnSockets: Record<'udp4' | 'udp6', PoolSocket | null> = {
    udp4: null,
    udp6: null,
  };
  private turnEndScheduled = false;
  private closed = false;
  private readonly hosts = new Map<string, string | null>();
  /** The last question built: a fan-out asks the same one of every upstream in a row. */
  private question = new BuiltQuestion('', -1, 0, false, -1, false, '', '');

  constructor(options: DnsClientOptions = {}) {
    this.size = wholeAtLeast(options.sockets ?? DEFAULT_SOCKETS, 0, 'sockets');
    this.queriesPerSocket = wholeAtLeast(
      options.queriesPerSocket ?? DEFAULT_QUERIES_PER_SOCKET,
      1,
      'queriesPerSocket',
    );
    this.lifetimeMs = wholeAtLeast(
      options.socketLifetimeMs ?? DEFAULT_SOCKET_LIFETIME_MS,
      1,
      'socketLifetimeMs',
    );
    this.maxPending = wholeAtLeast(
      options.maxPendingPerSocket ?? DEFAULT_MAX_PENDING_PER_SOCKET,
      1,
      'maxPendingPerSocket',
    );
    this.recvBufferBytes = wholeAtLeast(
      options.recvBufferBytes ?? DEFAULT_RECV_BUFFER_BYTES,
      0,
      'recvBufferBytes',
    );
    this.udpBackend = chooseUdpBackend(options.udpBackend ?? 'node', runningOnBun(), 'DnsClient');
    this.slots = { udp4: new Array(this.size).fill(null), udp6: new Array(this.size).fill(null) };
  }

  /**
   * Sends one question; `done` is called once with the result or a `DnsQueryError` (never
   * synchronously), unless the returned query is cancelled first. `onLate` hears of a reply
   * that still arrives after a timeout (see `LateReplyCallback`).
   */
  send<C = undefined>(
    options: DnsClientQuery,
    done: QueryCallback<C>,
    onLate?: LateReplyCallback,
    context?: C,
  ): PendingQuery {
    const callback = done as QueryCallback;
    clientCounters.queries++;
    clientCounters.pooledQueries++;
    const host = this.canonical(options.host);
    const port = options.port ?? 53;
    const qtype = typeof options.type === 'number' ? options.type : typeNumber(options.type);
    let problem: DnsQueryError | null = null;
    if (this.closed) problem = new DnsQueryError('aborted', 'DnsClient is closed');
    else if (host === null)
      problem = new DnsQueryError('local', `host "${options.host}" is not an IP address`);
    else if (!Number.isInteger(port) || port <= 0 || port > 65535)
      problem = new DnsQueryError('local', `port ${port} is not 1..65535`);
    else if (qtype == null)
      problem = new DnsQueryError('local', `unknown query type "${options.type}"`);
    if (problem !== null || host === null || qtype == null)
      return later(problem, callback, context);

    const socket = this.socketFor(host.includes(':') ? 'udp6' : 'udp4');
    const ownSocket = socket.retired; // strict mode or overflow: this query only
    const id = socket.freeId();
    if (id < 0) {
      return later(
        new DnsQueryError('local', `no free query ID on a udp socket`),
        callback,
        context,
      );
    }
    const qclass = options.class ?? 1;
    const rd = options.rd ?? true;
    const udpSize = options.edns === false ? -1 : (options.udpSize ?? 1232);
    const dnssecOk = options.edns !== false && (options.dnssecOk ?? false);
    const question = this.question.matches(options.name, qtype, qclass, rd, udpSize, dnssecOk)
      ? this.question
      : this.buildQuestion(options.name, qtype, qclass, rd, udpSize, dnssecOk);
    if (typeof question.bytes === 'string') {
      if (ownSocket) socket.close();
      return later(
        new DnsQueryError('local', `cannot build query: ${question.bytes}`),
        callback,
        context,
      );
    }
    // Each query its own copy: its own ID and (below) its own random case.
    const packet = question.bytes.slice();
    packet[0] = id >> 8;
    packet[1] = id & 0xff;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const expect: ExpectedReply = { id, qname: question.qname, qtype, qclass };
    if (options.randomCase) {
      // The name runs from the header to QTYPE/QCLASS (and the 11-byte OPT, when present).
      const nameEnd = packet.length - 4 - (options.edns === false ? 0 : 11);
      randomizeCase(packet, 12, nameEnd);
      expect.exactName = packet.subarray(12, nameEnd);
    }
    const req: ExchangeRequest = {
      host,
      port,
      packet,
      expect,
      deadline: Date.now() + timeoutMs,
      signal: undefined,
    };
    clientCounters.udpExchanges++;
    const query = new PooledQuery(id, socket, req, timeoutMs, callback, onLate, context);
    socket.send(query, packet);
    return query;
  }

  /** `send` as a promise (probes, tests); rejects with a `DnsQueryError`. */
  query(options: DnsClientQuery): Promise<DnsQueryResult> {
    return new Promise((resolve, reject) => {
      this.send(options, (outcome) =>
        outcome instanceof DnsQueryError ? reject(outcome) : resolve(outcome),
      );
    });
  }

  /** Sockets open now (pooled ones plus retired ones still waiting for replies). */
  get openSockets(): number {
    let n = 0;
    for (const list of [this.slots.udp4, this.slots.udp6])
      for (const s of list) if (s !== null && !s.closed) n++;
    return n;
  }

  /**
   * No new queries (they fail with kind 'aborted'); each socket closes once its queries in
   * flight are answered or timed out, so closing never fails a query already sent.
   */
  close(): void {
    this.closed = true;
    for (const list of [this.slots.udp4, this.slots.udp6]) {
      for (let i = 0; i < list.length; i++) {
        list[i]?.retire();
        list[i] = null;
      }
    }
  }

  /**
   * The next pooled socket in turn (replaced when it reached its query count or age), or the
   * next one with room when it is busy; a retired socket of its own (strict mode, or every
   * pooled socket full) otherwise. The turn is the event-loop turn's, not the query's.
   */
  private socketFor(family: 'udp4' | 'udp6'): PoolSocket {
    if (this.size === 0) return this.ownSocket(family);
    const current = this.turnSockets[family];
    if (current !== null && this.hasRoom(current)) return current;
    const socket = this.nextPooled(family);
    if (socket !== null) {
      this.turnSockets[family] = socket;
      if (!this.turnEndScheduled) {
        this.turnEndScheduled = true;
        setImmediate(endTurn, this);
      }
    }
    return socket ?? this.ownSocket(family);
  }

  /** @internal The event-loop turn is over: the next query takes the next socket in turn. */
  endTurn(): void {
    this.turnEndScheduled = false;
    this.turnSockets.udp4 = null;
    this.turnSockets.udp6 = null;
  }

  private hasRoom(socket: PoolSocket): boolean {
    return !socket.retired && socket.pending.size < this.maxPending && !this.worn(socket);
  }

  private nextPooled(family: 'udp4' | 'udp6'): PoolSocket | null {
    const slots = this.slots[family];
    for (let tries = 0; tries < this.size; tries++) {
      this.cursor = (this.cursor + 1) % this.size;
      let socket = slots[this.cursor];
      if (socket === null || socket.closed || this.worn(socket)) {
        if (socket !== null && !socket.closed) {
          socket.retire();
          clientCounters.socketsRotated++;
        }
        socket = new PoolSocket(family, this.recvBufferBytes, this.lifetimeMs, this.udpBackend);
        slots[this.cursor] = socket;
      }
      if (socket.pending.size < this.maxPending) return socket;
    }
    return null;
  }

  private ownSocket(family: 'udp4' | 'udp6'): PoolSocket {
    const socket = new PoolSocket(family, this.recvBufferBytes, this.lifetimeMs, this.udpBackend);
    socket.retired = true; // closes once its one query is answered or its tombstone expires
    return socket;
  }

  private worn(socket: PoolSocket): boolean {
    return socket.sent >= this.queriesPerSocket || performance.now() >= socket.retireAt;
  }

  private buildQuestion(
    name: string,
    qtype: number,
    qclass: number,
    rd: boolean,
    udpSize: number,
    dnssecOk: boolean,
  ): BuiltQuestion {
    const bytes = buildQuery({
      id: 0,
      name,
      qtype,
      qclass,
      rd,
      edns: udpSize < 0 ? null : { udpSize, dnssecOk },
    });
    const qname = typeof bytes === 'string' ? '' : expectedName(name, bytes);
    this.question = new BuiltQuestion(name, qtype, qclass, rd, udpSize, dnssecOk, bytes, qname);
    return this.question;
  }

  private canonical(host: string): string | null {
    const known = this.hosts.get(host);
    if (known !== undefined) return known;
    const value = canonicalIp(host);
    if (this.hosts.size >= MAX_KNOWN_HOSTS) this.hosts.clear();
    this.hosts.set(host, value);
    return value;
  }
}

/**
 * One question's query bytes with ID 0 (or why they cannot be built), and the name a reply
 * must echo: built once, copied per upstream.
 */
class BuiltQuestion {
  constructor(
    readonly name: string,
    readonly qtype: number,
    readonly qclass: number,
    readonly rd: boolean,
    /** -1: no OPT record. */
    readonly udpSize: number,
    readonly dnssecOk: boolean,
    readonly bytes: Uint8Array | string,
    /** As `scan` normalizes it. */
    readonly qname: string,
  ) {}

  matches(
    name: string,
    qtype: number,
    qclass: number,
    rd: boolean,
    udpSize: number,
    dnssecOk: boolean,
  ): boolean {
    return (
      this.name === name &&
      this.qtype === qtype &&
      this.qclass === qclass &&
      this.rd === rd &&
      this.udpSize === udpSize &&
      this.dnssecOk === dnssecOk
    );
  }
}

/** The question name as `scan` normalizes it, without scanning our own packet in the usual case. */
function expectedName(name: string, packet: Uint8Array): string {
  if (name.includes('\\')) {
    const s = scan(packet);
    if (s.ok) return s.query.qname;
  }
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  return trimmed.toLowerCase();
}

/** A query that failed before it was sent: reported on the next tick, unless cancelled. */
function later(error: DnsQueryError | null, done: QueryCallback, context: unknown): PendingQuery {
  let cancelled = false;
  const failure = countedFailure(error);
  process.nextTick(() => {
    if (!cancelled) done(failure, context);
  });
  return {
    cancel: () => {
      cancelled = true;
    },
  };
}

function wholeAtLeast(n: number, min: number, what: string): number {
  if (!Number.isInteger(n) || n < min) {
    throw new RangeError(`DnsClient ${what} must be a whole number >= ${min}, got ${n}`);
  }
  return n;
}

function endTurn(client: DnsClient): void {
  client.endTurn();
}
