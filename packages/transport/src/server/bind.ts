import type net from 'node:net';
import { bindBunUdp } from './udp-bun.js';
import {
  bindNodeUdp,
  type UdpBackend,
  type UdpBindRequest,
  type UdpListener,
} from './udp-listener.js';

/** The UDP socket's request, plus how to pick a port and which UDP backend to use. */
export interface BindRequest extends UdpBindRequest {
  attempts: number;
  backend: UdpBackend;
}

export interface BoundSockets {
  udp: UdpListener;
  tcp: net.Server;
  port: number;
}

/**
 * Bind UDP and TCP to the same address and port. With port 0 the kernel picks
 * a UDP port that may already be taken on TCP, so try again with a new one.
 */
export async function bindUdpAndTcp(req: BindRequest, tcp: net.Server): Promise<BoundSockets> {
  let lastError: unknown;
  const attempts = req.port === 0 ? Math.max(1, req.attempts) : 1;
  const bindUdp = req.backend === 'bun' ? bindBunUdp : bindNodeUdp;
  for (let attempt = 0; attempt < attempts; attempt++) {
    let udp: UdpListener;
    try {
      udp = await bindUdp(req);
    } catch (error) {
      throw bindError('udp', req.host, req.port, error);
    }
    try {
      await listenTcp(tcp, req.host, udp.port, req.reusePort, req.exclusive);
      return { udp, tcp, port: udp.port };
    } catch (error) {
      await udp.close();
      lastError = error;
      if (req.port !== 0 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
        throw bindError('tcp', req.host, udp.port, error);
      }
    }
  }
  throw bindError(
    'tcp',
    req.host,
    0,
    lastError,
    `no port free for both UDP and TCP after ${attempts} attempts`,
  );
}

function listenTcp(
  tcp: net.Server,
  host: string,
  port: number,
  reusePort: boolean,
  exclusive: boolean,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    tcp.once('error', onError);
    const options: net.ListenOptions & { reusePort?: boolean } = { host, port, exclusive };
    if (reusePort) options.reusePort = true;
    tcp.listen(options, () => {
      tcp.off('error', onError);
      resolve();
    });
  });
}

function bindError(
  proto: 'udp' | 'tcp',
  host: string,
  port: number,
  cause: unknown,
  detail?: string,
): Error {
  const reason = detail ?? (cause instanceof Error ? cause.message : String(cause));
  return new Error(`cannot listen on ${proto} ${host} port ${port}: ${reason}`, { cause });
}
