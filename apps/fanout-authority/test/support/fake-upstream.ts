import dgram from 'node:dgram';
import net from 'node:net';
import { type DnsRecord, decode, encode } from '@mdns/protocol';

/**
 * A scriptable DNS server for the fault table: each query is answered as `script` says —
 * records with an rcode, after a delay, or a misbehaviour (silence, garbage, wrong ID,
 * wrong question, TC=1 over UDP). UDP and TCP share one port, like a real server.
 */
export type Behaviour =
  | { kind: 'answer'; rcode?: number; answers?: DnsRecord[]; delayMs?: number; soa?: boolean }
  | { kind: 'silent' }
  | { kind: 'garbage' }
  | { kind: 'wrong-id' }
  | { kind: 'wrong-question' }
  /** UDP: empty reply with TC=1; TCP: this answer. */
  | { kind: 'truncate'; answers: DnsRecord[] };

export interface FakeQuery {
  name: string;
  type: string;
  transport: 'udp' | 'tcp';
}

export type Script = (q: FakeQuery) => Behaviour;

export interface FakeUpstream {
  port: number;
  queries: FakeQuery[];
  setScript(script: Script): void;
  close(): Promise<void>;
}

export const soaRecord = (zone: string): DnsRecord => ({
  name: zone,
  type: 'SOA',
  ttl: 60,
  class: 'IN',
  data: {
    mname: `ns.${zone}`,
    rname: `host.${zone}`,
    serial: 1,
    refresh: 60,
    retry: 60,
    expire: 60,
    minimum: 30,
  },
});

function reply(
  query: Buffer,
  b: Behaviour & { kind: 'answer' | 'truncate' },
  transport: 'udp' | 'tcp',
  zone: string,
) {
  const d = decode(query);
  if (!d.ok) return null;
  const m = d.message;
  const truncated = b.kind === 'truncate' && transport === 'udp';
  const rcode = b.kind === 'answer' ? (b.rcode ?? 0) : 0;
  const answers = truncated ? [] : (b.answers ?? []);
  const negative = answers.length === 0 && (rcode === 0 || rcode === 3) && !truncated;
  return encode({
    id: m.id,
    type: 'response',
    flags: (1 << 10) | (truncated ? 1 << 9 : 0) | rcode,
    questions: m.questions,
    answers,
    authorities: negative && (b.kind !== 'answer' || b.soa !== false) ? [soaRecord(zone)] : [],
  } as never);
}

export async function startFakeUpstream(zone: string, initial: Script): Promise<FakeUpstream> {
  let script = initial;
  const queries: FakeQuery[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const respond = (query: Buffer, transport: 'udp' | 'tcp', send: (b: Uint8Array) => void) => {
    const d = decode(query);
    if (!d.ok || !d.message.questions?.length) return;
    const q = d.message.questions[0];
    const fq: FakeQuery = { name: q.name.toLowerCase(), type: String(q.type), transport };
    queries.push(fq);
    const b = script(fq);
    const later = (ms: number, f: () => void) => {
      const t = setTimeout(() => {
        timers.delete(t);
        f();
      }, ms);
      timers.add(t);
    };
    switch (b.kind) {
      case 'silent':
        return;
      case 'garbage':
        return send(Buffer.from('this is not a DNS message at all'));
      case 'wrong-id': {
        const r = reply(
          query,
          { kind: 'answer', answers: [{ name: q.name, type: 'A', ttl: 60, data: '192.0.2.66' }] },
          transport,
          zone,
        );
        if (r) {
          r[0] ^= 0xff;
          send(r);
        }
        return;
      }
      case 'wrong-question': {
        const other = Buffer.from(query);
        const dd = decode(other);
        if (!dd.ok) return;
        const m = dd.message;
        const forged = encode({
          id: m.id,
          type: 'response',
          flags: 1 << 10,
          questions: [{ name: `forged.${zone}`, type: 'A', class: 'IN' }],
          answers: [{ name: `forged.${zone}`, type: 'A', ttl: 60, data: '192.0.2.66' }],
        } as never);
        return send(forged);
      }
      default: {
        const r = reply(query, b, transport, zone);
        if (!r) return;
        const delay = b.kind === 'answer' ? (b.delayMs ?? 0) : 0;
        if (delay > 0) later(delay, () => send(r));
        else send(r);
      }
    }
  };

  const tcp = net.createServer((socket) => {
    let buf = Buffer.alloc(0);
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        respond(Buffer.from(msg), 'tcp', (b) => {
          if (socket.destroyed) return;
          const head = Buffer.alloc(2);
          head.writeUInt16BE(b.length);
          socket.write(Buffer.concat([head, b]));
        });
      }
    });
  });
  // A UDP port the kernel picked may be taken on TCP: try a few times.
  let udp: dgram.Socket | null = null;
  let port = 0;
  for (let attempt = 0; attempt < 10 && udp === null; attempt++) {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (msg, rinfo) =>
      respond(msg, 'udp', (b) => socket.send(b, rinfo.port, rinfo.address)),
    );
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    port = socket.address().port;
    const ok = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) udp = socket;
    else socket.close();
  }
  if (udp === null) throw new Error('fake upstream: no port free for both UDP and TCP');
  const boundUdp = udp;
  return {
    port,
    queries,
    setScript(s) {
      script = s;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      boundUdp.close();
      await new Promise<void>((r) => tcp.close(() => r()));
    },
  };
}

export const a = (name: string, data: string, ttl = 60): DnsRecord => ({
  name,
  type: 'A',
  ttl,
  class: 'IN',
  data,
});
