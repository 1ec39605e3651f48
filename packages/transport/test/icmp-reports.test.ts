import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientCounters, DnsClient, DnsQueryError, DnsServer } from '../src/index.js';
import { isIcmpReport, sendManyPastIcmpReports } from '../src/server/udp-bun.js';
import { runningOnBun } from '../src/server/udp-listener.js';
import { testZoneHandler } from './support/test-zone.js';

// An ICMP port unreachable about one datagram must not cost anybody else theirs. On Bun the
// sockets have IP_RECVERR on, and Linux hands the pending error to the NEXT send on the
// socket, which then does not leave: before the fix, clients that closed their port before
// the reply (what a stub does after its own timeout, or a spoofed source does on purpose)
// made the server drop whole batches of other clients' replies (51 % of a victim's answers
// here), and a fan-out to a cluster whose gateway port is closed failed the query sent next
// to a healthy cluster. On Node (no IP_RECVERR) both hold trivially; the Bun row of the
// runtime matrix (scripts/test-bun.sh) is the one that can fail.

const HOST = '127.0.0.1';
const onBun = runningOnBun();

function query(id: number, name = 'a.example.test'): Buffer {
  const labels = name.split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, HOST, r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('ICMP reports about one client never cost other clients their replies', () => {
  const server = new DnsServer({
    host: HOST,
    port: 0,
    // The test's client sends from this process in bursts: both ends get large buffers, so
    // what is measured is what the server does with its replies, not this process' reading.
    recvBufferSize: 4 << 20,
    handler: (q) => {
      const reply = Buffer.from(q);
      reply[2] |= 0x80;
      return reply;
    },
  });
  let port = 0;
  beforeAll(async () => {
    port = (await server.listen()).port;
  });
  afterAll(() => server.close({ drainMs: 100 }));

  it('a victim gets every reply while another client keeps closing its port', async () => {
    const victim = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    await new Promise<void>((r) => victim.bind(0, HOST, r));
    const answered = new Set<number>();
    victim.on('message', (m: Buffer) => answered.add(m.readUInt16BE(0)));
    const sendErrors = server.counters.sendErrors;
    let sent = 0;
    // Bounded: 300 rounds of 20 victim queries and one query from a socket closed at once.
    for (let round = 0; round < 300; round++) {
      for (let k = 0; k < 20; k++) victim.send(query(sent++), port, HOST);
      const gone = dgram.createSocket('udp4');
      await new Promise<void>((r) => gone.bind(0, HOST, r));
      gone.send(query(0xffff), port, HOST, () => gone.close());
      if (round % 10 === 9) await new Promise((r) => setTimeout(r, 1));
    }
    const deadline = Date.now() + 5000;
    while (answered.size < sent && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    victim.close();
    expect(sent - answered.size).toBe(0);
    // Not counted as our failures; on Bun counted as what they are.
    expect(server.counters.sendErrors).toBe(sendErrors);
    if (onBun) expect(server.counters.udpIcmpReports).toBeGreaterThan(0);
    else expect(server.counters.udpIcmpReports).toBe(0);
  });
});

describe('DnsClient: a closed upstream port does not fail the query sent next to another', () => {
  const upstream = new DnsServer({ host: HOST, port: 0, handler: testZoneHandler([]) });
  let live = 0;
  let dead = 0;
  beforeAll(async () => {
    live = (await upstream.listen()).port;
    dead = await closedPort();
  });
  afterAll(() => upstream.close({ drainMs: 100 }));

  const backends = onBun ? (['node', 'bun'] as const) : (['node'] as const);
  it.each(backends)('udpBackend %s: every query to the live upstream is answered', async (b) => {
    const client = new DnsClient({ sockets: 1, udpBackend: b });
    const reports = clientCounters.icmpReports;
    const failures: string[] = [];
    // A fan-out's shape: in one turn, the dead cluster first, then the live one. Bounded.
    for (let i = 0; i < 15; i++) {
      const toDead = client
        .query({ host: HOST, port: dead, name: `d${i}.example.test`, type: 'A', timeoutMs: 150 })
        .catch((e: unknown) => e);
      const toLive = client
        .query({ host: HOST, port: live, name: `n${i}.example.test`, type: 'A', timeoutMs: 2000 })
        .catch((e: unknown) => {
          failures.push(e instanceof DnsQueryError ? `${e.kind}: ${e.message}` : String(e));
        });
      await Promise.all([toDead, toLive]);
    }
    client.close();
    expect(failures).toEqual([]);
    if (onBun) expect(clientCounters.icmpReports).toBeGreaterThan(reports);
    else expect(clientCounters.icmpReports).toBe(reports);
  });
});

describe('sendManyPastIcmpReports', () => {
  const report = Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
  /** A socket whose calls play a script: a number sends that many, an error throws it. */
  const scripted = (script: (number | Error)[]) => {
    const calls: number[] = [];
    return {
      calls,
      sendMany(packets: readonly unknown[]) {
        calls.push(packets.length / 3);
        const step = script.shift() ?? packets.length / 3;
        if (step instanceof Error) throw step;
        return Math.min(step, packets.length / 3);
      },
    };
  };
  const packets = (n: number) =>
    Array.from({ length: n }, (_, i) => [new Uint8Array([i]), 53, HOST]).flat();

  it('sends the rest again past a report that stopped the call at its first datagram', () => {
    const s = scripted([report]);
    expect(sendManyPastIcmpReports(s, packets(5))).toEqual({ sent: 5, failed: null });
    expect(s.calls).toEqual([5, 5]);
  });

  it('sends the rest again past a report that cut the call short', () => {
    const s = scripted([2]);
    expect(sendManyPastIcmpReports(s, packets(5))).toEqual({ sent: 5, failed: null });
    expect(s.calls).toEqual([5, 3]);
  });

  it('a full buffer (nothing sent, or EAGAIN after a short count) leaves the rest for drain', () => {
    expect(sendManyPastIcmpReports(scripted([2, 0]), packets(5))).toEqual({
      sent: 2,
      failed: null,
    });
    const again = Object.assign(new Error('again'), { code: 'EAGAIN' });
    expect(sendManyPastIcmpReports(scripted([3, again]), packets(5))).toEqual({
      sent: 3,
      failed: null,
    });
  });

  it('any other error stops it, naming what was sent', () => {
    const other = Object.assign(new Error('too big'), { code: 'EMSGSIZE' });
    expect(sendManyPastIcmpReports(scripted([1, other]), packets(3))).toEqual({
      sent: 1,
      failed: other,
    });
  });

  it('is bounded: reports past the list length stop it', () => {
    const s = scripted(Array.from({ length: 10 }, () => report));
    const out = sendManyPastIcmpReports(s, packets(2));
    expect(out.sent).toBe(0);
    expect(out.failed).toBe(report);
    expect(s.calls.length).toBe(3);
  });

  it('isIcmpReport: the errno values Linux gives ICMP errors, nothing else', () => {
    for (const code of ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH']) {
      expect(isIcmpReport({ code })).toBe(true);
    }
    for (const value of [{ code: 'EMSGSIZE' }, { code: 'EAGAIN' }, null, undefined, 'x']) {
      expect(isIcmpReport(value)).toBe(false);
    }
  });
});
