import { createHash } from 'node:crypto';
import { type FSWatcher, unwatchFile, watch, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { ConfigResult } from './load.js';

export interface WatchConfigOptions<T> {
  /** Reads and validates the file; called on each change. */
  load: () => ConfigResult<T> | Promise<ConfigResult<T>>;
  /** A changed file validated: apply it. */
  onValid: (config: T) => void;
  /** A changed file failed: keep serving the old config, report these. */
  onInvalid: (errors: string[]) => void;
  /** Quiet time after the last filesystem event before reloading. Default 200 ms. */
  debounceMs?: number;
  /** Reload (even if unchanged) on SIGHUP. Default true. */
  reloadOnSighup?: boolean;
  /**
   * Safety-net stat polling of the path (follows symlinks), for filesystems where directory
   * events are missed. Default 5000 ms; 0 disables.
   */
  pollIntervalMs?: number;
  /**
   * A check found the content unchanged, so nothing was loaded or applied. Lets a caller
   * (a debug log, a test) see that an event was handled rather than missed.
   */
  onUnchanged?: () => void;
}

export interface ConfigWatcher {
  /** Reload now; `force` skips the "content unchanged" check. Resolves when done. */
  reload(force?: boolean): Promise<void>;
  close(): void;
}

async function contentHash(path: string): Promise<string | null> {
  try {
    return createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  } catch {
    // Missing mid-swap or deleted: let load() produce the operator-facing error.
    return null;
  }
}

/**
 * Watch a config file and apply valid changes. It watches the *directory*, not the file,
 * because editors and Kubernetes ConfigMap updates replace the file (rename, or swap of the
 * `..data` symlink) and a watch on the old inode would go silent. Any event in the directory
 * schedules a debounced check; the content hash decides whether anything changed, so
 * unrelated files in the directory cost one read. A bad file is never applied.
 */
export function watchConfig<T>(path: string, options: WatchConfigOptions<T>): ConfigWatcher {
  const file = resolve(path);
  const dir = dirname(file);
  const debounceMs = options.debounceMs ?? 200;
  const pollIntervalMs = options.pollIntervalMs ?? 5000;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let rearmTimer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  let lastHash: string | null | undefined;
  let running: Promise<void> | undefined;
  let pending: { force: boolean } | undefined;

  // The file as loaded at start is the baseline, so the first event after start only
  // reloads if the content really differs.
  const baseline = contentHash(file).then((h) => {
    if (lastHash === undefined) lastHash = h;
  });

  async function check(force: boolean): Promise<void> {
    await baseline;
    const hash = await contentHash(file);
    if (!force && hash === lastHash) {
      options.onUnchanged?.();
      return;
    }
    lastHash = hash;
    let result: ConfigResult<T>;
    try {
      result = await options.load();
    } catch (err) {
      result = { ok: false, errors: [`${file}: ${(err as Error).message}`] };
    }
    if (closed) return;
    if (result.ok) options.onValid(result.config);
    else options.onInvalid(result.errors);
  }

  // One reload at a time; requests during a reload collapse into one follow-up.
  function reload(force = false): Promise<void> {
    if (closed) return Promise.resolve();
    if (running) {
      pending = { force: force || (pending?.force ?? false) };
      return running;
    }
    running = check(force).finally(() => {
      running = undefined;
      const next = pending;
      pending = undefined;
      if (next && !closed) void reload(next.force);
    });
    return running;
  }

  function schedule(): void {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void reload(false);
    }, debounceMs);
    timer.unref?.();
  }

  function arm(): void {
    if (closed) return;
    try {
      watcher = watch(dir, { persistent: false }, schedule);
      watcher.on('error', () => {
        watcher?.close();
        watcher = undefined;
        rearm();
      });
    } catch {
      rearm();
    }
  }

  // The directory itself can vanish (volume remount); try again until it is back.
  function rearm(): void {
    if (closed || rearmTimer) return;
    rearmTimer = setTimeout(() => {
      rearmTimer = undefined;
      arm();
      schedule();
    }, 1000);
    rearmTimer.unref?.();
  }

  const onHup = () => void reload(true);
  const reloadOnSighup = options.reloadOnSighup ?? true;
  if (reloadOnSighup) process.on('SIGHUP', onHup);
  if (pollIntervalMs > 0) {
    watchFile(file, { interval: pollIntervalMs, persistent: false }, schedule);
  }
  arm();

  return {
    reload,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      if (rearmTimer) clearTimeout(rearmTimer);
      watcher?.close();
      if (pollIntervalMs > 0) unwatchFile(file, schedule);
      if (reloadOnSighup) process.off('SIGHUP', onHup);
    },
  };
}
