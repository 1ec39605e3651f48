import dgram from 'node:dgram';
import { type DnsRecord, decode, encode } from '@mdns/protocol';

export type Script = (
  query: Buffer,
  reply: (bytes: Uint8Array) => void,
  replyFromElsewhere: (bytes: Uint8Array) => void,
) => void;

/**
 * A UDP "server" under the test's full control: the script decides what to
 * send back, from the listening socket or from a second socket (wrong source port).
 */
export class FakeUpstream {
  private constructor(
    private readonly socket: dgram.Socket,
    private readonly elsewhere: dgram.Socket,
  ) {}

  static async start(script: Script, host = '127.0.0.1'): Promise<FakeUpstream> {
    const type = host.includes(':') ? 'udp6' : 'udp4';
    const socket = dgram.createSocket(type);
    const elsewhere = dgram.createSocket(type);
    await new Promise<void>((r) => socket.bind(0, host, () => r()));
    await new Promise<void>((r) => elsewhere.bind(0, host, () => r()));
    socket.on('message', (msg, rinfo) => {
      script(
        msg,
        (bytes) => socket.send(bytes, rinfo.port, rinfo.address),
        (bytes) => elsewhere.send(bytes, rinfo.port, rinfo.address),
      );
    });
    return new FakeUpstream(socket, elsewhere);
  }

  get port(): number {
    return this.socket.address().port;
  }

  close(): void {
    this.socket.close();
    this.elsewhere.close();
  }
}

/** A response to `query` with changes: another id, another question name/type. */
export function forgedReply(
  query: Uint8Array,
  changes: { id?: number; name?: string; type?: 'A' | 'AAAA'; address?: string } = {},
): Uint8Array {
  const d = decode(query);
  if (!d.ok) throw new Error(d.error);
  const q = d.message.questions![0];
  const name = changes.name ?? q.name;
  const type = changes.type ?? (q.type as 'A');
  const answers: DnsRecord[] = [
    { name, type: 'A', ttl: 5, class: 'IN', data: changes.address ?? '192.0.2.7' },
  ];
  return encode({
    id: changes.id ?? d.message.id,
    type: 'response',
    flags: 0x0400,
    questions: [{ name, type, class: 'IN' }],
    answers,
  });
}
