import type { Socket } from 'node:net';
import { lengthPrefix, MALFORMED_FRAME, TcpFrameDecoder } from '../tcp-framing.js';
import type { ServerCounters } from './counters.js';
import { isThenable, looksLikeQuery, MAX_TCP_MESSAGE } from './query-gate.js';
import type { HandlerReply, MessageList, Peer, StreamingHandler } from './types.js';

/** What a connection needs from its server; kept narrow so the two files stay independent. */
export interface ConnectionHost {
  readonly handler: StreamingHandler;
  readonly counters: ServerCounters;
  readonly maxPipelined: number;
  readonly idleTimeoutMs: number;
  readonly maxQueuedBytes: number;
  /** Bytes to send for what the handler produced (counts null replies and wrong types). */
  replyOf(value: unknown, query: Uint8Array, peer: Peer): Uint8Array | null;
  /** Counts the failure and returns the SERVFAIL to send (null: send nothing). */
  handlerFailed(error: unknown, query: Uint8Array, peer: Peer): Uint8Array | null;
  queryStarted(): void;
  queryFinished(): void;
  connectionClosed(connection: TcpConnection): void;
}

/**
 * One accepted TCP connection (RFC 7766): queries are read back-to-back and
 * answered as each handler settles, so replies may leave out of order.
 */
export class TcpConnection {
  private readonly decoder = new TcpFrameDecoder();
  private readonly peer: Peer;
  private inFlight = 0;
  private readingPaused = false;
  private draining = false;
  private closed = false;
  /**
   * Multi-message replies (zone transfers) still being written: one message is handed to the
   * socket at a time while its queue is under `writeHighWater`, the rest on 'drain', so a
   * large zone never sits twice in memory and a slow reader holds one window, not the zone.
   * Reading stops while a stream is unfinished.
   */
  private readonly streams: { messages: readonly Uint8Array[]; next: number }[] = [];
  /**
   * When the connection last made progress (a whole query read or a reply sent). Node's
   * socket timeout restarts on every byte, so a client trickling one byte at a time would
   * hold the connection forever (slowloris); this clock restarts only on whole messages.
   */
  private lastProgress = Date.now();
  /**
   * When queued replies last moved into the kernel (or the queue was last empty). A client
   * that sends queries but never reads fills its receive window, then our socket buffer; with
   * nothing in flight and nothing read, only this clock tells a stalled peer from a slow one.
   */
  private lastWriteProgress = Date.now();
  /**
   * A slow reader must not make us buffer replies without bound: past this many unsent
   * bytes the connection stops reading new queries until the socket drains.
   */
  private readonly writeHighWater: number;
  private readonly written = () => {
    this.lastWriteProgress = Date.now();
  };
  /** Runs only while replies are queued: closes the connection when they stop moving. */
  private stallTimer: NodeJS.Timeout | null = null;
  private readonly checkStall = () => {
    this.stallTimer = null;
    if (this.closed || this.socket.writableLength === 0) return;
    const waited = Date.now() - this.lastWriteProgress;
    const idleMs = this.host.idleTimeoutMs;
    if (waited < idleMs) {
      this.stallTimer = setTimeout(this.checkStall, idleMs - waited);
      return;
    }
    // Replies queued and none taken for a whole idle period: the client stopped reading.
    this.host.counters.tcpWriteStalls++;
    this.socket.destroy();
  };

  constructor(
    private readonly host: ConnectionHost,
    private readonly socket: Socket,
    /** The source prefix this connection counts against (see `maxTcpConnectionsPerSource`). */
    readonly source: string,
  ) {
    this.writeHighWater = host.maxQueuedBytes / 2;
    this.peer = {
      address: socket.remoteAddress ?? '',
      port: socket.remotePort ?? 0,
      transport: 'tcp',
    };
    socket.setNoDelay(true);
    socket.setTimeout(host.idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.pump());
    socket.on('timeout', () => this.onIdle());
    socket.on('error', () => {
      host.counters.sendErrors++;
    });
    socket.on('close', () => this.onClose());
  }

  /** Stop reading queries; close once the ones in flight are answered. */
  drain(): void {
    this.draining = true;
    this.updateReading();
    if (this.inFlight === 0 && this.streams.length === 0) this.socket.end();
  }

  /**
   * End of drain: close now, but let replies already written leave first
   * (bounded by `flushMs`, so a client that stopped reading cannot hold us).
   */
  close(flushMs: number): void {
    if (this.socket.writableLength === 0) {
      this.socket.destroy();
      return;
    }
    this.socket.end();
    setTimeout(() => this.socket.destroy(), flushMs).unref();
  }

  private onData(chunk: Buffer): void {
    this.decoder.feed(chunk);
    this.pump();
    if (
      this.inFlight === 0 &&
      !this.closed &&
      Date.now() - this.lastProgress > this.host.idleTimeoutMs
    ) {
      // Bytes keep coming but no whole query within the idle timeout: a trickle, not a client.
      this.host.counters.tcpIdleClosed++;
      this.socket.destroy();
    }
  }

  private pump(): void {
    const { counters, maxPipelined } = this.host;
    this.flushStreams();
    while (
      this.streams.length === 0 &&
      !this.closed &&
      !this.draining &&
      this.inFlight < maxPipelined
    ) {
      if (this.socket.writableLength > this.writeHighWater) break;
      const frame = this.decoder.next();
      if (frame === null) break;
      if (frame === MALFORMED_FRAME) {
        counters.tcpFramingErrors++;
        this.socket.destroy();
        return;
      }
      counters.tcpQueries++;
      this.lastProgress = Date.now();
      this.dispatch(frame);
    }
    this.updateReading();
  }

  private dispatch(query: Uint8Array): void {
    const host = this.host;
    if (!looksLikeQuery(query)) {
      host.counters.dropped++;
      return;
    }
    let result: unknown;
    try {
      result = host.handler(query, this.peer);
    } catch (error) {
      this.send(host.handlerFailed(error, query, this.peer));
      return;
    }
    if (result instanceof Uint8Array) {
      this.send(result);
      return;
    }
    if (isMessageList(result)) {
      this.sendStream(result);
      return;
    }
    if (!isThenable(result)) {
      this.send(host.replyOf(result, query, this.peer));
      return;
    }
    this.inFlight++;
    host.queryStarted();
    result.then(
      (reply) => this.settled(isMessageList(reply) ? reply : host.replyOf(reply, query, this.peer)),
      (error: unknown) => this.settled(host.handlerFailed(error, query, this.peer)),
    );
  }

  private settled(reply: HandlerReply | MessageList): void {
    this.inFlight--;
    this.host.queryFinished();
    if (isMessageList(reply)) this.sendStream(reply);
    else this.send(reply);
    if (this.draining) {
      this.endIfDrained();
      return;
    }
    this.pump();
  }

  private endIfDrained(): void {
    if (this.inFlight === 0 && this.streams.length === 0 && !this.closed) this.socket.end();
  }

  private sendStream(messages: readonly Uint8Array[]): void {
    if (messages.length === 0 || this.closed) return;
    this.streams.push({ messages, next: 0 });
    this.flushStreams();
    this.updateReading();
  }

  /** Writes stream messages while the socket queue is under the high-water mark. */
  private flushStreams(): void {
    while (this.streams.length > 0 && !this.closed && !this.socket.destroyed) {
      if (this.socket.writableLength > this.writeHighWater) return;
      const stream = this.streams[0];
      const message = stream.messages[stream.next++];
      if (stream.next >= stream.messages.length) this.streams.shift();
      if (message.length > MAX_TCP_MESSAGE) {
        // A message the length prefix cannot frame: the stream cannot be completed.
        this.host.counters.oversizeReplies++;
        this.socket.destroy();
        return;
      }
      this.write(message);
    }
    if (this.draining) this.endIfDrained();
  }

  private send(reply: Uint8Array | null): void {
    if (reply == null || this.closed || this.socket.destroyed) return;
    if (reply.length > MAX_TCP_MESSAGE) {
      this.host.counters.oversizeReplies++;
      return;
    }
    const queued = this.socket.writableLength;
    // An empty queue always takes one reply, so a limit below 64 KiB cannot refuse a big one.
    if (queued > 0 && queued + 2 + reply.length > this.host.maxQueuedBytes) {
      // Reading stopped at half the limit, yet replies in flight keep arriving: the client
      // is not taking them. Closing frees the queue; a real client reconnects.
      this.host.counters.tcpQueueOverflows++;
      this.socket.destroy();
      return;
    }
    this.write(reply);
  }

  private write(reply: Uint8Array): void {
    if (this.socket.writableLength === 0) this.lastWriteProgress = Date.now();
    // Two corked writes go out as one writev: no copy of the reply to prepend its length.
    this.socket.cork();
    this.socket.write(lengthPrefix(reply.length));
    this.socket.write(reply, this.written);
    this.socket.uncork();
    // The kernel took everything (the usual case) or the stall check is already running.
    if (this.stallTimer === null && this.socket.writableLength > 0) {
      this.stallTimer = setTimeout(this.checkStall, this.host.idleTimeoutMs);
    }
    this.lastProgress = Date.now();
    this.host.counters.tcpReplies++;
  }

  private updateReading(): void {
    const full = this.inFlight >= this.host.maxPipelined;
    const pause =
      full ||
      this.draining ||
      this.streams.length > 0 ||
      this.socket.writableLength > this.writeHighWater;
    if (pause && !this.readingPaused) {
      this.readingPaused = true;
      if (full) this.host.counters.tcpPipelinePauses++;
      this.socket.pause();
    } else if (!pause && this.readingPaused) {
      this.readingPaused = false;
      this.socket.resume();
    }
  }

  private onIdle(): void {
    // Node fires 'timeout' once per idle period; a slow handler is not idleness, so re-arm.
    // Queued replies are not idleness either: the stall timer judges those.
    if (this.inFlight > 0 || this.socket.writableLength > 0 || this.streams.length > 0) {
      this.socket.setTimeout(this.host.idleTimeoutMs);
      return;
    }
    this.host.counters.tcpIdleClosed++;
    this.socket.destroy();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.stallTimer !== null) clearTimeout(this.stallTimer);
    this.host.counters.tcpOpen--;
    this.host.connectionClosed(this);
  }
}

/** A multi-message reply (`Array.isArray` does not narrow a readonly array type). */
function isMessageList(value: unknown): value is readonly Uint8Array[] {
  return Array.isArray(value);
}
