import cluster from 'node:cluster';
import type { ToPrimary, ToWorker } from './ipc.js';
import { trySend } from './relay.js';

/**
 * Feeds: state the primary owns and the workers follow. The primary publishes entries
 * (topic, key, value) and keeps the last value of each; a worker subscribes to a topic and
 * gets every entry held at that moment (the snapshot a restarted worker needs), then each
 * change as it is published. A `null` value removes the entry. Values cross the IPC channel
 * as JSON (no `Uint8Array`: bytes as base64), one message per entry, so a topic whose
 * entries are big (a replica's records) is best split by the publisher into entries that
 * change separately (the copy, its state).
 *
 * Workers also send the primary one-way messages (`toPrimary`), e.g. a NOTIFY one worker
 * verified for state only the primary keeps.
 */
export class FeedHub<P> {
  private readonly state = new Map<string, Map<string, unknown>>();
  private readonly subscribed = new Map<string, Set<P>>();
  private readonly handlers = new Map<string, (payload: unknown) => void>();

  constructor(
    private readonly send: (peer: P, message: ToWorker) => void,
    private readonly onError: (err: unknown, topic: string) => void = () => {},
  ) {}

  /** Sets (or with `null` removes) one entry and sends it to every subscribed worker. */
  publish(topic: string, key: string, value: unknown): void {
    let entries = this.state.get(topic);
    if (entries === undefined) {
      entries = new Map();
      this.state.set(topic, entries);
    }
    if (value === null) entries.delete(key);
    else entries.set(key, value);
    const message: ToWorker = { mdns: 'feed', topic, key, value };
    for (const peer of this.subscribed.get(topic) ?? []) this.trySend(peer, message);
  }

  /** The entry held, or undefined. */
  get(topic: string, key: string): unknown {
    return this.state.get(topic)?.get(key);
  }

  /** Handles the workers' `toPrimary` messages on `topic` (one handler, the last set wins). */
  onWorker(topic: string, handler: (payload: unknown) => void): void {
    this.handlers.set(topic, handler);
  }

  /** A worker's message; false when it is not a feed message (the caller's, then). */
  route(from: P, message: ToPrimary): boolean {
    if (message.mdns === 'feed-subscribe') {
      this.subscribe(from, message.topic);
      return true;
    }
    if (message.mdns === 'to-primary') {
      try {
        this.handlers.get(message.topic)?.(message.payload);
      } catch (err) {
        this.onError(err, message.topic);
      }
      return true;
    }
    return false;
  }

  /** A worker that exited: it subscribes again when it is restarted. */
  forget(peer: P): void {
    for (const peers of this.subscribed.values()) peers.delete(peer);
  }

  private subscribe(peer: P, topic: string): void {
    let peers = this.subscribed.get(topic);
    if (peers === undefined) {
      peers = new Set();
      this.subscribed.set(topic, peers);
    }
    peers.add(peer);
    // The snapshot: every entry held now, in publication order; later ones follow as published.
    for (const [key, value] of this.state.get(topic) ?? []) {
      if (!this.trySend(peer, { mdns: 'feed', topic, key, value })) return;
    }
  }

  private trySend(peer: P, message: ToWorker): boolean {
    return trySend(this.send, peer, message);
  }
}

/** What the app runs in the primary of a multi-worker process (`superviseWorkers`' `primary`). */
export interface PrimaryFeeds {
  publish(topic: string, key: string, value: unknown): void;
  onWorker(topic: string, handler: (payload: unknown) => void): void;
}

/** The worker's side of one channel (tests pass an in-memory one). */
export interface FeedChannel {
  send(message: ToPrimary): void;
  onMessage(listener: (message: unknown) => void): void;
}

export type FeedListener = (key: string, value: unknown) => void;

/** A worker's view of the primary's feeds. */
export interface WorkerFeeds {
  /**
   * Follows `topic`: `listener` gets every entry the primary holds (its snapshot), then each
   * change (value null: removed). The last value of each key is kept here too (`get`).
   */
  follow(topic: string, listener: FeedListener): void;
  /** The last value received for (topic, key), or undefined. */
  get(topic: string, key: string): unknown;
  /** A one-way message to the app's part in the primary. */
  toPrimary(topic: string, payload: unknown): void;
}

/** The feeds of this worker over `channel`. */
export function workerFeedsOver(channel: FeedChannel): WorkerFeeds {
  const listeners = new Map<string, FeedListener>();
  const held = new Map<string, Map<string, unknown>>();
  channel.onMessage((message: unknown) => {
    const m = message as ToWorker;
    if (typeof m !== 'object' || m === null || m.mdns !== 'feed') return;
    const entries = held.get(m.topic);
    if (entries === undefined) return;
    if (m.value === null) entries.delete(m.key);
    else entries.set(m.key, m.value);
    listeners.get(m.topic)?.(m.key, m.value);
  });
  return {
    follow(topic, listener) {
      listeners.set(topic, listener);
      if (!held.has(topic)) held.set(topic, new Map());
      channel.send({ mdns: 'feed-subscribe', topic });
    },
    get(topic, key) {
      return held.get(topic)?.get(key);
    },
    toPrimary(topic, payload) {
      channel.send({ mdns: 'to-primary', topic, payload });
    },
  };
}

/** This worker's feeds, or null outside a multi-worker process (nothing to follow). */
export function workerFeeds(): WorkerFeeds | null {
  if (!cluster.isWorker) return null;
  return workerFeedsOver({
    send: (message) => {
      if (process.connected) process.send?.(message);
    },
    onMessage: (listener) => process.on('message', listener),
  });
}
