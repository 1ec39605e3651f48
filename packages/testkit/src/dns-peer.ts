import dgram from 'node:dgram';
import net from 'node:net';

/** One query as a scripted DNS peer receives it, and the ways to answer it. */
export interface PeerQuery {
  /** The message as received (a copy the script may keep or change). */
  bytes: Buffer;
  transport: 'udp' | 'tcp';
  /** Sends `reply` to the asker now (UDP: to its address and port; TCP: length-prefixed). */
  send(reply: Uint8Array): void;
  /** Sends `reply` after `ms`; a pending send is dropped when the peer closes. */
  sendLater(ms: number, reply: Uint8Array): void;
}

export interface DnsPeer {
  port: number;
  close(): Promise<void>;
}

/**
 * A DNS server whose every answer a test script decides: UDP and TCP on one kernel-chosen
 * port of `host` (a real server's shape, so a client may retry over TCP on the same port).
 * The socket loop only: `onQuery` sees each message, decoded or not, and replies any number
 * of times, or never. The fake upstreams of the authority's tests and the reliability
 * campaign's fault upstream are scripts on top of it.
 */
export async function startDnsPeer(
  onQuery: (query: PeerQuery) => void,
  host = '127.0.0.1',
): Promise<DnsPeer> {
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, f: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      f();
    }, ms);
    timers.add(t);
  };
  const deliver = (bytes: Buffer, transport: PeerQuery['transport'], send: PeerQuery['send']) =>
    onQuery({ bytes, transport, send, sendLater: (ms, reply) => later(ms, () => send(reply)) });

  const tcp = net.createServer((socket) => {
    let buf = Buffer.alloc(0);
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = Buffer.from(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + msg.length);
        deliver(msg, 'tcp', (reply) => {
          if (socket.destroyed) return;
          const head = Buffer.alloc(2);
          head.writeUInt16BE(reply.length);
          socket.write(Buffer.concat([head, reply]));
        });
      }
    });
  });
  // A UDP port the kernel picked may be taken on TCP: try a few times.
  const family = host.includes(':') ? 'udp6' : 'udp4';
  for (let attempt = 0; attempt < 10; attempt++) {
    const udp = dgram.createSocket(family);
    udp.on('error', () => {});
    udp.on('message', (msg, peer) =>
      deliver(msg, 'udp', (reply) => udp.send(reply, peer.port, peer.address)),
    );
    await new Promise<void>((r) => udp.bind(0, host, r));
    const port = udp.address().port;
    const ok = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, host, () => resolve(true));
    });
    if (!ok) {
      udp.close();
      continue;
    }
    return {
      port,
      async close() {
        for (const t of timers) clearTimeout(t);
        udp.close();
        await new Promise<void>((r) => tcp.close(() => r()));
      },
    };
  }
  throw new Error(`startDnsPeer: no port free on ${host} for both UDP and TCP after 10 tries`);
}
