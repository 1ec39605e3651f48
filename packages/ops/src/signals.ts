import type { Logger } from 'pino';

export interface OnSignalsOptions {
  /** Finish in-flight work and close listeners. Bounded by `drainTimeoutMs`. */
  drain: () => Promise<void> | void;
  /** Called first on SIGTERM/SIGINT, synchronously — e.g. `opsServer.markShuttingDown()`. */
  onShutdown?: () => void;
  /** Called on SIGHUP (config reload is usually `watchConfig`'s own SIGHUP handling). */
  hup?: () => void;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Longest wait for `drain` before exiting anyway (exit code 1). Default 10 000 ms. */
  drainTimeoutMs?: number;
  /** For tests. Default `process.exit`. */
  exit?: (code: number) => void;
}

export interface SignalHandlers {
  /** Start the same shutdown a SIGTERM would (e.g. after a fatal error). */
  shutdown(reason: string): Promise<void>;
  /** Remove the handlers. */
  dispose(): void;
}

/**
 * SIGTERM/SIGINT: mark shutting down, drain (bounded), exit 0 — or 1 if drain failed or
 * timed out. Kubernetes sends SIGTERM and waits `terminationGracePeriodSeconds` (30 s by
 * default), so the default drain bound stays well below it. A second SIGINT (an impatient
 * Ctrl-C) exits at once with 130; a second SIGTERM is ignored since drain is already running.
 */
export function onSignals(options: OnSignalsOptions): SignalHandlers {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  const log = options.logger;
  let draining: Promise<void> | undefined;

  function shutdown(reason: string): Promise<void> {
    if (draining) return draining;
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

  const onTerm = () => void shutdown('SIGTERM');
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
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      if (options.hup) process.off('SIGHUP', onHup);
    },
  };
}
