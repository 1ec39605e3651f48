import type { HandlerReply, Peer } from './types.js';

/** Who hears a `LaterReply` settle: the server's UDP path (no closure per query). */
export interface LaterReplySink {
  laterReplied(reply: HandlerReply, query: Uint8Array, peer: Peer): void;
  laterFailed(error: unknown, query: Uint8Array, peer: Peer): void;
}

const WAITING = 0;
const REPLIED = 1;
const FAILED = 2;

/**
 * A reply the handler gives later, without a Promise: a handler may return one (or an
 * object of a subclass, e.g. its own per-query record) and call `reply` or `fail` once when
 * it knows. Over UDP the server listens with one call (`deliverTo`: its own object, the
 * query's bytes and peer; no closure, no microtask per query); anything else (TCP, tests)
 * sees a thenable and may `await` it like the Promise it replaces.
 */
export class LaterReply {
  private state = WAITING;
  private value: HandlerReply | unknown = null;
  private sink: LaterReplySink | null = null;
  private sinkQuery: Uint8Array | null = null;
  private sinkPeer: Peer | null = null;
  private promise: Promise<HandlerReply> | null = null;
  private resolvePromise: ((reply: HandlerReply) => void) | null = null;
  private rejectPromise: ((error: unknown) => void) | null = null;

  /** Settles with `reply` (null: no reply); later calls are ignored. */
  reply(reply: HandlerReply): void {
    if (this.state !== WAITING) return;
    this.state = REPLIED;
    this.value = reply;
    this.notify();
  }

  /** Settles with a failure (the server answers SERVFAIL, as for a rejected promise). */
  fail(error: unknown): void {
    if (this.state !== WAITING) return;
    this.state = FAILED;
    this.value = error;
    this.notify();
  }

  /**
   * @internal The server's UDP path: `sink` hears the outcome with `query` and `peer`, at once
   * when it is already settled. One listener per reply.
   */
  deliverTo(sink: LaterReplySink, query: Uint8Array, peer: Peer): void {
    this.sink = sink;
    this.sinkQuery = query;
    this.sinkPeer = peer;
    if (this.state !== WAITING) this.notify();
  }

  // biome-ignore lint/suspicious/noThenProperty: a thenable on purpose, so `await` works on it.
  then<A = HandlerReply, B = never>(
    onReplied?: ((reply: HandlerReply) => A | PromiseLike<A>) | null,
    onFailed?: ((error: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.asPromise().then(onReplied, onFailed);
  }

  private asPromise(): Promise<HandlerReply> {
    if (this.promise !== null) return this.promise;
    if (this.state === REPLIED) this.promise = Promise.resolve(this.value as HandlerReply);
    else if (this.state === FAILED) this.promise = Promise.reject(this.value);
    else {
      this.promise = new Promise<HandlerReply>((resolve, reject) => {
        this.resolvePromise = resolve;
        this.rejectPromise = reject;
      });
    }
    return this.promise;
  }

  private notify(): void {
    const sink = this.sink;
    if (sink !== null) {
      this.sink = null;
      const query = this.sinkQuery as Uint8Array;
      const peer = this.sinkPeer as Peer;
      this.sinkQuery = null;
      this.sinkPeer = null;
      if (this.state === REPLIED) sink.laterReplied(this.value as HandlerReply, query, peer);
      else sink.laterFailed(this.value, query, peer);
    }
    if (this.resolvePromise !== null) {
      if (this.state === REPLIED) this.resolvePromise(this.value as HandlerReply);
      else (this.rejectPromise as (error: unknown) => void)(this.value);
      this.resolvePromise = null;
      this.rejectPromise = null;
    }
  }
}
