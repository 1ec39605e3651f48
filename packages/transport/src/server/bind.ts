import dgram from 'node:dgram';
import type net from 'node:net';
import { isIPv6 } from 'node:net';

export interface BindRequest {
  host: string;
  port: number;
  recvBufferSize?: number;
  sendBufferSize?: number;
  reusePort: boolean;
  /** false: share the cluster primary's socket (see DnsServerOptions.exclusive). */
  exclusive: boolean;
  attempts: number;
}

export interface BoundSockets {
  udp: dgram.Socket;
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
  for (let attempt = 0; attempt < attempts; attempt++) {
    const udp = createUdpSocket(req);
    let port: number;
    try {
      port = await bindUdp(udp, req.host, req.port, req.exclusive);
    } catch (error) {
      udp.close();
      throw bindError('udp', req.host, req.port, error);
    }
    try {
      await listenTcp(tcp, req.host, port, req.reusePort, req.exclusive);
      return { udp, tcp, port };
    } catch (error) {
      udp.close();
      lastError = error;
      if (req.port !== 0 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
        throw bindError('tcp', req.host, port, error);
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

function createUdpSocket(req: BindRequest): dgram.Socket {
  const options: dgram.SocketOptions & { reusePort?: boolean } = {
    type: isIPv6(req.host) ? 'udp6' : 'udp4',
    recvBufferSize: req.recvBufferSize,
    sendBufferSize: req.sendBufferSize,
  };
  // Node < 22.12 does not know the option and ignores it.
  if (req.reusePort) options.reusePort = true;
  return dgram.createSocket(options);
}

function bindUdp(
  udp: dgram.Socket,
  host: string,
  port: number,
  exclusive: boolean,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    udp.once('error', onError);
    udp.bind({ address: host, port, exclusive }, () => {
      udp.off('error', onError);
      resolve(udp.address().port);
    });
  });
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
