import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiError } from './api-request.js';
import { OVERSIZE_HEAD_BYTES, objectRefIn } from './oversize.js';

/** What a watch reports, line by line. */
export interface WatchCallbacks {
  event(type: string, object: unknown): void;
  /** An event line over the cap was dropped unread; `object` when its start names it. */
  oversized(object: string | null, bytes: number): void;
  /** The stream ended: null when the server closed it, else why (with `statusCode` on HTTP errors). */
  done(err: unknown): void;
}

export interface WatchApi {
  watch(
    path: string,
    params: Record<string, string>,
    on: WatchCallbacks,
  ): Promise<{ abort(): void }>;
}

/** The first OVERSIZE_HEAD_BYTES of `parts` as text, without joining the rest. */
function headOf(parts: readonly Buffer[]): string {
  const taken: Buffer[] = [];
  let n = 0;
  for (const p of parts) {
    if (n >= OVERSIZE_HEAD_BYTES) break;
    taken.push(p.subarray(0, OVERSIZE_HEAD_BYTES - n));
    n += taken[taken.length - 1].length;
  }
  return Buffer.concat(taken).toString('utf8');
}

/**
 * Splits a watch stream into event lines, none held beyond `maxBytes`: a longer line is
 * dropped as it streams (only its start is kept, to name the object). Pure state over
 * chunks, so it is tested without a socket.
 */
export class EventLines {
  private parts: Buffer[] = [];
  private size = 0;
  private head: string | null = null;

  constructor(
    private readonly maxBytes: number,
    private readonly line: (text: string) => void,
    private readonly oversized: (head: string, bytes: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start <= chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      if (this.head === null && this.size + piece.length > this.maxBytes) {
        this.head = headOf([...this.parts, piece]);
        this.parts = [];
      } else if (this.head === null && piece.length > 0) {
        // A copy: a view would pin the whole (possibly large) chunk.
        this.parts.push(Buffer.from(piece));
      }
      this.size += piece.length;
      if (nl === -1) return;
      if (this.head !== null) this.oversized(this.head, this.size);
      else if (this.size > 0) this.line(Buffer.concat(this.parts, this.size).toString('utf8'));
      this.parts = [];
      this.size = 0;
      this.head = null;
      start = nl + 1;
    }
  }
}

/**
 * Kubernetes watch over Node's HTTP, with the kubeconfig's auth/TLS/proxy from client-node
 * (`applyToHTTPSOptions`). Replaces client-node's `Watch`, whose line reader has no size
 * limit: one event of a huge object was read whole into memory, then parsed.
 */
export class EventWatch implements WatchApi {
  constructor(
    private readonly kc: KubeConfig,
    private readonly maxEventBytes: number,
  ) {}

  async watch(
    path: string,
    params: Record<string, string>,
    on: WatchCallbacks,
  ): Promise<{ abort(): void }> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/+$/, '') + path);
    url.searchParams.set('watch', 'true');
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const opts: https.RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(opts);
    const request = url.protocol === 'http:' ? http.request : https.request;
    let ended = false;
    const done = (err: unknown) => {
      if (ended) return;
      ended = true;
      on.done(err);
    };
    const req = request(url, opts, (res) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        res.resume();
        done(new ApiError(status, `watch ${url.pathname}: HTTP ${status}`));
        req.destroy();
        return;
      }
      const lines = new EventLines(
        this.maxEventBytes,
        (text) => {
          let data: { type?: unknown; object?: unknown };
          try {
            data = JSON.parse(text);
          } catch {
            return; // a line cut by a dropped connection: the watch ends right after
          }
          if (typeof data?.type === 'string') on.event(data.type, data.object);
        },
        (head, bytes) => on.oversized(objectRefIn(head), bytes),
      );
      res.on('data', (c: Buffer) => {
        if (!ended) lines.push(c);
      });
      res.on('end', () => done(null));
      res.on('error', done);
      res.on('close', () => done(res.complete ? null : new Error('watch connection lost')));
    });
    req.on('error', done);
    req.setNoDelay(true);
    req.on('socket', (s) => s.setKeepAlive(true, 30_000));
    req.end();
    return {
      abort() {
        ended = true;
        req.destroy();
      },
    };
  }
}
