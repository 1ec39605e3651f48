import cluster, { type Worker } from 'node:cluster';
import {
  AggregatorRegistry,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from 'prom-client';
import type { OpsPortsConfig } from '../config/server.js';
import type { Logger } from '../logger.js';
import { registerCollected } from '../metrics/collected.js';
import { startOpsServer } from '../server.js';
import { onSignals } from '../signals.js';
import { FeedHub, type PrimaryFeeds } from './feed.js';
import {
  type AskWhat,
  combineHealth,
  combineReady,
  isToPrimary,
  restartDelayMs,
  type ToWorker,
} from './ipc.js';
import { SiblingRouter } from './relay.js';
import type { ListenWorkersConfig, WorkerPlan } from './sockets.js';
import { workerPlan } from './worker.js';

export interface PrimaryOptions {
  /** Program name, for logs. */
  name: string;
  /** Worker processes to run (>= 2). */
  workers: number;
  /** How the workers share the port (from `workerPlan`); logged at start. */
  socketMode: 'shared' | 'reuseport';
  /** The ops HTTP endpoints: served by the primary for all workers. */
  ops: OpsPortsConfig;
  logger: Logger;
  /** Prefix of the primary's own metrics, e.g. `mdns_authority_`. */
  metricsPrefix: string;
  /** How long the primary waits for its workers to drain on SIGTERM, after their lame duck. Default 12 000 ms. */
  drainTimeoutMs?: number;
  /** The workers' lame duck (`shutdown.lameDuckSeconds`), added to the drain bound. Default 0. */
  lameDuckMs?: number;
  /** A worker's answer to `/ready` or `/health` must come within this. Default 2000 ms. */
  askTimeoutMs?: number;
  /** Restart delay after a worker died: from `min` doubling to `max`. Default 1000 / 30 000 ms. */
  restartDelayMs?: { min: number; max: number };
  /**
   * The app's own part in the primary, run before the workers are forked: state kept once
   * per process (an authority's replicas) published to the workers through `feeds`, and
   * metrics of that state in `registry` (served with the workers' merged ones).
   */
  primary?: PrimaryPart;
}

/** What `PrimaryOptions.primary` is given. */
export interface PrimaryContext {
  feeds: PrimaryFeeds;
  /** The primary's own metrics registry: metrics only the primary holds go here. */
  registry: Registry;
  logger: Logger;
}

export type PrimaryPart = (context: PrimaryContext) => void | Promise<void>;

/** A worker alive this long before it died is restarted after the minimum delay again. */
const QUICK_DEATH_MS = 60_000;

interface Slot {
  index: number;
  worker: Worker | null;
  startedAt: number;
  quickDeaths: number;
  restarts: number;
  timer: NodeJS.Timeout | null;
  /** Its worker said it is listening: the app is up, it answers sibling questions. */
  serving: boolean;
}

/**
 * The primary of a multi-worker process: forks `workers` copies of this program (same
 * script, arguments and config), serves `/metrics` (summed over the workers), `/health` and
 * `/ready` (asked of every worker), relays sibling events and questions, restarts a worker that dies, and
 * on SIGTERM/SIGINT lets every worker drain before exiting. It answers no query itself; the
 * state it holds is the app's `primary` part's, published to the workers as feeds (feed.ts); in `shared` socket mode Node's cluster module makes it the owner
 * of the listening sockets the workers read.
 *
 * Resolves once started; the process then lives until a signal (or a failed start: a worker
 * that exits before every worker has listened once stops everything, exit code 1).
 */
export async function runPrimary(options: PrimaryOptions): Promise<void> {
  const log = options.logger.child({ role: 'primary' });
  const askTimeoutMs = options.askTimeoutMs ?? 2000;
  const delay = options.restartDelayMs ?? { min: 1000, max: 30_000 };
  const slots: Slot[] = Array.from({ length: options.workers }, (_, i) => ({
    index: i + 1,
    worker: null,
    startedAt: 0,
    quickDeaths: 0,
    restarts: 0,
    timer: null,
    serving: false,
  }));
  const listened = new Set<number>();
  let started = false;
  let stopping = false;
  let nextAsk = 1;
  const asks = new Map<number, (value: unknown) => void>();

  // The workers forked together share one start second, so what they derive from it (the
  // gateway's first SOA serial) is the same in each; a worker restarted later takes its own,
  // so what it derives is never behind what its siblings have given out since.
  const startSecond = Math.floor(Date.now() / 1000);
  const fork = (slot: Slot) => {
    slot.timer = null;
    slot.startedAt = Date.now();
    slot.serving = false;
    const worker = cluster.fork({
      MDNS_WORKER: String(slot.index),
      MDNS_STARTED_AT: String(workerStartSecond(started, startSecond, slot.startedAt)),
    });
    slot.worker = worker;
    worker.on('message', (message: unknown) => onMessage(slot, message));
    // An IPC write to a worker that just died: the 'exit' handler deals with the death.
    worker.on('error', (err) => log.warn({ err, worker: slot.index }, 'worker channel error'));
  };

  const onMessage = (slot: Slot, message: unknown) => {
    if (!isToPrimary(message)) return;
    if (message.mdns === 'answer') {
      asks.get(message.id)?.(message.value);
    } else if (message.mdns === 'listening') {
      listened.add(slot.index);
      slot.serving = true;
      if (!started && listened.size === slots.length) {
        started = true;
        log.info({ workers: slots.length, detail: message.detail }, 'every worker is serving');
      } else if (started) {
        log.info({ worker: slot.index, restarts: slot.restarts }, 'worker serving again');
      }
    } else if (!feeds.route(slot, message)) {
      siblingRouter.route(slot, message);
    }
  };
  // State the app's primary part owns, followed by each worker (feed.ts); a restarted worker
  // subscribes again and gets the snapshot.
  const feeds = new FeedHub<Slot>(
    (s, message) => {
      if (!s.worker?.isConnected()) throw new Error(`worker ${s.index} is gone`);
      s.worker.send(message);
    },
    (err, topic) => log.error({ err, topic }, 'a worker message to the primary failed'),
  );
  // Sibling events and questions between workers (relay.ts); a slot without a connected
  // worker is no peer, and a worker still starting is asked nothing: a question does not
  // wait for a worker being restarted, whose answerers may not be set up yet.
  const siblingRouter = new SiblingRouter<Slot>(
    () => slots.filter((s) => s.worker?.isConnected()),
    (s, message) => {
      if (!s.worker?.isConnected()) throw new Error(`worker ${s.index} is gone`);
      s.worker.send(message);
    },
    (s) => s.serving,
  );

  /** Ask every running worker; 'missing' for a slot without one, an Error for no answer. */
  const askAll = (what: AskWhat) =>
    Promise.all(
      slots.map(
        (slot) =>
          new Promise<unknown>((resolve) => {
            const worker = slot.worker;
            if (!worker?.isConnected()) return resolve('missing');
            const id = nextAsk++;
            const timer = setTimeout(() => {
              asks.delete(id);
              resolve(new Error(`worker ${slot.index} did not answer within ${askTimeoutMs} ms`));
            }, askTimeoutMs);
            asks.set(id, (value) => {
              clearTimeout(timer);
              asks.delete(id);
              resolve(value);
            });
            try {
              worker.send({ mdns: 'ask', id, what } satisfies ToWorker);
            } catch {
              clearTimeout(timer);
              asks.delete(id);
              resolve('missing');
            }
          }),
      ),
    );

  const own = new Registry();
  registerCollected(own, {
    name: `${options.metricsPrefix}workers`,
    help: 'Worker processes configured (listen.workers) and running.',
    type: 'gauge',
    values: () => [
      { value: slots.length, labels: { state: 'configured' } },
      { value: slots.filter((s) => s.worker !== null).length, labels: { state: 'running' } },
    ],
  });
  registerCollected(own, {
    name: `${options.metricsPrefix}worker_restarts_total`,
    help: 'Workers restarted by the primary after they died.',
    type: 'counter',
    values: () => slots.map((s) => ({ value: s.restarts, labels: { worker: String(s.index) } })),
  });

  const ops = startOpsServer({
    host: options.ops.host,
    metricsPort: options.ops.metricsPort,
    healthPort: options.ops.healthPort,
    readyPort: options.ops.readyPort,
    registry: {
      contentType: own.contentType,
      metrics: async () => {
        const answers = await askAll('metrics');
        const lists = answers.filter((a): a is MetricObjectWithValues<MetricValue<string>>[] =>
          Array.isArray(a),
        );
        // Merged per metric by its `aggregator` (counters and most gauges summed). A worker
        // that did not answer in time is left out of this scrape rather than failing it.
        const merged = AggregatorRegistry.aggregate(lists);
        return `${await merged.metrics()}\n${await own.metrics()}`;
      },
    },
    ready: async () =>
      combineReady(
        (await askAll('ready')).map((value, i) => ({
          worker: slots[i].index,
          state:
            value === 'missing' || value instanceof Error
              ? value
              : isErrorValue(value)
                ? new Error(value.error)
                : (value as { ready: boolean; detail?: unknown }),
        })),
      ),
    health: async () =>
      combineHealth(
        (await askAll('health')).map((v) =>
          v === 'missing' || v instanceof Error ? v : v === true,
        ),
      ),
  });
  const opsServer = await ops;

  cluster.on('exit', (worker, code, signal) => {
    const slot = slots.find((s) => s.worker === worker);
    if (!slot) return;
    slot.worker = null;
    feeds.forget(slot);
    if (stopping) return;
    if (!started) {
      log.error(
        { worker: slot.index, code, signal },
        'a worker exited before every worker was serving: stopping',
      );
      stopping = true;
      for (const s of slots) s.worker?.process.kill('SIGTERM');
      process.exitCode = 1;
      setTimeout(() => process.exit(1), 2000).unref();
      void opsServer.close();
      return;
    }
    const livedMs = Date.now() - slot.startedAt;
    slot.quickDeaths = livedMs < QUICK_DEATH_MS ? slot.quickDeaths + 1 : 1;
    const waitMs = restartDelayMs(slot.quickDeaths, delay.min, delay.max);
    slot.restarts++;
    log.error(
      { worker: slot.index, code, signal, livedMs, restartInMs: waitMs },
      'worker died; the others keep serving; restarting it',
    );
    slot.timer = setTimeout(() => fork(slot), waitMs);
  });

  const forwardTerm = () => {
    for (const s of slots) s.worker?.process.kill('SIGTERM');
  };
  // SIGTERM goes on to every worker at once: each worker runs its own lame duck (still
  // answering, not ready) and drain, so the primary has no lame duck of its own; its `/ready`
  // is 503 from the first SIGTERM, its `/health` keeps asking the workers (alive while lame).
  // A second SIGTERM is forwarded too, which cuts the workers' lame duck short.
  onSignals({
    logger: log,
    drainTimeoutMs: (options.drainTimeoutMs ?? 12_000) + (options.lameDuckMs ?? 0),
    onLameDuck: () => opsServer.markNotReady(),
    onRepeatedTerm: forwardTerm,
    hup: () => {
      for (const s of slots) s.worker?.process.kill('SIGHUP');
    },
    drain: async () => {
      stopping = true;
      for (const s of slots) if (s.timer) clearTimeout(s.timer);
      const exits = slots
        .filter((s) => s.worker !== null)
        .map((s) => new Promise<number | null>((resolve) => s.worker!.once('exit', resolve)));
      forwardTerm();
      const codes = await Promise.all(exits);
      opsServer.markShuttingDown();
      await opsServer.close();
      const failed = codes.filter((c) => c !== 0).length;
      if (failed > 0) throw new Error(`${failed} worker(s) did not exit cleanly`);
    },
  });

  await options.primary?.({ feeds, registry: own, logger: log });
  for (const slot of slots) fork(slot);
  log.info(
    {
      workers: slots.length,
      sockets: options.socketMode,
      // The field an app's own "listening" line uses for the same ports.
      opsPorts: opsServer.ports,
    },
    `${options.name}: primary started its workers`,
  );
}

function isErrorValue(v: unknown): v is { error: string } {
  return (
    typeof v === 'object' && v !== null && typeof (v as { error?: unknown }).error === 'string'
  );
}

export interface SuperviseOptions {
  name: string;
  listen: ListenWorkersConfig;
  ops: OpsPortsConfig;
  logger: Logger;
  metricsPrefix: string;
  /** `shutdown.lameDuckSeconds` in ms: the primary's drain bound covers the workers' lame duck. */
  lameDuckMs?: number;
  /** With `listen.workers` > 1: what the app runs once in the primary (PrimaryOptions.primary). */
  primary?: PrimaryPart;
}

/**
 * The first step of each app's start: with `listen.workers` > 1 in the primary, start
 * supervising and return null (the caller stops there: the workers run the rest);
 * otherwise return this process's plan (`single` or `worker`) for the sockets and ops.
 */
export async function superviseWorkers(
  options: SuperviseOptions,
): Promise<Exclude<WorkerPlan, { role: 'primary' }> | null> {
  const plan = workerPlan(options.listen);
  if (plan.role !== 'primary') return plan;
  await runPrimary({
    name: options.name,
    workers: options.listen.workers,
    socketMode: plan.mode,
    ops: options.ops,
    logger: options.logger,
    metricsPrefix: options.metricsPrefix,
    lameDuckMs: options.lameDuckMs,
    primary: options.primary,
  });
  return null;
}

/**
 * Pure: the start second a worker is told (`startedAtSeconds()` in it). Before every worker
 * has listened once they are one generation: the primary's start second. A restart after that
 * takes its own fork time.
 */
export function workerStartSecond(started: boolean, primaryStart: number, forkMs: number): number {
  return started ? Math.floor(forkMs / 1000) : primaryStart;
}
