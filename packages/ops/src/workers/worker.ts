import cluster from 'node:cluster';
import type { Registry } from 'prom-client';
import type { OpsPortsConfig } from '../config/server.js';
import { type ReadyState, startOpsServer } from '../server.js';
import { isToWorker, type ToPrimary } from './ipc.js';
import { type ListenWorkersConfig, planWorkers, type WorkerPlan } from './sockets.js';

/** The 1-based index the primary gave this worker, or null outside a multi-worker process. */
export function workerIndex(): number | null {
  if (!cluster.isWorker) return null;
  const n = Number(process.env.MDNS_WORKER);
  return Number.isInteger(n) && n > 0 ? n : null;
}

/**
 * Unix seconds this server started: in a worker, the second its primary gave it (the same for
 * every worker forked at start), otherwise now. What is derived from it (the gateway's first
 * SOA serial) then agrees across the workers of one process.
 */
export function startedAtSeconds(
  env: NodeJS.ProcessEnv = process.env,
  isWorker = cluster.isWorker,
  nowMs = Date.now(),
): number {
  const given = Number(env.MDNS_STARTED_AT);
  return isWorker && Number.isInteger(given) && given > 0 ? given : Math.floor(nowMs / 1000);
}

export interface WorkerOpsOptions {
  /** This worker's metrics; the primary merges them over every worker at `/metrics`. */
  registry: Registry;
  /** Asked by the primary for its `/ready`. */
  ready: () => ReadyState;
  /** Asked by the primary for its `/health`. Default: alive (answering at all is the test). */
  health?: () => boolean;
}

/** What a worker has instead of an ops HTTP server (same shape where it matters). */
export interface WorkerOps {
  /** Tell the primary this worker is serving (logged once every worker is). */
  listening(detail?: unknown): void;
  /** From now on this worker answers "not ready" (still alive) to the primary: lame duck. */
  markNotReady(): void;
  /** From now on this worker answers "not ready" / "not alive" to the primary. */
  markShuttingDown(): void;
  close(): Promise<void>;
}

function toPrimary(message: ToPrimary): void {
  // The channel is gone once the primary died; nothing to tell then.
  if (process.connected) process.send?.(message);
}

/**
 * The worker side of the ops endpoints: the primary owns the HTTP ports and asks every
 * worker over the cluster channel (metrics as prom-client JSON, merged by the primary).
 */
export function startWorkerOps(options: WorkerOpsOptions): WorkerOps {
  let shuttingDown = false;
  let notReady = false;
  const onMessage = async (message: unknown) => {
    if (!isToWorker(message) || message.mdns !== 'ask') return;
    let value: unknown;
    try {
      if (message.what === 'metrics') {
        value = await options.registry.getMetricsAsJSON();
      } else if (message.what === 'ready') {
        const state = options.ready();
        value =
          shuttingDown || notReady
            ? { ready: false, detail: { shuttingDown: true } }
            : typeof state === 'boolean'
              ? { ready: state }
              : state;
      } else {
        value = !shuttingDown && (options.health ? options.health() : true);
      }
    } catch (err) {
      value = { error: (err as Error).message };
    }
    toPrimary({ mdns: 'answer', id: message.id, value });
  };
  process.on('message', onMessage);
  return {
    listening(detail?: unknown) {
      toPrimary({ mdns: 'listening', detail });
    },
    markNotReady() {
      notReady = true;
    },
    markShuttingDown() {
      shuttingDown = true;
    },
    async close() {
      process.off('message', onMessage);
    },
  };
}

export type SiblingListener = (payload: unknown) => void;
/** A worker's answer to a sibling's question: null or undefined for "nothing here". */
export type SiblingAnswerer = (payload: unknown) => unknown;

/**
 * What one worker shares with the others, through the primary. Events: a NOTIFY one worker
 * received expires every worker's cache. Questions: "does any of you hold X?", answered by
 * the first sibling that has it. Outside a multi-worker process there is no sibling: `tell`
 * does nothing and `ask` resolves null at once.
 */
export interface Siblings {
  tell(topic: string, payload: unknown): void;
  on(topic: string, listener: SiblingListener): void;
  /**
   * Ask every other worker: the first answer that is not null / undefined, or null once every
   * sibling answered empty or after `timeoutMs` (the bound; never rejects). Payloads and
   * answers cross the IPC channel as JSON: plain objects, strings and numbers (bytes as
   * base64), no `Uint8Array`.
   */
  ask(topic: string, payload: unknown, timeoutMs: number): Promise<unknown>;
  /**
   * Answer the siblings' questions on `topic` (one answerer per topic, the last set wins).
   * A topic without an answerer, or an answerer that throws, answers empty.
   */
  answer(topic: string, answerer: SiblingAnswerer): void;
}

/** Question ids, unique in the process even across `Siblings` objects sharing one channel. */
let nextAskId = 1;

/** The cluster IPC channel as `siblingsOver` uses it (tests pass an in-memory one). */
export interface WorkerChannel {
  send(message: ToPrimary): void;
  onMessage(listener: (message: unknown) => void): void;
}

const processChannel: WorkerChannel = {
  send: toPrimary,
  onMessage: (listener) => process.on('message', listener),
};

/**
 * This process's siblings: over the cluster channel in a worker, none outside one. Call it
 * once per process and pass the object around: each one answers every question it receives.
 */
export function siblings(): Siblings {
  return siblingsOver(cluster.isWorker ? processChannel : null);
}

/** `siblings()` over a given channel (null: no sibling). */
export function siblingsOver(channel: WorkerChannel | null): Siblings {
  const listeners = new Map<string, SiblingListener[]>();
  const answerers = new Map<string, SiblingAnswerer>();
  const asks = new Map<number, (value: unknown) => void>();
  channel?.onMessage((message: unknown) => {
    if (!isToWorker(message)) return;
    if (message.mdns === 'siblings') {
      for (const l of listeners.get(message.topic) ?? []) l(message.payload);
    } else if (message.mdns === 'sibling-ask') {
      let value: unknown = null;
      try {
        value = answerers.get(message.topic)?.(message.payload) ?? null;
      } catch {
        value = null;
      }
      channel.send({ mdns: 'sibling-answer', id: message.id, value });
    } else if (message.mdns === 'sibling-answer') {
      asks.get(message.id)?.(message.value ?? null);
    }
  });
  return {
    tell(topic, payload) {
      channel?.send({ mdns: 'siblings', topic, payload });
    },
    on(topic, listener) {
      const list = listeners.get(topic) ?? [];
      list.push(listener);
      listeners.set(topic, list);
    },
    ask(topic, payload, timeoutMs) {
      if (channel === null) return Promise.resolve(null);
      return new Promise((resolve) => {
        const id = nextAskId++;
        // Our own bound: the primary settles the question by then too, but it may be gone.
        const timer = setTimeout(() => settle(null), timeoutMs);
        const settle = (value: unknown) => {
          clearTimeout(timer);
          asks.delete(id);
          resolve(value);
        };
        asks.set(id, settle);
        channel.send({ mdns: 'sibling-ask', id, topic, payload, timeoutMs });
      });
    },
    answer(topic, answerer) {
      answerers.set(topic, answerer);
    },
  };
}

/** `planWorkers` for this process (throws the config error naming the setting). */
export function workerPlan(listen: ListenWorkersConfig): WorkerPlan {
  const plan = planWorkers(listen, {
    isPrimary: cluster.isPrimary,
    nodeVersion: process.versions.node,
    platform: process.platform,
    runtime: typeof process.versions.bun === 'string' ? 'bun' : 'node',
  });
  if (plan instanceof Error) throw plan;
  return plan;
}

/** What an app holds for its ops endpoints, alone (HTTP ports) or as a worker (IPC). */
export interface ProcessOps {
  /** The HTTP ports, when this process serves them (not in a worker). */
  ports: { metrics: number; health: number; ready: number } | null;
  /** Call after logging "listening": a worker tells the primary; alone, nothing to do. */
  listening(detail?: unknown): void;
  /** Lame duck: `/ready` 503, `/health` unchanged. */
  markNotReady(): void;
  markShuttingDown(): void;
  close(): Promise<void>;
}

/**
 * The ops endpoints for this process: its own HTTP server when it runs alone, the
 * primary's (asked over IPC) when it is a worker.
 */
export async function startProcessOps(
  plan: Exclude<WorkerPlan, { role: 'primary' }>,
  ops: OpsPortsConfig,
  options: WorkerOpsOptions,
): Promise<ProcessOps> {
  if (plan.role === 'worker') return { ports: null, ...startWorkerOps(options) };
  const server = await startOpsServer({
    host: ops.host,
    metricsPort: ops.metricsPort,
    healthPort: ops.healthPort,
    readyPort: ops.readyPort,
    registry: options.registry,
    ready: options.ready,
    health: options.health,
  });
  return {
    ports: server.ports,
    listening() {},
    markNotReady: () => server.markNotReady(),
    markShuttingDown: () => server.markShuttingDown(),
    close: () => server.close(),
  };
}
