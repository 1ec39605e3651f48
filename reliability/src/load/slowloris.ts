import net from 'node:net';

/**
 * Many idle TCP connections ("slowloris"): `idle` ones that never send a byte and
 * `trickle` ones that announce a 65535-byte message and then send one byte every
 * `trickleEveryMs`, so an idle timer that any byte resets never fires.
 */
export interface SlowlorisOptions {
  port: number;
  idle: number;
  trickle: number;
  trickleEveryMs?: number;
  /**
   * Source addresses, used in turn (any of 127.0.0.0/8). Default ['127.0.0.1']. Several let a
   * slowloris reach `maxTcpConnections` past the per-source cap, as a botnet would.
   */
  sources?: string[];
}

export interface Slowloris {
  /** Connections the server accepted (connect event) so far. */
  readonly connected: number;
  /** Connections closed or reset, by kind. */
  readonly closed: { idle: number; trickle: number };
  /** Connection attempts refused or failed. */
  readonly failed: number;
  /** Still open, by kind. */
  open(): { idle: number; trickle: number };
  stop(): void;
}

export async function startSlowloris(options: SlowlorisOptions): Promise<Slowloris> {
  const sockets: { kind: 'idle' | 'trickle'; socket: net.Socket; open: boolean }[] = [];
  const closed = { idle: 0, trickle: 0 };
  let connected = 0;
  let failed = 0;
  const timers: NodeJS.Timeout[] = [];
  const sources = options.sources ?? ['127.0.0.1'];
  let opened = 0;
  const connectOne = (kind: 'idle' | 'trickle') =>
    new Promise<void>((resolve) => {
      const socket = net.connect({
        host: '127.0.0.1',
        port: options.port,
        localAddress: sources[opened++ % sources.length],
      });
      const entry = { kind, socket, open: false };
      sockets.push(entry);
      socket.on('connect', () => {
        connected++;
        entry.open = true;
        if (kind === 'trickle') {
          socket.write(Buffer.from([0xff, 0xff]));
          const t = setInterval(() => {
            if (!socket.destroyed) socket.write(Buffer.from([0]));
          }, options.trickleEveryMs ?? 2000);
          timers.push(t);
        }
        resolve();
      });
      socket.on('error', () => {
        if (!entry.open) failed++;
        resolve();
      });
      socket.on('close', () => {
        if (entry.open) closed[kind]++;
        entry.open = false;
        resolve();
      });
    });
  // Open in batches so the accept queue is not the thing measured.
  // Tricklers first: they must get slots before the server's connection limit is reached.
  const plan: ('idle' | 'trickle')[] = [
    ...Array<'trickle'>(options.trickle).fill('trickle'),
    ...Array<'idle'>(options.idle).fill('idle'),
  ];
  for (let i = 0; i < plan.length; i += 100) {
    await Promise.all(plan.slice(i, i + 100).map(connectOne));
  }
  return {
    get connected() {
      return connected;
    },
    closed,
    get failed() {
      return failed;
    },
    open() {
      const o = { idle: 0, trickle: 0 };
      for (const s of sockets) if (s.open) o[s.kind]++;
      return o;
    },
    stop() {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.socket.destroy();
    },
  };
}
