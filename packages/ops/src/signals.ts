import type { Logger } from 'pino';

export interface OnSignalsOptions {
  /** Finish in-flight work and close listeners. Bounded by `drainTimeoutMs`. */
  drain: () => Promise<void> | void;
  /**
   * SIGTERM only: how long to keep serving after `onLameDuck` before `onShutdown` and the
   * drain. Default 0 (no lame duck). A second SIGTERM during it skips the rest.
   */
  lameDuckMs?: number;
  /** Called at once on SIGTERM, before the lame duck — e.g. `ops.markNotReady()`. */
  onLameDuck?: () => void;
  /** Called synchronously when the drain starts — e.g. `opsServer.markShuttingDown()`. */
  onShutdown?: () => void;
  /** Called on each SIGTERM after the first (the multi-worker primary forwards it). */
  onRepeatedTerm?: () => void;
  /** Called on SIGHUP (config reload is usually `watchConfig`'s own SIGHUP handling). */
  hup?: () => void;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Longest wait for `drain` before exiting anyway (exit code 1). Default 10 000 ms. */
  drainTimeoutMs?: number;
  /** For tests. Default `process.exit`. */
  exit?: (code: number) => void;
}

export interface SignalHandlers {
  /** Start the drain a SIGTERM would start, without the lame duck (e.g. after a fatal error). */
  shutdown(reason: string): Promise<void>;
  /** Remove the handlers. */
  dispose(): void;
}

/**
 * SIGTERM: lame duck (`onLameDuck`: the pod leaves the endpoints while DNS keeps answering,
 * for `lameDuckMs`), then mark shutting down, drain (bounded), exit 0 — or 1 if drain failed
 * or timed out. Kubernetes sends SIGTERM and waits `terminationGracePeriodSeconds` (30 s by
 * default), which must cover lame duck + drain. A second SIGTERM during the lame duck
 * skips to the drain; during the drain it is ignored (after `onRepeatedTerm`).
 * SIGINT (a person at a terminal) drains at once; a second SIGINT exits at once with 130.
 */
export function onSignals(options: OnSignalsOptions): SignalHandlers {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  const lameDuckMs = options.lameDuckMs ?? 0;
  const log = options.logger;
  let draining: Promise<void> | undefined;
  let lameDuck: { timer: NodeJS.Timeout; reason: string } | undefined;

  function shutdown(reason: string): Promise<void> {
    if (draining) return draining;
    if (lameDuck) {
      clearTimeout(lameDuck.timer);
      lameDuck = undefined;
    }
    log?.info({ reason, drainTimeoutMs }, 'shutting down: draining');
    try {
      options.onShutdown?.();
    } catch (err) {
      log?.warn({ err }, 'onShutdown hook failed');
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), drainTimeoutMs);
    });
    const drained = Promise.resolve()
      .then(() => options.drain())
      .then(
        () => 'drained' as const,
        (err: unknown) => err as Error,
      );
    draining = Promise.race([drained, timeout]).then((outcome) => {
      clearTimeout(timer);
      if (outcome === 'drained') {
        log?.info('drained, exiting');
        exit(0);
      } else if (outcome === 'timeout') {
        log?.error({ drainTimeoutMs }, 'drain timed out, exiting anyway');
        exit(1);
      } else {
        log?.error({ err: outcome }, 'drain failed, exiting');
        exit(1);
      }
    });
    return draining;
  }

  const onTerm = () => {
    if (draining) {
      options.onRepeatedTerm?.();
      return;
    }
    if (lameDuck) {
      log?.info('second SIGTERM: lame duck cut short');
      options.onRepeatedTerm?.();
      void shutdown(`${lameDuck.reason}, twice`);
      return;
    }
    try {
      options.onLameDuck?.();
    } catch (err) {
      log?.warn({ err }, 'onLameDuck hook failed');
    }
    if (lameDuckMs <= 0) {
      void shutdown('SIGTERM');
      return;
    }
    log?.info({ lameDuckMs }, 'SIGTERM: lame duck, not ready but still answering');
    lameDuck = {
      reason: 'SIGTERM',
      timer: setTimeout(() => {
        log?.info('lame duck over');
        void shutdown('SIGTERM');
      }, lameDuckMs),
    };
  };
  const onInt = () => {
    if (draining) {
      log?.warn('second SIGINT, exiting now');
      exit(130);
      return;
    }
    void shutdown('SIGINT');
  };
  const onHup = () => {
    log?.info('SIGHUP received');
    options.hup?.();
  };
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  if (options.hup) process.on('SIGHUP', onHup);

  return {
    shutdown,
    dispose() {
      if (lameDuck) clearTimeout(lameDuck.timer);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      if (options.hup) process.off('SIGHUP', onHup);
    },
  };
}
