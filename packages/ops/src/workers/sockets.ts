// Which socket mode a multi-worker process uses: one pure decision, shared by both apps.

/** `listen.workerSockets` as written in config. */
export type WorkerSocketsSetting = 'auto' | 'shared' | 'reuseport';

/** What a worker passes to `DnsServer` (`exclusive`, `reusePort`). */
export interface ListenSocketOptions {
  exclusive: boolean;
  reusePort: boolean;
}

export interface SocketModeInput {
  workers: number;
  setting: WorkerSocketsSetting;
  port: number;
  /** `process.versions.node`. */
  nodeVersion: string;
  /** `process.platform`. */
  platform: string;
  /** The runtime this process is on; default `node`. */
  runtime?: 'node' | 'bun';
}

/**
 * `SO_REUSEPORT` for Node's dgram and net listeners arrived in Node 22.12 and 23.1; earlier
 * versions ignore the option (and a second worker would then fail with EADDRINUSE).
 */
export function supportsReusePort(nodeVersion: string, platform: string): boolean {
  if (platform !== 'linux') return false;
  const [major, minor] = nodeVersion.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/**
 * The socket mode of a multi-worker process, or an error naming the setting.
 * - `shared`: the cluster primary binds one UDP socket and one TCP listener and every
 *   worker reads them (every Node version; each datagram goes to whichever worker reads
 *   it first, TCP connections are handed out round-robin).
 * - `reuseport`: each worker binds its own sockets with SO_REUSEPORT and the kernel spreads
 *   clients over them by source address and port (Node >= 22.12 on Linux; needs a fixed
 *   port, since with port 0 every worker would get a different one).
 * - `auto`: `reuseport` where it is supported and the port is fixed, else `shared`.
 */
export function workerSocketMode(input: SocketModeInput): 'shared' | 'reuseport' | Error {
  if (input.runtime === 'bun' && input.port === 0) {
    // Bun cannot pass a socket from the primary to a worker: every worker binds its own
    // with SO_REUSEPORT whatever the setting, and port 0 would give each a port of its own —
    // a server split over ports nobody was told about, not one server.
    return new Error(
      `listen.workers: ${input.workers} on Bun needs a fixed listen.port (Bun cannot share one socket between workers; with port 0 each worker would get its own port)`,
    );
  }
  const supported = supportsReusePort(input.nodeVersion, input.platform);
  if (input.setting === 'shared') return 'shared';
  if (input.setting === 'reuseport') {
    if (!supported) {
      return new Error(
        `listen.workerSockets: "reuseport" needs Node >= 22.12 on Linux (this is Node ${input.nodeVersion} on ${input.platform}); use "shared" or "auto"`,
      );
    }
    if (input.port === 0) {
      return new Error(
        'listen.workerSockets: "reuseport" needs a fixed listen.port (with port 0 each worker would get its own port)',
      );
    }
    return 'reuseport';
  }
  return supported && input.port !== 0 ? 'reuseport' : 'shared';
}

/**
 * `DnsServer` socket options for this process: exclusive sockets of its own when it runs
 * alone (workers = 1) or in `reuseport` mode; the primary's shared sockets in `shared` mode.
 */
export function listenSocketOptions(mode: 'single' | 'shared' | 'reuseport'): ListenSocketOptions {
  if (mode === 'shared') return { exclusive: false, reusePort: false };
  if (mode === 'reuseport') return { exclusive: true, reusePort: true };
  return { exclusive: true, reusePort: false };
}

/** How this process serves, given `listen.workers`: alone, as the primary, or as a worker. */
export type WorkerPlan =
  | { role: 'single'; sockets: ListenSocketOptions }
  | { role: 'primary'; mode: 'shared' | 'reuseport' }
  | { role: 'worker'; mode: 'shared' | 'reuseport'; sockets: ListenSocketOptions };

export interface ListenWorkersConfig {
  port: number;
  workers: number;
  workerSockets: WorkerSocketsSetting;
}

/** Pure: the plan for a process that is (`isPrimary`) or is not a cluster primary. */
export function planWorkers(
  listen: ListenWorkersConfig,
  runtime: { isPrimary: boolean; nodeVersion: string; platform: string; runtime?: 'node' | 'bun' },
): WorkerPlan | Error {
  if (listen.workers <= 1) return { role: 'single', sockets: listenSocketOptions('single') };
  const mode = workerSocketMode({
    workers: listen.workers,
    setting: listen.workerSockets,
    port: listen.port,
    nodeVersion: runtime.nodeVersion,
    platform: runtime.platform,
    runtime: runtime.runtime,
  });
  if (mode instanceof Error) return mode;
  return runtime.isPrimary
    ? { role: 'primary', mode }
    : { role: 'worker', mode, sockets: listenSocketOptions(mode) };
}
