import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { ipLiteralLookup } from '../ip-lookup.js';

/** Which UDP socket implementation a `DnsServer` uses (see `DnsServerOptions.udpBackend`). */
export type UdpBackend = 'node' | 'bun';

/** One received datagram: the bytes (may be a view) and where it came from. */
export type UdpReceive = (message: Uint8Array, address: string, port: number) => void;

/** What `DnsServer` needs from a bound UDP socket, whichever runtime provides it. */
export interface UdpListener {
  readonly backend: UdpBackend;
  readonly port: number;
  /** Hands one reply to the socket; throws when the socket is already closed. */
  send(reply: Uint8Array, port: number, address: string): void;
  /** Sends what is still queued, then closes. */
  close(): Promise<void>;
}

export interface UdpBindRequest {
  host: string;
  port: number;
  recvBufferSize?: number;
  sendBufferSize?: number;
  reusePort: boolean;
  /** false: share the cluster primary's socket (see DnsServerOptions.exclusive). */
  exclusive: boolean;
  receive: UdpReceive;
  /** An asynchronous socket error (a failed send: EMSGSIZE, ENOBUFS...). */
  onError: () => void;
  /** An ICMP error about an earlier reply (Bun only: `isIcmpReport`); nothing was lost. */
  onIcmpReport: () => void;
}

/** True when this process runs on Bun (whose `Bun.udpSocket` batches replies). */
export function runningOnBun(): boolean {
  return typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined';
}

/**
 * The backend for a server: `auto` is Bun's own UDP socket on Bun and `node:dgram`
 * everywhere else (Bun also runs `node:dgram`, which is how `node` can be forced there).
 */
export function chooseUdpBackend(
  setting: 'auto' | UdpBackend,
  onBun: boolean,
  owner = 'DnsServer',
): UdpBackend {
  if (setting === 'bun' && !onBun) {
    throw new Error(`${owner}: udpBackend "bun" needs the Bun runtime`);
  }
  if (setting === 'auto') return onBun ? 'bun' : 'node';
  return setting;
}

/** `node:dgram`: the default on Node. Replies go out one `send` each. */
export function bindNodeUdp(req: UdpBindRequest): Promise<UdpListener> {
  const options: dgram.SocketOptions & { reusePort?: boolean } = {
    type: isIPv6(req.host) ? 'udp6' : 'udp4',
    recvBufferSize: req.recvBufferSize,
    sendBufferSize: req.sendBufferSize,
    // Replies go to `rinfo` addresses: sent inside `send`, not a tick later (ip-lookup.ts).
    lookup: ipLiteralLookup,
  };
  // Node < 22.12 does not know the option and ignores it.
  if (req.reusePort) options.reusePort = true;
  const udp = dgram.createSocket(options);
  return new Promise((resolve, reject) => {
    const onBindError = (error: Error) => {
      udp.close();
      reject(error);
    };
    udp.once('error', onBindError);
    udp.bind({ address: req.host, port: req.port, exclusive: req.exclusive }, () => {
      udp.off('error', onBindError);
      udp.on('message', (msg, rinfo) => req.receive(msg, rinfo.address, rinfo.port));
      // A failed send must not take the process down.
      udp.on('error', req.onError);
      resolve({
        backend: 'node',
        port: udp.address().port,
        // Node sends a Uint8Array view without copying; async failures arrive as 'error' events.
        send: (reply, port, address) => udp.send(reply, port, address),
        close: () => new Promise<void>((done) => udp.close(() => done())),
      });
    });
  });
}
