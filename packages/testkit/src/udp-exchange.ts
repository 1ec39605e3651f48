import dgram from 'node:dgram';

export interface UdpExchangeOptions {
  /** The local address to send from (any 127.0.0.0/8 address: a second "client"). Default 127.0.0.1. */
  source?: string;
  /** The server's address. Default 127.0.0.1. */
  host?: string;
  /** How long to wait for a reply. Default 2000 ms. */
  timeoutMs?: number;
  /** Which datagram counts as the reply (e.g. the one with our ID); default the first. */
  accept?: (reply: Buffer) => boolean;
}

/**
 * One datagram out, one back: sends `packet` from a fresh UDP socket to `host:port` and
 * resolves with the reply, or null after `timeoutMs` (a silent server is an outcome a test
 * may assert, not an error). The socket is closed either way.
 */
export function udpExchange(
  port: number,
  packet: Uint8Array,
  options: UdpExchangeOptions = {},
): Promise<Buffer | null> {
  const host = options.host ?? '127.0.0.1';
  return new Promise((resolve) => {
    const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const finish = (reply: Buffer | null) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    };
    const timer = setTimeout(() => finish(null), options.timeoutMs ?? 2000);
    socket.on('message', (m) => {
      if (!options.accept || options.accept(m)) finish(m);
    });
    socket.on('error', () => finish(null));
    socket.bind(0, options.source ?? (host.includes(':') ? '::1' : '127.0.0.1'), () =>
      socket.send(packet, port, host),
    );
  });
}
