import dgram from 'node:dgram';
import net from 'node:net';

/**
 * A user-space link with a round-trip delay in front of a DNS server (UDP and TCP on the same
 * port), for tests of "a cluster in another site". This kernel has no netem, and a proxy
 * needs no privileges: it listens on loopback, forwards every datagram and every TCP chunk
 * to the target, and holds each one for half the round trip in each direction.
 */
export interface DelayProxyOptions {
  /** Where the real server listens (loopback). */
  targetHost: string;
  targetPort: number;
  /** Added round trip in ms; each direction holds a packet for half of it. */
  rttMs: number;
  /**
   * Jitter as a fraction of `rttMs` (0 <= jitter < 1, default 0): each datagram / chunk and
   * direction gets a round trip drawn uniformly from rttMs x [1 - jitter, 1 + jitter].
   */
  jitter?: number;
  /** Listen address (default 127.0.0.1); the port is always kernel-chosen. */
  host?: string;
}

export interface DelayProxy {
  /** The port clients use instead of the target's, for UDP and TCP alike. */
  port: number;
  /** Datagrams forwarded towards the target (queries), for tests that count. */
  readonly forwarded: number;
  close(): Promise<void>;
}

/**
 * The round trip for one packet: `rttMs` ± `jitter` (uniform), e.g. (150, 0.2) gives
 * 120..180. `random` is injectable so a test can make it deterministic.
 */
export function roundTripMs(rttMs: number, jitter: number, random = Math.random): number {
  return rttMs * (1 + jitter * (2 * random() - 1));
}

/** The options' problem, or null. */
export function checkDelayOptions(options: DelayProxyOptions): string | null {
  if (!(options.rttMs >= 0)) return `rttMs must be a number >= 0, got ${options.rttMs}`;
  const jitter = options.jitter ?? 0;
  if (!(jitter >= 0 && jitter < 1)) return `jitter must be 0 <= jitter < 1, got ${jitter}`;
  if (!(options.targetPort > 0 && options.targetPort < 65536)) {
    return `targetPort must be 1..65535, got ${options.targetPort}`;
  }
  return null;
}

// A client idle this long loses its upstream socket (bounded resources in long tests).
const UDP_IDLE_MS = 10_000;

export async function startDelayProxy(options: DelayProxyOptions): Promise<DelayProxy> {
  const { targetHost, targetPort } = options;
  const host = options.host ?? '127.0.0.1';
  const problem = checkDelayOptions(options);
  if (problem !== null) throw new Error(`startDelayProxy: ${problem}`);
  const { rttMs } = options;
  const jitter = options.jitter ?? 0;
  const oneWay = jitter === 0 ? () => rttMs / 2 : () => roundTripMs(rttMs, jitter) / 2;
  const family = host.includes(':') ? 'udp6' : 'udp4';
  const timers = new Set<NodeJS.Timeout>();
  const later = (fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, oneWay());
    timers.add(t);
  };
  let forwarded = 0;

  // UDP: one upstream socket per client address, so replies find their way back and the
  // target sees distinct source ports as it would behind a real link.
  let front = dgram.createSocket(family);
  const clients = new Map<string, { sock: dgram.Socket; idle: NodeJS.Timeout }>();
  const clientFor = (address: string, port: number) => {
    const key = `${address}|${port}`;
    let c = clients.get(key);
    if (c) {
      c.idle.refresh();
      return c.sock;
    }
    const sock = dgram.createSocket(family);
    sock.on('message', (msg) => later(() => front.send(msg, port, address)));
    sock.on('error', () => {});
    const idle = setTimeout(() => {
      clients.delete(key);
      sock.close();
    }, UDP_IDLE_MS);
    c = { sock, idle };
    clients.set(key, c);
    return sock;
  };
  const onQuery = (msg: Buffer, rinfo: dgram.RemoteInfo) => {
    forwarded++;
    const sock = clientFor(rinfo.address, rinfo.port);
    later(() => sock.send(msg, targetPort, targetHost));
  };
  front.on('message', onQuery);
  front.on('error', () => {});

  // TCP on the same port number: chunks keep their order (a chunk never leaves before the
  // one ahead of it, even when the jitter would say so), like a real stream.
  const sockets = new Set<net.Socket>();
  const delayedPipe = (from: net.Socket, to: net.Socket) => {
    let notBefore = 0;
    from.on('data', (chunk) => {
      const at = Math.max(notBefore, performance.now() + oneWay());
      notBefore = at;
      const t = setTimeout(() => {
        timers.delete(t);
        if (!to.destroyed) to.write(chunk);
      }, at - performance.now());
      timers.add(t);
    });
    from.on('close', () => {
      const t = setTimeout(
        () => {
          timers.delete(t);
          to.destroy();
        },
        Math.max(0, notBefore - performance.now()),
      );
      timers.add(t);
    });
    from.on('error', () => {});
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(client);
    sockets.add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    delayedPipe(client, upstream);
    delayedPipe(upstream, client);
  });
  // The UDP port the kernel picks may be taken for TCP: try again (bounded).
  let port = 0;
  for (let attempt = 0; port === 0; attempt++) {
    await new Promise<void>((resolve) => front.bind(0, host, resolve));
    const candidate = front.address().port;
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(candidate, host, () => resolve(true));
    });
    if (ok) port = candidate;
    else if (attempt >= 20) throw new Error('startDelayProxy: no port free for UDP and TCP');
    else {
      front.close();
      front = dgram.createSocket(family);
      front.on('message', onQuery);
      front.on('error', () => {});
    }
  }

  return {
    port,
    get forwarded() {
      return forwarded;
    },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const { sock, idle } of clients.values()) {
        clearTimeout(idle);
        sock.close();
      }
      clients.clear();
      for (const s of sockets) s.destroy();
      front.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
