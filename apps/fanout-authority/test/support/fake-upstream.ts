import { type DnsRecord, decode, encode } from '@mdns/protocol';
import { startDnsPeer } from '@mdns/testkit';

/**
 * A scriptable DNS server for the fault table: each query is answered as `script` says —
 * records with an rcode, after a delay, or a misbehaviour (silence, garbage, wrong ID,
 * wrong question, TC=1 over UDP), on `@mdns/testkit`'s `startDnsPeer` (UDP and TCP on one port).
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

/** A primary's SOA at `serial` (a day's expire, so a test's copy never expires), for replica tests. */
export const primarySoa = (zone: string, serial: number): DnsRecord =>
  ({
    name: zone,
    type: 'SOA',
    class: 'IN',
    ttl: 60,
    data: { mname: 'ns', rname: 'h', serial, refresh: 3600, retry: 60, expire: 86400, minimum: 30 },
  }) as DnsRecord;

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

  const peer = await startDnsPeer(({ bytes: query, transport, send, sendLater }) => {
    const d = decode(query);
    if (!d.ok || !d.message.questions?.length) return;
    const q = d.message.questions[0];
    const fq: FakeQuery = { name: q.name.toLowerCase(), type: String(q.type), transport };
    queries.push(fq);
    const b = script(fq);
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
        const forged = encode({
          id: d.message.id,
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
        if (delay > 0) sendLater(delay, r);
        else send(r);
      }
    }
  });
  return {
    port: peer.port,
    queries,
    setScript(s) {
      script = s;
    },
    close: () => peer.close(),
  };
}

export const a = (name: string, data: string, ttl = 60): DnsRecord => ({
  name,
  type: 'A',
  ttl,
  class: 'IN',
  data,
});
