import type { SourceLogger } from '../types.js';
import { backoffDelay } from './backoff.js';
import { atVersion, httpStatus, type Resource, type ResourceApi } from './resources.js';
import type { WatchApi } from './watch-stream.js';

/** What a reflector tells its owner. */
export interface ReflectorHandlers {
  /** A full (re)list: objects not in `items` are gone. */
  listed(items: unknown[]): void;
  upsert(obj: unknown): void;
  remove(obj: unknown): void;
  /** Phase changes; `message` says why for every phase but synced. */
  state(phase: 'syncing' | 'synced' | 'absent' | 'forbidden' | 'error', message?: string): void;
  /** Any sign of life from the API for this kind (list, event, bookmark). */
  alive(at: number): void;
  /**
   * An object refused for its size (`maxPageBytes` in a list, `maxEventBytes` in a watch):
   * `namespace/name` when the cut start shows it. A listed one is simply not in `items`.
   */
  oversized(object: string | null, bytes: number, where: 'list' | 'watch'): void;
}

export interface ReflectorOptions {
  labelSelector?: string;
  /** No event nor bookmark for this long: the watch is presumed dead and restarted. */
  silenceMs: number;
  /** How often an absent or forbidden kind is checked again. */
  recheckMs: number;
  backoff: { initialMs: number; maxMs: number };
  logger: SourceLogger;
}

type WatchEnd =
  /** `quick`: ended at once with nothing in it, a sign of a proxy or server in trouble. */
  | { why: 'closed'; quick: boolean }
  | { why: 'gone' }
  | { why: 'silence' }
  | { why: 'stopped' }
  | { why: 'error'; status?: number; message: string };

class Timeout extends Error {}

/**
 * A request that a stalled API server never answers must not hold the loop forever:
 * give up after `ms`, or at once on stop (the request itself is left to die).
 */
function withTimeout<T>(p: Promise<T>, ms: number, what: string, stop: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onStop: (() => void) | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout(`${what}: no answer within ${ms} ms`)), ms);
    onStop = () => reject(new Timeout(`${what}: stopped`));
    stop.addEventListener('abort', onStop, { once: true });
  });
  return Promise.race([p, t]).finally(() => {
    clearTimeout(timer);
    stop.removeEventListener('abort', onStop!);
  });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * List+watch of one resource, kept alive by its own loop: discovery (absent / forbidden
 * kinds are re-checked every `recheckMs`), list, then watch from the list's
 * resourceVersion; a watch that ends is reopened from the last resourceVersion seen,
 * 410 Gone relists, errors back off exponentially, and a watch silent for `silenceMs`
 * (no event, no bookmark) is aborted and reopened. client-node's ListWatch is not used:
 * it keeps every full object, hides bookmarks, has no "relist done" signal and stops for
 * good on the first error.
 */
export class Reflector {
  private stopped = false;
  private readonly stopSignal = new AbortController();
  private controller: { abort(): void } | null = null;
  private resourceVersion = '';
  private failures = 0;
  /** The last definitive phase; null until the first list, absence or refusal. */
  private settled: 'synced' | 'absent' | 'forbidden' | null = null;
  /** The index holds this kind's objects from a successful list (not wiped since). */
  private hasListed = false;
  private loop: Promise<void> | null = null;

  constructor(
    private resource: Resource,
    private readonly api: ResourceApi,
    private readonly watch: WatchApi,
    private readonly opts: ReflectorOptions,
    private readonly on: ReflectorHandlers,
  ) {}

  start(): void {
    this.loop ??= this.run().catch((err) => {
      this.opts.logger.error(
        { kind: this.resource.kind, err: messageOf(err) },
        'reflector loop died',
      );
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopSignal.abort();
    this.controller?.abort();
    await this.loop;
  }

  private get log() {
    return this.opts.logger;
  }

  private async run(): Promise<void> {
    this.on.state('syncing');
    while (!this.stopped) {
      if (!(await this.discover())) continue;
      if (!(await this.list())) continue;
      await this.watchUntilRelist();
    }
  }

  /**
   * true when the resource is served, at the first of its candidate versions the API
   * server serves (which `this.resource` then names); otherwise it has waited and the
   * caller loops. Run again after every watch 404, so a CRD upgrade is followed.
   */
  private async discover(): Promise<boolean> {
    const r = this.resource;
    const candidates = r.candidates ?? [r.version];
    const tried = candidates.map((v) => `${r.group || 'core'}/${v}`).join(', ');
    const what = `${r.kind} (${tried} ${r.plural})`;
    try {
      for (const version of candidates) {
        const at = atVersion(r, version);
        const served = await withTimeout(
          this.servedOrNotFound(at),
          this.opts.silenceMs,
          `discovery of ${what}`,
          this.stopSignal.signal,
        );
        if (this.stopped) return false;
        if (!served) continue;
        if (at.version !== r.version || at.path !== r.path) {
          this.log.info(
            { kind: r.kind, version: at.version },
            `${r.kind} served as ${r.group}/${at.version}`,
          );
        }
        this.resource = at;
        return true;
      }
      await this.unavailable(
        'absent',
        `${what} is not served by the API server (CRD not installed?)`,
      );
    } catch (err) {
      if (this.stopped) return false;
      const status = httpStatus(err);
      if (status === 403)
        await this.unavailable('forbidden', `discovery of ${what} is forbidden (RBAC)`);
      else await this.failed(`discovery of ${what}: ${messageOf(err)}`);
    }
    return false;
  }

  /** A group/version the server does not know answers 404: not served, try the next. */
  private async servedOrNotFound(r: Resource): Promise<boolean> {
    try {
      return await this.api.served(r);
    } catch (err) {
      if (httpStatus(err) === 404) return false;
      throw err;
    }
  }

  /**
   * Absent: the kind is empty. Forbidden: empty too, unless a list already succeeded — RBAC
   * taken away is not "the objects were deleted", so the last good list keeps being served
   * (found by reliability/: a 403 during a role rollout turned every Ingress name into
   * NXDOMAIN). Said once, re-checked later.
   */
  private async unavailable(phase: 'absent' | 'forbidden', message: string): Promise<void> {
    const keep = phase === 'forbidden' && this.hasListed;
    const said = keep ? `${message}; serving the objects of the last successful list` : message;
    if (!keep) {
      this.on.listed([]);
      this.hasListed = false;
    }
    this.resourceVersion = '';
    // Said once; every re-check after that stays quiet.
    if (this.settled !== phase) {
      this.log.warn(
        { kind: this.resource.kind, phase },
        `${said}; checking again every ${this.opts.recheckMs} ms`,
      );
    }
    this.settled = phase;
    this.setPhase(phase, said);
    this.failures = 0;
    await this.sleep(this.opts.recheckMs);
  }

  private setPhase(
    phase: 'syncing' | 'synced' | 'absent' | 'forbidden' | 'error',
    message?: string,
  ): void {
    this.on.state(phase, message);
  }

  /** A transient failure: back off, and before the first sync say so in the state. */
  private async failed(message: string): Promise<void> {
    const delay = backoffDelay(this.failures++, this.opts.backoff);
    this.log.warn({ kind: this.resource.kind, retryInMs: delay }, message);
    // Once settled the index keeps serving what it has: keep the phase, add a note.
    // Flipping to 'error' would take a working server out of readiness during an API outage.
    this.setPhase(this.settled ?? 'error', message);
    await this.sleep(delay);
  }

  private async list(): Promise<boolean> {
    const r = this.resource;
    try {
      const res = await withTimeout(
        this.api.list(r, this.opts.labelSelector),
        this.opts.silenceMs,
        `list of ${r.kind}`,
        this.stopSignal.signal,
      );
      this.resourceVersion = res.resourceVersion;
      for (const s of res.skipped) this.on.oversized(s.object, s.bytes, 'list');
      this.on.listed(res.items);
      this.hasListed = true;
      this.on.alive(Date.now());
      this.failures = 0;
      if (this.settled !== 'synced')
        this.log.info({ kind: r.kind, objects: res.items.length }, `${r.kind} listed`);
      this.settled = 'synced';
      this.setPhase('synced');
      return true;
    } catch (err) {
      if (this.stopped) return false;
      const status = httpStatus(err);
      if (status === 403)
        await this.unavailable('forbidden', `list of ${r.kind} is forbidden (RBAC)`);
      else if (status === 404)
        await this.unavailable('absent', `list of ${r.kind}: not found (CRD removed?)`);
      else await this.failed(`list of ${r.kind}: ${messageOf(err)}`);
      return false;
    }
  }

  /** Watches, reopening from the last resourceVersion, until a relist (or rediscovery) is due. */
  private async watchUntilRelist(): Promise<void> {
    while (!this.stopped) {
      const end = await this.watchOnce();
      switch (end.why) {
        case 'stopped':
          return;
        case 'gone':
          this.log.info(
            { kind: this.resource.kind },
            `${this.resource.kind} watch expired (410); relisting`,
          );
          return;
        case 'silence':
          this.log.warn(
            { kind: this.resource.kind },
            `${this.resource.kind} watch silent for ${this.opts.silenceMs} ms; restarting it`,
          );
          continue;
        case 'closed':
          // The API server ends watches now and then (timeoutSeconds): just reopen, unless
          // they end as soon as they open: then back off rather than spin.
          if (end.quick)
            await this.failed(`${this.resource.kind} watch closed as soon as it opened`);
          continue;
        case 'error':
          if (end.status === 410) return;
          if (end.status === 403 || end.status === 404) return; // rediscover
          await this.failed(`${this.resource.kind} watch: ${end.message}`);
          if (this.failures > 3) return; // several in a row: relist, the history may be gone
      }
    }
  }

  private watchOnce(): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve) => {
      let settled = false;
      let sawEvent = false;
      let silence: NodeJS.Timeout | undefined;
      const openedAt = Date.now();
      const onStop = () => finish({ why: 'stopped' });
      const finish = (end: WatchEnd) => {
        if (settled) return;
        settled = true;
        clearTimeout(silence);
        this.stopSignal.signal.removeEventListener('abort', onStop);
        this.controller?.abort();
        this.controller = null;
        resolve(end);
      };
      const arm = () => {
        clearTimeout(silence);
        silence = setTimeout(() => finish({ why: 'silence' }), this.opts.silenceMs);
      };
      if (this.stopped) return finish({ why: 'stopped' });
      // stop() may come while the watch request is still waiting for its headers.
      this.stopSignal.signal.addEventListener('abort', onStop, { once: true });
      arm();
      const params: Record<string, string> = {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: 'true',
        // Ask the server to end the watch itself well before we would call it silent.
        timeoutSeconds: String(Math.max(1, Math.floor((this.opts.silenceMs / 1000) * 0.9))),
      };
      if (this.opts.labelSelector) params.labelSelector = this.opts.labelSelector;
      const onEvent = (type: string, obj: any) => {
        if (settled) return;
        arm();
        if (type === 'ERROR') {
          const code = typeof obj?.code === 'number' ? obj.code : undefined;
          finish(
            code === 410
              ? { why: 'gone' }
              : { why: 'error', status: code, message: obj?.message ?? 'watch ERROR event' },
          );
          return;
        }
        const rv = obj?.metadata?.resourceVersion;
        if (typeof rv === 'string' && rv !== '') this.resourceVersion = rv;
        if (type === 'ADDED' || type === 'MODIFIED') this.on.upsert(obj);
        else if (type === 'DELETED') this.on.remove(obj);
        if (type !== 'BOOKMARK') sawEvent = true;
        if (sawEvent) this.failures = 0;
        this.on.alive(Date.now());
      };
      const onDone = (err: unknown) => {
        if (this.stopped) return finish({ why: 'stopped' });
        if (!err)
          return finish({ why: 'closed', quick: !sawEvent && Date.now() - openedAt < 1000 });
        const status = httpStatus(err);
        if (status === 410) return finish({ why: 'gone' });
        finish({ why: 'error', status, message: messageOf(err) });
      };
      const onOversized = (object: string | null, bytes: number) => {
        if (settled) return;
        arm();
        sawEvent = true;
        this.on.oversized(object, bytes, 'watch');
        this.on.alive(Date.now());
      };
      this.watch
        .watch(this.resource.path, params, {
          event: onEvent,
          oversized: onOversized,
          done: onDone,
        })
        .then((controller) => {
          if (settled) controller.abort();
          else this.controller = controller;
        })
        .catch((err) => onDone(err));
    });
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const signal = this.stopSignal.signal;
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
