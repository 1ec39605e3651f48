// Messages between a cluster primary and its workers. Every message of ours carries the
// `mdns` key; anything else on the channel (prom-client's metric requests) is not ours.

import type { ReadyState } from '../server.js';

/** What the primary asks each worker for its `/ready`, `/health` and `/metrics` answers. */
export type AskWhat = 'ready' | 'health' | 'metrics';

/**
 * `siblings` is a one-way event; `sibling-ask` / `sibling-answer` a question to every other
 * worker: the asking worker's `id` travels to the primary and back, the primary's own relay
 * `id` to the siblings and back (see relay.ts). `feed` / `feed-subscribe` / `to-primary`:
 * state the primary owns and the workers follow, and the workers' messages to it (feed.ts).
 */
export type ToWorker =
  | { mdns: 'ask'; id: number; what: AskWhat }
  | { mdns: 'siblings'; topic: string; payload: unknown }
  | { mdns: 'sibling-ask'; id: number; topic: string; payload: unknown }
  | { mdns: 'sibling-answer'; id: number; value: unknown }
  | { mdns: 'feed'; topic: string; key: string; value: unknown };

export type ToPrimary =
  | { mdns: 'listening'; detail?: unknown }
  | { mdns: 'answer'; id: number; value: unknown }
  | { mdns: 'siblings'; topic: string; payload: unknown }
  | { mdns: 'sibling-ask'; id: number; topic: string; payload: unknown; timeoutMs: number }
  | { mdns: 'sibling-answer'; id: number; value: unknown }
  | { mdns: 'feed-subscribe'; topic: string }
  | { mdns: 'to-primary'; topic: string; payload: unknown };

export function isToWorker(m: unknown): m is ToWorker {
  return typeof m === 'object' && m !== null && typeof (m as { mdns?: unknown }).mdns === 'string';
}

export const isToPrimary = isToWorker as (m: unknown) => m is ToPrimary;

/** One worker's readiness as the primary got it: its state, or why there is none. */
export type WorkerReady = { worker: number; state: ReadyState | Error | 'missing' };

/**
 * The process's readiness from its workers': ready when at least one worker is running and
 * every running worker is ready. A worker being restarted does not make the pod unready
 * (the others serve its share of the sockets), but a worker that runs and is not ready
 * (a gateway still syncing) does: it would answer part of the queries wrongly.
 */
export function combineReady(workers: readonly WorkerReady[]): {
  ready: boolean;
  detail: unknown;
} {
  let running = 0;
  let allReady = true;
  const detail = workers.map(({ worker, state }) => {
    if (state === 'missing') return { worker, ready: false, running: false };
    running++;
    if (state instanceof Error) {
      allReady = false;
      return { worker, ready: false, error: state.message };
    }
    const ready = typeof state === 'boolean' ? state : state.ready;
    if (!ready) allReady = false;
    const out: Record<string, unknown> = { worker, ready };
    if (typeof state === 'object' && state.detail !== undefined) out.detail = state.detail;
    return out;
  });
  return { ready: running > 0 && allReady, detail: { workers: detail } };
}

/**
 * Liveness from the workers': alive when at least one worker runs and every running worker
 * answered that it is alive in time. A worker whose event loop is stuck does not answer,
 * and `/health` turns 503 so the kubelet restarts the pod.
 */
export function combineHealth(answers: ReadonlyArray<boolean | Error | 'missing'>): boolean {
  let running = 0;
  for (const a of answers) {
    if (a === 'missing') continue;
    running++;
    if (a !== true) return false;
  }
  return running > 0;
}

/** Restart delay after a worker died: doubles per quick death, from `minMs` to `maxMs`. */
export function restartDelayMs(quickDeaths: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.max(0, quickDeaths - 1));
}
