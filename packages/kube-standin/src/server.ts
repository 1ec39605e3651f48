/**
 * The stand-in's lifecycle and control surface: an HTTP server over the object store,
 * open watch streams, fault injection (stall, drop, down/up, failNext, forbid) and a
 * request log tests assert on.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type ApiState, classify, sendJson, serveApi, type Verb } from './api-handler.js';
import { CONTROL_PREFIX, serveControl } from './control-routes.js';
import {
  apiVersionOf,
  defaultKinds,
  findKind,
  type KindRef,
  type KindSpec,
  kindKey,
} from './kinds.js';
import { type KubeconfigFile, writeKubeconfig } from './kubeconfig.js';
import { parseRoute, type Route } from './routes.js';
import { failure } from './status.js';
import { type KubeObject, ObjectStore } from './store.js';
import { type WatchFilter, WatchStream, writeRawWatch } from './watch-stream.js';

export interface StandinOptions {
  /** Port to listen on; 0 (default) picks a free one, kept across `down()`/`up()`. */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Kinds installed at start. Default: every default kind. Strings name default kinds. */
  kinds?: KindRef[];
  /** Version overrides for default kinds by Kind, e.g. `{ TLSRoute: 'v1alpha3' }`. */
  versions?: Record<string, string>;
  /** Interval of BOOKMARK events on watches that allow them. Default 1000 ms. */
  bookmarkIntervalMs?: number;
  /** Store events kept for watch replay. Default 1000. */
  historyLimit?: number;
  /** Add a `managedFields` entry to objects like a real server. Default true. */
  managedFields?: boolean;
  /** Objects applied at start. */
  objects?: KubeObject[];
}

export interface RequestRecord {
  seq: number;
  at: number;
  method: string;
  path: string;
  query: string;
  verb: Verb;
  /** `kindKey` of the addressed kind (`ingresses.networking.k8s.io`), if installed. */
  kind?: string;
  namespace?: string;
  /** HTTP status sent; 0 while the request is stalled. */
  status: number;
}

interface FailRule {
  remaining: number;
  status: number;
  verb?: Verb;
  kind?: string;
}

export class Standin {
  readonly store: ObjectStore;
  readonly requests: RequestRecord[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly watches = new Set<WatchStream>();
  private readonly known: KindSpec[];
  private installed: KindSpec[] = [];
  private readonly forbidden = new Set<string>();
  private failRules: FailRule[] = [];
  private rawWatches: { kind: string; chunks: readonly (string | Uint8Array)[]; gapMs: number }[] =
    [];
  private stalled = false;
  private pending: (() => void)[] = [];
  private listening = false;
  private kubeconfig?: KubeconfigFile;
  private boundPort: number;
  private readonly host: string;
  private readonly bookmarkIntervalMs: number;
  private readonly apiState: ApiState;

  constructor(opts: StandinOptions = {}) {
    this.store = new ObjectStore({
      historyLimit: opts.historyLimit ?? 1000,
      managedFields: opts.managedFields ?? true,
    });
    this.known = defaultKinds(opts.versions);
    this.boundPort = opts.port ?? 0;
    this.host = opts.host ?? '127.0.0.1';
    this.bookmarkIntervalMs = opts.bookmarkIntervalMs ?? 1000;
    for (const k of opts.kinds ?? this.known) this.installKind(k);
    for (const o of opts.objects ?? []) this.apply(o);
    this.store.onEvent((ev) => {
      for (const w of this.watches) if (kindKey(w.spec) === ev.key) w.deliver(ev);
    });
    this.apiState = this.makeApiState();
    this.server = createServer((req, res) => this.onRequest(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://${this.host}:${this.boundPort}`;
  }

  get kubeconfigPath(): string {
    return this.kubeconfig!.path;
  }

  get kubeconfigYaml(): string {
    return this.kubeconfig!.yaml;
  }

  /** Current global resourceVersion (of the last write). */
  get resourceVersion(): number {
    return this.store.resourceVersion;
  }

  async start(): Promise<this> {
    await this.up();
    this.kubeconfig = writeKubeconfig(this.url);
    return this;
  }

  // ---- objects -------------------------------------------------------------------------

  private kindOf(ref: KindRef): KindSpec {
    const spec = findKind(this.installed, ref);
    if (!spec) throw new Error(`kube-standin: kind ${describe(ref)} is not installed`);
    return spec;
  }

  /** Key of any kind ever known; an unknown name is taken as `plural[.group]` as given. */
  private keyOf(ref: KindRef): string {
    const spec = findKind(this.known, ref);
    if (spec) return kindKey(spec);
    return typeof ref === 'string' ? ref.toLowerCase() : kindKey(ref);
  }

  private kindOfObject(obj: KubeObject): KindSpec {
    if (!obj?.kind || !obj.metadata?.name) {
      throw new Error('kube-standin: apply needs an object with kind and metadata.name');
    }
    const spec = this.installed.find(
      (k) => k.kind === obj.kind && (!obj.apiVersion || obj.apiVersion === apiVersionOf(k)),
    );
    if (!spec) {
      throw new Error(
        `kube-standin: ${obj.apiVersion ?? '?'} ${obj.kind} "${obj.metadata.name}" is not an installed kind`,
      );
    }
    return spec;
  }

  /** Create or replace (ADDED / MODIFIED). Namespaced objects default to `default`. */
  apply(obj: KubeObject): KubeObject {
    return structuredClone(this.store.put(this.kindOfObject(obj), obj));
  }

  applyAll(objs: readonly KubeObject[]): KubeObject[] {
    return objs.map((o) => this.apply(o));
  }

  /** Replace `status` only (MODIFIED). Throws when the object does not exist. */
  patchStatus(kind: KindRef, namespace: string | undefined, name: string, status: unknown) {
    const out = this.store.patchStatus(this.kindOf(kind), namespace, name, status);
    if (!out) throw new Error(`kube-standin: ${describe(kind)} ${namespace}/${name} not found`);
    return structuredClone(out);
  }

  /** Delete (DELETED); false when it did not exist. */
  delete(kind: KindRef, namespace: string | undefined, name: string): boolean {
    return this.store.remove(this.kindOf(kind), namespace, name) !== undefined;
  }

  get(kind: KindRef, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.store.get(this.kindOf(kind), namespace, name);
    return o && structuredClone(o);
  }

  list(kind: KindRef): KubeObject[] {
    return structuredClone(this.store.list(this.kindOf(kind)));
  }

  /** Drop the event history: watches from any earlier resourceVersion get 410 Expired. */
  compact(): void {
    this.store.compact();
  }

  // ---- kinds ---------------------------------------------------------------------------

  /** Install a kind (a default kind by name, or any `KindSpec`); replaces its version. */
  installKind(ref: KindRef): KindSpec {
    const spec = typeof ref === 'string' ? findKind(this.known, ref) : { crd: true, ...ref };
    if (!spec) throw new Error(`kube-standin: unknown kind ${ref}; pass a full KindSpec`);
    this.installed = [...this.installed.filter((k) => kindKey(k) !== kindKey(spec)), spec];
    if (!this.known.some((k) => kindKey(k) === kindKey(spec))) this.known.push(spec);
    return spec;
  }

  /** Remove a kind: its objects are deleted (DELETED events), then its watches end. */
  uninstallKind(ref: KindRef): void {
    const spec = findKind(this.installed, ref);
    if (!spec) return;
    this.store.removeAll(spec);
    for (const w of [...this.watches]) if (kindKey(w.spec) === kindKey(spec)) w.end();
    this.installed = this.installed.filter((k) => k !== spec);
  }

  installedKinds(): KindSpec[] {
    return [...this.installed];
  }

  /** 403 Forbidden for every request on this kind (open watches keep running, like RBAC). */
  forbid(kind: KindRef, on = true): void {
    const key = this.keyOf(kind);
    if (on) this.forbidden.add(key);
    else this.forbidden.delete(key);
  }

  // ---- faults --------------------------------------------------------------------------

  /** Destroy every open watch stream (no terminating chunk). Returns how many were open. */
  dropConnections(opts: { cutMidEvent?: boolean } = {}): number {
    const open = [...this.watches];
    for (const w of open) w.drop(opts.cutMidEvent);
    return open.length;
  }

  /**
   * End every open watch cleanly (terminating chunk), as the API server does when a watch
   * times out or it shuts down gracefully. Returns how many were open.
   */
  endWatches(kind?: KindRef): number {
    const key = kind === undefined ? undefined : kindKey(this.kindOf(kind));
    const open = [...this.watches].filter((w) => key === undefined || kindKey(w.spec) === key);
    for (const w of open) w.end();
    return open.length;
  }

  /** While stalled, requests are accepted but not answered and watches send nothing. */
  stall(on = true): void {
    this.stalled = on;
    if (on) return;
    const waiting = this.pending;
    this.pending = [];
    for (const run of waiting) run();
    for (const w of this.watches) w.flush();
  }

  /** The next `n` matching requests fail with `status` (a Status body). */
  failNext(n: number, status = 500, match: { verb?: Verb; kind?: KindRef } = {}): void {
    const kind = match.kind === undefined ? undefined : this.keyOf(match.kind);
    this.failRules.push({ remaining: n, status, verb: match.verb, kind });
  }

  /**
   * The next watch request on `kind` is answered with `chunks` verbatim (a 200 chunked
   * stream, one HTTP chunk each, `gapMs` apart, then a clean end) instead of from the store:
   * an event split across chunks, a BOOKMARK or ERROR in the API server's exact form.
   */
  replayNextWatch(
    kind: KindRef,
    chunks: readonly (string | Uint8Array)[],
    { gapMs = 20 }: { gapMs?: number } = {},
  ): void {
    this.rawWatches.push({ kind: this.keyOf(kind), chunks, gapMs });
  }

  /** Stop listening and kill every connection: clients get ECONNREFUSED until `up()`. */
  async down(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    this.pending = [];
    for (const w of [...this.watches]) w.drop();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Listen again on the same port. */
  async up(): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.boundPort, this.host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    const addr = this.server.address();
    if (addr && typeof addr === 'object') this.boundPort = addr.port;
    this.listening = true;
  }

  // ---- observation ---------------------------------------------------------------------

  /** Requests so far with this verb (and kind, if given). */
  count(verb: Verb, kind?: KindRef): number {
    const key = kind === undefined ? undefined : this.keyOf(kind);
    return this.requests.filter((r) => r.verb === verb && (key === undefined || r.kind === key))
      .length;
  }

  /**
   * Requests answered with HTTP `status` (of one kind, if given): how a test proves that the
   * retries it waits through really happened (e.g. three 403s on a forbidden kind).
   */
  answered(status: number, kind?: KindRef): number {
    const key = kind === undefined ? undefined : this.keyOf(kind);
    return this.requests.filter((r) => r.status === status && (key === undefined || r.kind === key))
      .length;
  }

  /** Open watch streams (of one kind, if given). */
  openWatches(kind?: KindRef): number {
    if (kind === undefined) return this.watches.size;
    const key = this.keyOf(kind);
    return [...this.watches].filter((w) => kindKey(w.spec) === key).length;
  }

  /** Resolve once at least `count` watches of `kind` are open; reject after `timeoutMs`. */
  async waitForWatch(kind: KindRef, opts: { count?: number; timeoutMs?: number } = {}) {
    const count = opts.count ?? 1;
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
    while (this.openWatches(kind) < count) {
      if (Date.now() > deadline) {
        throw new Error(
          `kube-standin: ${this.openWatches(kind)} of ${count} watches on ${describe(kind)} open after ${opts.timeoutMs ?? 10_000} ms`,
        );
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    await this.down();
    this.kubeconfig?.remove();
  }

  // ---- request path --------------------------------------------------------------------

  private takeRawWatch(kind?: string) {
    const i = this.rawWatches.findIndex((r) => r.kind === kind);
    return i < 0 ? undefined : this.rawWatches.splice(i, 1)[0];
  }

  private takeFailure(verb: Verb, kind?: string): number | undefined {
    const rule = this.failRules.find(
      (r) => r.remaining > 0 && (!r.verb || r.verb === verb) && (!r.kind || r.kind === kind),
    );
    if (!rule) return undefined;
    rule.remaining--;
    this.failRules = this.failRules.filter((r) => r.remaining > 0);
    return rule.status;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://standin');
    // Control calls bypass faults and the request log: they are the test harness, not a client.
    if (url.pathname.startsWith(CONTROL_PREFIX)) {
      void serveControl(this, req, res, url);
      return;
    }
    const route = parseRoute(url.pathname);
    const c = classify(route, req.method ?? 'GET', url.searchParams, this.installed);
    const rec: RequestRecord = {
      seq: this.requests.length + 1,
      at: Date.now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search,
      verb: c.verb,
      kind: c.spec ? kindKey(c.spec) : routeKey(route),
      namespace: route.type === 'resource' ? route.namespace : undefined,
      status: 0,
    };
    this.requests.push(rec);
    const run = () => {
      const failWith = this.takeFailure(c.verb, rec.kind);
      if (failWith !== undefined) {
        sendJson(res, failWith, failure(failWith, `kube-standin: injected failure ${failWith}`));
        rec.status = failWith;
        return;
      }
      const raw = c.verb === 'watch' ? this.takeRawWatch(rec.kind) : undefined;
      if (raw) {
        rec.status = 200;
        void writeRawWatch(res, raw.chunks, raw.gapMs);
        return;
      }
      serveApi(this.apiState, req, res, url, route, c)
        .catch((err) => {
          if (!res.headersSent) sendJson(res, 500, failure(500, String(err)));
        })
        .finally(() => {
          rec.status = res.statusCode;
        });
    };
    if (this.stalled) this.pending.push(run);
    else run();
  }

  private makeApiState(): ApiState {
    return {
      store: this.store,
      installed: () => this.installed,
      isForbidden: (spec) => this.forbidden.has(kindKey(spec)),
      serverAddress: () => `${this.host}:${this.boundPort}`,
      openWatch: (res, spec, filter: WatchFilter, opts) => {
        const w = new WatchStream(res, {
          spec,
          filter,
          bookmarkIntervalMs: opts.bookmarks ? this.bookmarkIntervalMs : undefined,
          timeoutMs: opts.timeoutMs,
          currentVersion: () => this.store.resourceVersion,
          isStalled: () => this.stalled,
          onEnd: (x) => this.watches.delete(x),
        });
        this.watches.add(w);
        return w;
      },
    };
  }
}

/** `plural.group` named by a resource path even when that kind is not installed. */
function routeKey(route: Route): string | undefined {
  if (route.type !== 'resource') return undefined;
  return route.group === '' ? route.plural : `${route.plural}.${route.group}`;
}

function describe(ref: KindRef): string {
  return typeof ref === 'string' ? ref : kindKey(ref);
}

/** Start a stand-in and write its kubeconfig; `close()` stops it and removes the file. */
export async function startStandin(opts: StandinOptions = {}): Promise<Standin> {
  return new Standin(opts).start();
}
