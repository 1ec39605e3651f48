/**
 * One open watch: a chunked JSON-lines response that receives store events for its kind,
 * filtered by namespace and selectors, with optional bookmarks and a timeout. Faults
 * (stall, drop, cut mid-event) act here because they are properties of the wire.
 */
import type { ServerResponse } from 'node:http';
import { apiVersionOf, type KindSpec } from './kinds.js';
import {
  type FieldRequirement,
  type LabelRequirement,
  matchesFields,
  matchesLabels,
} from './selectors.js';
import type { Status } from './status.js';
import type { KubeObject, StoreEvent } from './store.js';

export interface WatchFilter {
  namespace?: string;
  labels: LabelRequirement[];
  fields: FieldRequirement[];
}

export type WireEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

function matches(f: WatchFilter, obj: KubeObject | undefined): boolean {
  if (!obj) return false;
  if (f.namespace !== undefined && obj.metadata.namespace !== f.namespace) return false;
  return matchesLabels(f.labels, obj.metadata.labels) && matchesFields(f.fields, obj.metadata);
}

/**
 * What a filtered watcher sees of a store event. As in the real watch cache, an object that
 * starts matching the selector arrives as ADDED and one that stops matching as DELETED.
 */
export function visibleEvent(f: WatchFilter, ev: StoreEvent): WireEventType | undefined {
  const now = matches(f, ev.object);
  if (ev.type !== 'MODIFIED') return now ? ev.type : undefined;
  const before = matches(f, ev.prev);
  if (now) return before ? 'MODIFIED' : 'ADDED';
  return before ? 'DELETED' : undefined;
}

export interface WatchStreamOptions {
  spec: KindSpec;
  filter: WatchFilter;
  bookmarkIntervalMs?: number;
  timeoutMs?: number;
  /** Current global resourceVersion, for bookmarks. */
  currentVersion: () => number;
  isStalled: () => boolean;
  onEnd: (w: WatchStream) => void;
}

export class WatchStream {
  private readonly queue: string[] = [];
  private timers: NodeJS.Timeout[] = [];
  private ended = false;
  /** Events written to the wire, for tests and the request log. */
  sent = 0;

  constructor(
    private readonly res: ServerResponse,
    readonly opts: WatchStreamOptions,
  ) {
    res.writeHead(200, WATCH_HEADERS);
    res.flushHeaders();
    res.on('close', () => this.finish());
    if (opts.bookmarkIntervalMs) {
      this.timers.push(setInterval(() => this.bookmark(), opts.bookmarkIntervalMs));
    }
    if (opts.timeoutMs !== undefined) {
      this.timers.push(setTimeout(() => this.end(), opts.timeoutMs));
    }
  }

  get spec(): KindSpec {
    return this.opts.spec;
  }

  get open(): boolean {
    return !this.ended;
  }

  private line(type: WireEventType, object: unknown): void {
    if (this.ended) return;
    this.queue.push(`${JSON.stringify({ type, object })}\n`);
    this.flush();
  }

  /** Write what is queued unless the server is stalled (then it waits for `flush`). */
  flush(): void {
    if (this.ended || this.opts.isStalled()) return;
    while (this.queue.length > 0) {
      this.res.write(this.queue.shift()!);
      this.sent++;
    }
  }

  deliver(ev: StoreEvent): void {
    const type = visibleEvent(this.opts.filter, ev);
    if (type) this.line(type, ev.object);
  }

  /** Initial state for a watch without a resourceVersion: one ADDED per matching object. */
  added(objects: readonly KubeObject[]): void {
    for (const o of objects) if (matches(this.opts.filter, o)) this.line('ADDED', o);
  }

  bookmark(): void {
    if (this.opts.isStalled()) return;
    const { spec } = this.opts;
    this.line('BOOKMARK', {
      kind: spec.kind,
      apiVersion: apiVersionOf(spec),
      metadata: { resourceVersion: String(this.opts.currentVersion()) },
    });
  }

  /** An ERROR event (e.g. 410 Expired) then a clean end, as the API server does. */
  error(status: Status): void {
    this.line('ERROR', status);
    this.end();
  }

  /**
   * End the stream cleanly (terminating chunk): the client sees a normal end of body.
   * Events a stall still holds are never sent: the client's resourceVersion stays behind
   * them, as when an API server ends a watch before its cache delivered a change (after a
   * `compact()`, that client's re-watch gets 410 Expired for sure).
   */
  end(): void {
    if (this.ended) return;
    if (this.opts.isStalled()) this.queue.length = 0;
    else this.flush();
    this.finish();
    this.res.end();
  }

  /**
   * Kill the connection without the terminating chunk. With `cutMidEvent`, first write half
   * of an event line so the client holds a torn JSON line when the socket dies.
   */
  drop(cutMidEvent = false): void {
    if (this.ended) return;
    const socket = this.res.socket;
    this.finish();
    if (!socket) return;
    if (!cutMidEvent) {
      socket.destroy();
      return;
    }
    const torn = JSON.stringify({ type: 'MODIFIED', object: { metadata: { name: 'torn' } } });
    this.res.write(torn.slice(0, torn.length >> 1), () => socket.destroy());
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    this.opts.onEnd(this);
  }
}

/** The response headers of a watch stream, as the API server sends them. */
const WATCH_HEADERS = {
  'content-type': 'application/json',
  'transfer-encoding': 'chunked',
  'cache-control': 'no-cache',
};

/**
 * A watch answered with given bytes verbatim: each chunk is one write (one HTTP chunk),
 * `gapMs` after the one before so the client reads them apart, then a clean end. For wire
 * forms the store does not produce: an event split across chunks, a recorded stream.
 */
export async function writeRawWatch(
  res: ServerResponse,
  chunks: readonly (string | Uint8Array)[],
  gapMs: number,
): Promise<void> {
  res.writeHead(200, WATCH_HEADERS);
  res.flushHeaders();
  for (const chunk of chunks) {
    await new Promise((resolve) => setTimeout(resolve, gapMs));
    if (res.destroyed) return;
    res.write(chunk);
  }
  res.end();
}
